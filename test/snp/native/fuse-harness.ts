import { execFile, spawn, type ChildProcess } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ADDON_PATH } from '../../../src/snp/native';
import { loadOrCreateVirtualPki, type VirtualPki } from '../../../src/snp/virtual';

/**
 * Runs test/fixtures/fuse-sev (a FUSE filesystem answering the SEV-SNP guest ioctls) for a
 * test file, so the native addon is exercised through real syscalls. Needs /dev/fuse and root.
 */
const REPO = join(__dirname, '..', '..', '..');
const RUN_SH = join(REPO, 'test', 'fixtures', 'fuse-sev', 'run.sh');
const ADDON_SOURCE = join(REPO, 'src', 'snp', 'native', 'sevguest.cc');
const run = promisify(execFile);

/** Start-up may install apt packages and compile the daemon and the addon. */
export const FUSE_SETUP_TIMEOUT_MS = 180_000;

function fuseProblem(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (!existsSync('/dev/fuse')) return '/dev/fuse is absent';
  if (process.getuid?.() !== 0) return 'mounting needs root';
  return undefined;
}

/** describe() for suites that need the daemon: skipped where FUSE cannot be used, but failed under CI, where it must be. */
export function describeWithFuse(name: string, body: () => void): void {
  const problem = fuseProblem();
  if (!problem) {
    describe(name, body);
  } else if (process.env.CI) {
    describe(name, () => {
      it('has FUSE available', () => {
        throw new Error(`CI needs the FUSE sev-guest daemon, but ${problem}`);
      });
    });
  } else {
    describe.skip(`${name} (no FUSE: ${problem})`, body);
  }
}

/**
 * Builds the addon when it is missing or older than its source, so the tests never exercise a
 * stale binary. Parallel jest workers take turns through flock and re-check inside the lock.
 */
export async function ensureAddon(): Promise<void> {
  const script = '[ -f "$1" ] && [ ! "$2" -nt "$1" ] || npm run --silent build:native >/dev/null';
  await run('flock', [join(tmpdir(), 'skr-sevguest-build.lock'), 'sh', '-c', script, 'sh', ADDON_PATH, ADDON_SOURCE], { cwd: REPO });
}

export interface VirtualState {
  /** The virtual device's PKI, as `skr virtual init` creates it: the daemon signs with its VCEK. */
  pki: VirtualPki;
  vcekPublicKey: KeyObject;
  /** report-template.bin: the device's report with REPORT_DATA, VMPL and signature zeroed. */
  template: Buffer;
  /** cert-table.bin: VCEK, ASK and ARK, larger than one page. */
  certTable: Buffer;
}

/** Creates the virtual PKI, and with it the three files of the daemon's contract, in `<stateDir>/virtual/`. */
export async function writeVirtualState(stateDir: string): Promise<VirtualState> {
  const pki = await loadOrCreateVirtualPki(stateDir);
  const template = await readFile(join(pki.dir, 'report-template.bin'));
  return { pki, vcekPublicKey: pki.vcek.cert.publicKey, template, certTable: Buffer.from(pki.certTable) };
}

export interface DaemonStats {
  requests: number;
  failures: number;
  pending: number;
  maxInflight: number;
}

export interface FuseSev extends VirtualState {
  mount: string;
  stateDir: string;
  /** <mount>/sev-guest and <mount>/sev. */
  guestPath: string;
  legacyPath: string;
  /** Writes one command to <mount>/control: "fw_error=0x16", "vmm_error=2 count=3", "clear". */
  control(command: string): Promise<void>;
  stats(): Promise<DaemonStats>;
  /** Stops the daemon (SIGTERM) and serves the same mount again: descriptors opened before are dead. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

async function waitForMount(child: ChildProcess, file: string, log: () => string): Promise<void> {
  const deadline = Date.now() + FUSE_SETUP_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`fuse-sev exited (${child.exitCode ?? child.signalCode}): ${log()}`);
    if (
      await stat(file).then(
        () => true,
        () => false,
      )
    )
      return;
    if (Date.now() > deadline) throw new Error(`fuse-sev did not mount ${file}: ${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function serve(mount: string, stateDir: string): { child: ChildProcess; ready: Promise<void> } {
  // run.sh execs the daemon, so this child is the daemon and SIGTERM reaches it.
  const child = spawn('bash', [RUN_SH, mount, stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, ready: waitForMount(child, join(mount, 'sev-guest'), () => output.trim()) };
}

async function terminate(child: ChildProcess, mount: string): Promise<void> {
  child.kill('SIGTERM');
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref());
  if ((await Promise.race([exited(child).then(() => 'exited' as const), timer])) === 'timeout') {
    child.kill('SIGKILL');
    await exited(child);
  }
  // A clean exit unmounts; after SIGKILL (or a crash) the dead mount must be detached.
  await run('umount', ['-l', mount]).catch(() => undefined);
}

/** Serves a FUSE sev-guest signing with the virtual PKI of `sharedStateDir` (a fresh one when absent). */
export async function startFuseSev(sharedStateDir?: string): Promise<FuseSev> {
  await ensureAddon();
  const root = await mkdtemp(join(tmpdir(), 'skr-fuse-sev-'));
  const mount = join(root, 'mnt');
  const stateDir = sharedStateDir ?? join(root, 'state');
  await mkdir(mount);
  const state = await writeVirtualState(stateDir);
  let current = serve(mount, stateDir);
  try {
    await current.ready;
  } catch (err) {
    await terminate(current.child, mount);
    await rm(root, { recursive: true, force: true });
    throw err;
  }
  const controlPath = join(mount, 'control');
  return {
    ...state,
    mount,
    stateDir,
    guestPath: join(mount, 'sev-guest'),
    legacyPath: join(mount, 'sev'),
    control: (command) => writeFile(controlPath, command),
    async stats() {
      const text = await readFile(controlPath, 'utf8');
      const field = (name: string) => Number(new RegExp(`${name}=(\\d+)`).exec(text)?.[1]);
      return { requests: field('requests'), failures: field('failures'), pending: field('pending'), maxInflight: field('max_inflight') };
    },
    async restart() {
      await terminate(current.child, mount);
      current = serve(mount, stateDir);
      await current.ready;
    },
    async stop() {
      await terminate(current.child, mount);
      await rm(root, { recursive: true, force: true });
    },
  };
}
