import { readFile } from 'node:fs/promises';
import { InvalidArgument } from '../errors';

/**
 * ACI starts containers as root and allows no other security context; the sidecar needs root
 * only to open the TEE device. Once the device is open and every module is loaded, it becomes
 * an unprivileged user (default `nobody`), dropping supplementary groups first.
 */
export async function dropPrivileges(user: string): Promise<{ uid: number; gid: number } | undefined> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const passwd = await readFile('/etc/passwd', 'utf8');
  const entry = passwd.split('\n').map((line) => line.split(':')).find((fields) => fields[0] === user || fields[2] === user);
  if (!entry) throw new InvalidArgument(`user ${user} does not exist`);
  const uid = Number(entry[2]);
  const gid = Number(entry[3]);
  // `--user root` is the operator saying "stay root" (the self-hosted contract's local run): honoured, not guessed at.
  if (uid === 0) return undefined;
  process.setgroups!([gid]);
  process.setgid!(gid);
  process.setuid!(uid);
  if (process.getuid() !== uid || process.geteuid!() !== uid) throw new Error('privileges were not dropped');
  return { uid, gid };
}
