import { chmod, chown, lstat, mkdir, readdir, stat } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgument } from '../errors';

export interface Account {
  uid: number;
  gid: number;
}

/** The unprivileged account `user` (a name or a numeric uid) from /etc/passwd; none for root (stay root). */
export async function lookupAccount(user: string): Promise<Account | undefined> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  const entry = passwd
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[0] === user || fields[2] === user);
  if (!entry) throw new InvalidArgument(`user ${user} does not exist`);
  const uid = Number(entry[2]);
  const gid = Number(entry[3]);
  // `--user root` is the operator saying "stay root" (the self-hosted contract's local run): honoured, not guessed at.
  if (uid === 0) return undefined;
  return { uid, gid };
}

export const runningAsRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

async function chownTree(path: string, account: Account): Promise<void> {
  const info = await lstat(path);
  // Symbolic links are left alone: following one would hand over whatever it points at.
  if (info.isSymbolicLink()) return;
  await chown(path, account.uid, account.gid);
  if (info.isDirectory()) for (const name of await readdir(path)) await chownTree(join(path, name), account);
}

/**
 * Makes `dir` (inside `stateDir`) the account's own before the drop, so what the sidecar writes
 * afterwards (the VCEK cache) is written by that account, never by root. The state directory
 * itself stays root's: it only gains group search for the account's group, enough to reach
 * `dir` by name; its root-owned files (the virtual device's keys, 0600) stay out of reach — they
 * were read before the drop. The state directory's parents must be searchable by the account.
 */
export async function handOver(stateDir: string, dir: string, account: Account): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chownTree(dir, account);
  const state = await stat(stateDir);
  if (state.uid === account.uid) return;
  if (state.gid !== account.gid) await chown(stateDir, state.uid, account.gid);
  await chmod(stateDir, (state.mode & 0o7777) | 0o010);
}

/**
 * ACI starts containers as root and allows no other security context; the sidecar needs root
 * only to open the TEE device (and read its state). Once the device is open and every module is
 * loaded, it becomes the unprivileged account, dropping supplementary groups first.
 */
export function dropPrivileges(account: Account): void {
  process.setgroups!([account.gid]);
  process.setgid!(account.gid);
  process.setuid!(account.uid);
  if (process.getuid!() !== account.uid || process.geteuid!() !== account.uid) throw new Error('privileges were not dropped');
}
