import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { MasterKeyUnavailable } from '../../errors';
import { readIfExists, writeFileAtomic } from '../../lib/state-file';
import { InMemoryMasterKey, MASTER_KEY_BYTES } from './in-memory-master-key';
import type { MasterKey } from './master-key';

/**
 * The embedded default: 32 random bytes in a 0600 file, generated on first start. Refuses a
 * file that group or others can read — a copied or carelessly restored key file must not be
 * used silently.
 */
export async function openFileMasterKey(path: string): Promise<MasterKey> {
  let key = await readIfExists(path);
  if (!key) {
    await writeFileAtomic(path, randomBytes(MASTER_KEY_BYTES), 0o600);
    key = await readIfExists(path);
  }
  const mode = (await stat(path)).mode & 0o777;
  if (mode & 0o077) throw new MasterKeyUnavailable(`master key file ${path} has mode ${mode.toString(8)}; it must be 0600`, { path });
  if (!key || key.length !== MASTER_KEY_BYTES) throw new MasterKeyUnavailable(`master key file ${path} does not hold ${MASTER_KEY_BYTES} bytes`, { path });
  const secret = Buffer.from(key);
  key.fill(0);
  return new InMemoryMasterKey('file', secret);
}
