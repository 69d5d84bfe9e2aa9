import type { SecretVersion } from '../model';
import type { SecretSnapshot } from '../store/secret-store';
import type { KmsCore } from './core';
import { openBackup, sealBackup } from './sealed-backup';

/**
 * A secret backup: every version of a secret with its value, content type, attributes and
 * tags, in a sealed envelope (sealed-backup.ts) that restores only into a KMS holding the same
 * master key.
 */

/** `POST /secrets/{name}/backup`. */
export async function backupSecret(core: KmsCore, name: string): Promise<Buffer> {
  const snapshot = await core.secrets.snapshot(name);
  return sealBackup(core, 'secret', Buffer.from(JSON.stringify(snapshot)));
}

/** `POST /secrets/restore`: under the original name; a secret of that name, live or deleted, is never overwritten. */
export async function restoreSecret(core: KmsCore, blob: Buffer): Promise<SecretVersion> {
  const plain = await openBackup(core, 'secret', blob);
  let snapshot: SecretSnapshot;
  try {
    snapshot = JSON.parse(plain.toString('utf8')) as SecretSnapshot;
  } finally {
    plain.fill(0);
  }
  return core.secrets.restore(snapshot, core.now());
}
