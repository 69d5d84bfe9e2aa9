import { hostname } from 'node:os';
import { join } from 'node:path';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { StateDirBusy } from '../errors';

/**
 * Services that share a state directory (replicas of one vault) must create its material once:
 * two that start together on an empty directory would each write a master key, TLS and identity
 * material of their own over the other's, and come up as two vaults. `withStartLock` runs the
 * start-up (load or create) holding `<dir>/.start.lock`, a file created exclusively: the first
 * process creates, the others wait and then load what it made. The lock is held only while
 * starting. One whose holder no longer runs on this host, or older than STALE_MS (a holder on
 * another host sharing the directory), is taken over.
 */
const LOCK_FILE = '.start.lock';
const POLL_MS = 50;
const WAIT_MS = 60_000;
const STALE_MS = 120_000;

export async function withStartLock<T>(dir: string, start: () => Promise<T>): Promise<T> {
  const path = join(dir, LOCK_FILE);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const taken = await tryTake(path);
    if (taken) break;
    const holder = await holderOf(path);
    if (holder.stale) {
      // Whoever unlinks a stale lock first wins the next exclusive create; the others retry.
      await unlink(path).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) throw new StateDirBusy(dir, holder.description);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  try {
    return await start();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}

async function tryTake(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify({ pid: process.pid, host: hostname() }));
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

async function holderOf(path: string): Promise<{ stale: boolean; description: string }> {
  let since: number;
  try {
    since = (await stat(path)).mtimeMs;
  } catch {
    // Released meanwhile: try again.
    return { stale: false, description: 'a process starting' };
  }
  let holder: { pid?: unknown; host?: unknown } = {};
  try {
    holder = JSON.parse(await readFile(path, 'utf8')) as typeof holder;
  } catch {
    // Not written yet by its creator (or never, if it died in between: then only its age counts).
  }
  const description = `pid ${String(holder.pid)} on ${String(holder.host)}`;
  if (Date.now() - since > STALE_MS) return { stale: true, description };
  if (holder.host === hostname() && typeof holder.pid === 'number' && !running(holder.pid)) return { stale: true, description };
  return { stale: false, description };
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
