import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `skr sidecar` as the image runs it: started as root, it opens the (virtual) device and drops to
 * `--user`. Needs root and the `skr-test` account (.ci/run creates it); skipped otherwise.
 */
const BIN = join(__dirname, '..', '..', 'bin', 'skr.js');
const USER = 'skr-test';

function account(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    return { uid: Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', USER], { encoding: 'utf8' })) };
  } catch {
    return undefined;
  }
}
const target = account();
if (!target) {
  console.warn(`privilege-drop tests skipped: they need root and the "${USER}" account (useradd --system --no-create-home ${USER})`);
}
const maybe = target ? describe : describe.skip;

/** Every path under `root` with its owner. */
function walk(root: string, into = new Map<string, number>()): Map<string, number> {
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    const info = lstatSync(path);
    into.set(path, info.uid);
    if (info.isDirectory()) walk(path, into);
  }
  return into;
}

function idsOf(pid: number): { uid: string[]; gid: string[]; groups: string } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)![1]!;
  return { uid: field('Uid').split(/\s+/), gid: field('Gid').split(/\s+/), groups: field('Groups').trim() };
}

maybe('skr sidecar --device virtual --user skr-test, started as root', () => {
  let child: ChildProcess;
  let url: string;
  let stateDir: string;
  let afterStart: Map<string, number>;

  beforeAll(async () => {
    // The state directory's parent must be searchable by the account, as the image's is.
    const parent = mkdtempSync(join(tmpdir(), 'skr-drop-'));
    chmodSync(parent, 0o755);
    stateDir = join(parent, 'state');
    child = spawn(process.execPath, [BIN, 'sidecar', '--device', 'virtual', '--user', USER, '--state-dir', stateDir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    url = await new Promise<string>((resolve, reject) => {
      const poll = setInterval(() => {
        try {
          const started = JSON.parse(stdout) as { sidecar: { url: string } };
          clearInterval(poll);
          resolve(started.sidecar.url);
        } catch {
          if (child.exitCode !== null) {
            clearInterval(poll);
            reject(new Error(`skr sidecar exited ${child.exitCode}: ${stdout}${stderr}`));
          }
        }
      }, 50);
    });
    afterStart = walk(stateDir);
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  test('runs as the account: uid, gid and groups in /proc/<pid>/status', () => {
    const ids = idsOf(child.pid!);
    expect(ids.uid).toEqual(Array(4).fill(String(target!.uid)));
    expect(ids.gid).toEqual(Array(4).fill(String(target!.gid)));
    expect(ids.groups).toBe(String(target!.gid));
  });

  test('answers /status and /attest/raw and /attest/combined: the device is still usable after the drop', async () => {
    const status = await fetch(`${url}/status`);
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ message: 'Status OK', device: 'virtual' });
    const runtime = Buffer.from('privilege drop').toString('base64');
    for (let i = 0; i < 2; i++) {
      const raw = await fetch(`${url}/attest/raw`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ runtime_data: runtime }) });
      expect(raw.status).toBe(200);
      expect(((await raw.json()) as { report: string }).report).toMatch(/^[0-9a-f]{2368}$/);
      // The combined evidence carries the security context's UVM endorsement, read before the drop.
      const combined = await fetch(`${url}/attest/combined`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ runtime_data: runtime }) });
      expect(combined.status).toBe(200);
      expect(await combined.json()).toMatchObject({ evidence: expect.any(String), endorsements: expect.any(String), uvm_endorsements: expect.any(String) });
    }
  });

  test("nothing written under the state directory after the drop is owned by root; the VCEK cache is the account's", () => {
    const now = walk(stateDir);
    // The virtual device hands its VCEK over in the certificate table, so these requests may write nothing.
    const created = [...now].filter(([path]) => !afterStart.has(path));
    expect(created.filter(([, uid]) => uid !== target!.uid)).toEqual([]);
    const cache = join(stateDir, 'vcek-cache');
    expect(lstatSync(cache).uid).toBe(target!.uid);
    expect([...now].filter(([path]) => path.startsWith(cache)).every(([, uid]) => uid === target!.uid)).toBe(true);
    // The root-owned virtual keys stay out of the account's reach (read before the drop).
    const ark = lstatSync(join(stateDir, 'virtual', 'ark-key.pem'));
    expect([ark.uid, ark.mode & 0o777]).toEqual([0, 0o600]);
  });

  test('the state it uses after the drop, the VCEK cache, is reachable, writable and readable by the account', () => {
    const probe = join(stateDir, 'vcek-cache', 'vcek', 'probe.der');
    const asAccount = (script: string) =>
      execFileSync('setpriv', ['--reuid', String(target!.uid), '--regid', String(target!.gid), '--clear-groups', 'sh', '-c', script, 'sh', probe], { encoding: 'utf8' });
    expect(asAccount('mkdir -p "$(dirname "$1")" && printf cached > "$1" && cat "$1"')).toBe('cached');
    expect(lstatSync(probe).uid).toBe(target!.uid);
    // ...and nothing else of the state directory is listable by it.
    expect(() => asAccount('ls "$(dirname "$(dirname "$(dirname "$1")")")"')).toThrow();
  });
});
