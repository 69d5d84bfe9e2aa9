import type { DeletedInfo, KeyVersion, Page } from '../model';
import type { KmsCore } from './core';

/** Soft delete, recovery and purge, as Key Vault with soft delete on (recovery level Recoverable+Purgeable). */

export interface DeletedKey {
  latest: KeyVersion;
  deleted: DeletedInfo;
}

export function deleteKey(core: KmsCore, name: string): Promise<DeletedKey> {
  const now = core.now();
  return core.store.softDelete(name, now, now + core.recoverableDays * 86_400);
}

export function getDeletedKey(core: KmsCore, name: string): Promise<DeletedKey> {
  return core.store.getDeleted(name);
}

export function listDeletedKeys(core: KmsCore, limit: number, after?: string): Promise<Page<DeletedKey>> {
  return core.store.listDeleted(limit, after);
}

export function recoverDeletedKey(core: KmsCore, name: string): Promise<KeyVersion> {
  return core.store.recover(name);
}

export function purgeDeletedKey(core: KmsCore, name: string): Promise<void> {
  return core.store.purge(name);
}

/** Purges keys whose retention has passed (run periodically by the server). */
export function purgeExpiredKeys(core: KmsCore): Promise<string[]> {
  return core.store.purgeDue(core.now());
}
