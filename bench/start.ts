import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * `npm start` as a user runs it, timed from the spawn to the first successful release of the
 * demo key: once with an empty state directory (CA, virtual PKI, KMS database, demo keys all
 * created) and once more on the state the first run left (a restart).
 */
const ROOT = resolve(__dirname, '..', '..');
const POLL_MS = 10;
const LIMIT_MS = 60_000;

function npmStart(stateDir: string): ChildProcess {
  // Under `npm run`, npm_execpath is npm's own script; run it with this node, as npm would.
  const npm = process.env.npm_execpath;
  const args = ['start', '--silent', '--', '--port', '0', '--state-dir', stateDir];
  // Its own process group, so stopping it reaches the shell and node that npm starts.
  const options = { cwd: ROOT, stdio: 'ignore' as const, detached: true };
  return npm ? spawn(process.execPath, [npm, ...args], options) : spawn('npm', args, options);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function firstRelease(stateDir: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + LIMIT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}`);
    const endpoints = await readFile(join(stateDir, 'endpoints.json'), 'utf8').then(
      (text) => JSON.parse(text) as { sidecar: string },
      () => undefined,
    );
    if (endpoints) {
      const ok = await fetch(`${endpoints.sidecar}/key/release`, { method: 'POST', body: '{"kid":"demo"}' }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
    }
    await sleep(POLL_MS);
  }
  throw new Error('no release within a minute of npm start');
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = child.exitCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r));
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    // The group is gone already.
  }
  await exited;
}

async function timedStart(stateDir: string): Promise<number> {
  const started = performance.now();
  const child = npmStart(stateDir);
  try {
    await firstRelease(stateDir, child);
    return performance.now() - started;
  } finally {
    await stop(child);
  }
}

export async function benchStart(): Promise<{ coldMs: number; restartMs: number }> {
  const stateDir = await mkdtemp(join(tmpdir(), 'skr-bench-start-'));
  try {
    const coldMs = await timedStart(stateDir);
    // A restart finds the endpoints.json of the previous run; it must not be mistaken for readiness.
    await rm(join(stateDir, 'endpoints.json'), { force: true });
    const restartMs = await timedStart(stateDir);
    return { coldMs, restartMs };
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
}
