import { execFileSync } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePrivateStateDir } from '../../src/lib/state-file';

/**
 * A state directory someone else planted or can write is refused before skr reads or writes
 * anything in it: a local user who pre-creates it could otherwise swap endpoints.json (and the
 * officer endpoint an operator sends the identity header to) or the KMS's keys.
 */
let base: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'skr-statedir-'));
});
afterEach(() => rm(base, { recursive: true, force: true }));

const nobody = (): { uid: number; gid: number } | undefined => {
  if (process.getuid?.() !== 0) return undefined;
  try {
    return { uid: Number(execFileSync('id', ['-u', 'nobody']).toString()), gid: Number(execFileSync('id', ['-g', 'nobody']).toString()) };
  } catch {
    return undefined;
  }
};

test('a missing state directory is created 0700', async () => {
  const dir = join(base, 'state');
  await ensurePrivateStateDir(dir);
  expect((await stat(dir)).mode & 0o777).toBe(0o700);
});

test('one of ours open to group and others is narrowed (group search kept)', async () => {
  const dir = join(base, 'state');
  await mkdir(dir);
  await chmod(dir, 0o777);
  await ensurePrivateStateDir(dir);
  expect((await stat(dir)).mode & 0o777).toBe(0o710);
});

test('a symbolic link, a file, or a directory inside one others may write is refused', async () => {
  const target = join(base, 'target');
  await mkdir(target);
  await symlink(target, join(base, 'link'));
  await expect(ensurePrivateStateDir(join(base, 'link'))).rejects.toMatchObject({ code: 'state_dir_unsafe' });
  const shared = join(base, 'shared');
  await mkdir(shared);
  await chmod(shared, 0o777);
  await expect(ensurePrivateStateDir(join(shared, 'state'))).rejects.toMatchObject({ code: 'state_dir_unsafe' });
  await chmod(shared, 0o1777);
  await expect(ensurePrivateStateDir(join(shared, 'state'))).resolves.toBeUndefined();
});

const asRoot = nobody() ? test : test.skip;
if (!nobody()) console.warn('skipped: planting a state directory as another user needs root and the nobody account');

asRoot('a directory another user created, even in a sticky /tmp-like parent, is refused, by skr kms too', async () => {
  const other = nobody()!;
  await chmod(base, 0o1777);
  const planted = join(base, 'planted');
  await mkdir(planted, { mode: 0o777 });
  await chown(planted, other.uid, other.gid);
  await expect(ensurePrivateStateDir(planted)).rejects.toMatchObject({ code: 'state_dir_unsafe', details: { path: planted } });
  const cli = join(__dirname, '..', '..', 'bin', 'skr.js');
  let failed: { status: number | null; stdout: string } | undefined;
  try {
    execFileSync(process.execPath, [cli, 'kms', '--state-dir', planted, '--port', '0'], { stdio: 'pipe', timeout: 30_000 });
  } catch (error) {
    const e = error as { status: number | null; stdout: Buffer };
    failed = { status: e.status, stdout: e.stdout.toString() };
  }
  expect(failed?.status).not.toBe(0);
  expect(JSON.parse(failed!.stdout)).toMatchObject({ error: { code: 'state_dir_unsafe' } });
});
