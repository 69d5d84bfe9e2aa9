import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { chmod, lstat, mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StateDirUnsafe } from '../errors';

/**
 * Writes a file so that a crash leaves either the old or the new content, never a torn one:
 * write a temporary sibling, fsync it, rename over the target, fsync the directory.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'w', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Reads a file, or undefined when it does not exist. */
export async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * A random secret (admin token, identity header) generated once and kept 0600 at `path`. The
 * file holds the secret and nothing else (no newline), so its contents can be sent as a header
 * value as they are; a file written with a newline, or with a wider mode, is put right.
 */
export async function loadOrCreateSecret(path: string): Promise<string> {
  const raw = (await readIfExists(path))?.toString();
  const existing = raw?.trim();
  if (existing) {
    if (existing !== raw) await writeFileAtomic(path, existing, 0o600);
    else await chmod(path, 0o600);
    return existing;
  }
  const secret = randomBytes(32).toString('base64url');
  await writeFileAtomic(path, secret, 0o600);
  return secret;
}

/**
 * Creates `path` 0600 if it does not exist, and narrows it and its `companions` (files a library
 * creates beside it, like SQLite's -wal and -shm, which take the main file's mode) to 0600 if
 * they do: for files a library would otherwise create with its own default mode. Synchronous,
 * for the opening of a database at start-up.
 */
export function makePrivateSync(path: string, companions: string[] = []): void {
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
  for (const companion of companions) if (existsSync(companion)) chmodSync(companion, 0o600);
}

/**
 * Makes sure `dir` is a state directory only its owner controls before anything is read from or
 * written to it: created 0700 when missing; refused when it is a symbolic link, is not a
 * directory, belongs to another user, or sits in a directory others may rename it out of (writable
 * by group or others without the sticky bit). Group and other bits are taken away from one of our
 * own (group search stays: the sidecar grants it to the account it drops to).
 */
export async function ensurePrivateStateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const link = await lstat(dir);
  if (link.isSymbolicLink()) throw new StateDirUnsafe(dir, 'is a symbolic link');
  if (!link.isDirectory()) throw new StateDirUnsafe(dir, 'is not a directory');
  const uid = process.getuid?.();
  if (uid !== undefined && link.uid !== uid) throw new StateDirUnsafe(dir, `belongs to uid ${link.uid}, not to this process (uid ${uid})`);
  const parent = await stat(dirname(dir));
  if ((parent.mode & 0o022) !== 0 && (parent.mode & 0o1000) === 0) throw new StateDirUnsafe(dir, 'is inside a directory others may write without the sticky bit');
  const wider = link.mode & 0o067;
  if (wider !== 0) {
    await chmod(dir, link.mode & 0o710);
    process.stderr.write(`skr: state directory ${dir} was open to group or others (mode ${(link.mode & 0o777).toString(8)}); narrowed to ${(link.mode & 0o710).toString(8)}\n`);
  }
}
