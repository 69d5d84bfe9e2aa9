import net from 'node:net';
import { join } from 'node:path';
import { readIfExists, writeFileAtomic } from '../lib/state-file';

/**
 * The embedded stack's ports: the sidecar's is given; the others are derived from it
 * (sidecar+1 verifier, +2 KMS, +3 identity, +4 KBS) and kept in the state directory, so a restart
 * keeps its URLs (and the key policies naming them); a taken port falls back to a free one. endpoints.json, written once everything listens, is the truth.
 */
export type ServiceName = 'verifier' | 'kms' | 'identity' | 'kbs';
const OFFSETS: Record<ServiceName, number> = { verifier: 1, kms: 2, identity: 3, kbs: 4 };

async function isFree(port: number, host: string): Promise<boolean> {
  if (port <= 0 || port > 65535) return false;
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

export async function choosePorts(stateDir: string, sidecarPort: number, host: string): Promise<Record<ServiceName, number>> {
  const path = join(stateDir, 'ports.json');
  const saved = await readIfExists(path);
  const previous = saved ? (JSON.parse(saved.toString()) as Partial<Record<ServiceName, number>>) : {};
  const chosen = {} as Record<ServiceName, number>;
  for (const name of Object.keys(OFFSETS) as ServiceName[]) {
    const wanted = previous[name] ?? (sidecarPort === 0 ? 0 : sidecarPort + OFFSETS[name]);
    chosen[name] = wanted !== 0 && (await isFree(wanted, host)) ? wanted : 0;
  }
  return chosen;
}

export async function savePorts(stateDir: string, ports: Record<ServiceName, number>): Promise<void> {
  await writeFileAtomic(join(stateDir, 'ports.json'), `${JSON.stringify(ports)}\n`, 0o600);
}
