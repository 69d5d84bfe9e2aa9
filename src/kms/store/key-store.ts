import type { DeletedInfo, KeyMaterial, KeyVersion, NewKeyVersion, Page, RotationPolicy } from '../model';

/** A version with its sealed material opened: what backup and the release seam read. */
export interface KeyVersionWithMaterial {
  version: KeyVersion;
  material: KeyMaterial;
}

/** A key as backup carries it: every version with material, oldest first, and its rotation policy. */
export interface KeySnapshot {
  name: string;
  rotationPolicy?: RotationPolicy;
  versions: KeyVersionWithMaterial[];
}

export type DeletedKey = { latest: KeyVersion; deleted: DeletedInfo };

/**
 * Keys, their versions, soft-delete state and rotation policies, with material sealed under the
 * master key — one contract, two backends: SQLite in the state directory (the embedded
 * default, sqlite-key-store.ts) and PostgreSQL shared by replicas (postgres/key-store.ts).
 *
 * Every change is one transaction, committed before the promise resolves, so an acknowledged
 * write survives a crash. Two writers of one key (two requests, or two replicas) are serialised
 * per key: a create never lands on a key another writer just soft-deleted, a purge and a
 * recovery of one deleted key cannot both succeed, and a read that starts after a change has
 * resolved sees it. A store that cannot be reached fails the call (StoreUnavailable, 503).
 */
export interface KeyStore {
  /** Master keys, other than the one this store holds, that sealed stored material: none in a consistent state. */
  foreignMasterKeyIds(): Promise<string[]>;
  /**
   * Adds a version, creating the key when it is new. Refuses a name held by a soft-deleted key,
   * as Key Vault does. With `ifLatest`, adds it only while that version is still the key's latest
   * (KeyRotatedMeanwhile otherwise): the rotation sweeps of two replicas rotate a due key once.
   */
  addVersion(input: NewKeyVersion, created: number, ifLatest?: string): Promise<KeyVersion>;
  /** A live key's version; the latest when `version` is absent or empty. */
  get(name: string, version?: string): Promise<KeyVersion>;
  /** The version and its opened material — for crypto operations, backup and release. Never logged, never returned over HTTP. */
  getWithMaterial(name: string, version?: string): Promise<KeyVersionWithMaterial>;
  /** Replaces a version's mutable properties in one transaction; `change` sees the current state. */
  update(name: string, version: string | undefined, change: (current: KeyVersion) => Pick<KeyVersion, 'keyOps' | 'attributes' | 'tags' | 'releasePolicy'>): Promise<KeyVersion>;
  /** Live keys by name, each as its latest version. */
  listKeys(limit: number, after?: string): Promise<Page<KeyVersion>>;
  listVersions(name: string, limit: number, after?: string): Promise<Page<KeyVersion>>;
  /** Soft delete: every version stays, hidden, until recovered or purged. */
  softDelete(name: string, deletedDate: number, scheduledPurgeDate: number): Promise<DeletedKey>;
  getDeleted(name: string): Promise<DeletedKey>;
  listDeleted(limit: number, after?: string): Promise<Page<DeletedKey>>;
  recover(name: string): Promise<KeyVersion>;
  /** Permanently removes a soft-deleted key and all its versions. */
  purge(name: string): Promise<void>;
  /** Purges deleted keys whose retention has passed; returns their names. */
  purgeDue(now: number): Promise<string[]>;
  rotationPolicy(name: string): Promise<RotationPolicy | undefined>;
  setRotationPolicy(name: string, policy: RotationPolicy): Promise<RotationPolicy>;
  /** Live keys that carry a rotation policy, with their latest version (for the auto-rotation sweep). */
  keysWithRotationPolicy(): Promise<{ latest: KeyVersion; policy: RotationPolicy }[]>;
  /** Every version of a live key with its material, oldest first: what a backup seals. */
  snapshot(name: string): Promise<KeySnapshot>;
  /** Restores a backed-up key under its own name and versions; never overwrites a live or deleted key. */
  restore(snapshot: KeySnapshot, created: number): Promise<KeyVersion>;
  /** Resolves when the store answers a query; throws StoreUnavailable otherwise (the readiness check). */
  ping(): Promise<void>;
}
