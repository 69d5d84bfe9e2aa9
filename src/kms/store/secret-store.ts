import type { DeletedInfo, NewSecretVersion, Page, SecretAttributes, SecretVersion } from '../model';

/** A version with its sealed value opened: what a get of the value and a backup read. */
export interface SecretVersionWithValue {
  version: SecretVersion;
  value: string;
}

/** A secret as backup carries it: every version with its value, oldest first. */
export interface SecretSnapshot {
  name: string;
  versions: SecretVersionWithValue[];
}

export type DeletedSecret = { latest: SecretVersion; deleted: DeletedInfo };

/** The properties an update may change (Key Vault's SecretUpdateParameters). */
export type SecretChange = Pick<SecretVersion, 'contentType' | 'tags'> & { attributes: SecretAttributes };

/**
 * Secrets, their versions and soft-delete state, with every value sealed under the master key
 * — the key store's twin (key-store.ts), with the same two backends and the same guarantees:
 * every change is one transaction committed before the promise resolves; two writers of one
 * secret are serialised per secret (a set never lands on a secret just soft-deleted, a purge
 * and a recovery of one deleted secret cannot both succeed); an unreachable store fails the
 * call (StoreUnavailable, 503). Names compare case-insensitively. Values never leave except
 * through the two calls that open them.
 */
export interface SecretStore {
  /** Master keys, other than the one this store holds, that sealed stored values: none in a consistent state. */
  foreignMasterKeyIds(): Promise<string[]>;
  /** Adds a version, creating the secret when it is new; refuses a name held by a soft-deleted secret, as Key Vault does. */
  addVersion(input: NewSecretVersion, created: number): Promise<SecretVersion>;
  /** A live secret's version; the latest when `version` is absent or empty. */
  get(name: string, version?: string): Promise<SecretVersion>;
  /** The version and its opened value. */
  getWithValue(name: string, version?: string): Promise<SecretVersionWithValue>;
  /** Replaces a version's mutable properties in one transaction; `change` sees the current state. */
  update(name: string, version: string | undefined, change: (current: SecretVersion) => SecretChange): Promise<SecretVersion>;
  /** Live secrets by name, each as its latest version. */
  list(limit: number, after?: string): Promise<Page<SecretVersion>>;
  listVersions(name: string, limit: number, after?: string): Promise<Page<SecretVersion>>;
  /** Soft delete: every version stays, hidden, until recovered or purged. */
  softDelete(name: string, deletedDate: number, scheduledPurgeDate: number): Promise<DeletedSecret>;
  getDeleted(name: string): Promise<DeletedSecret>;
  listDeleted(limit: number, after?: string): Promise<Page<DeletedSecret>>;
  recover(name: string): Promise<SecretVersion>;
  /** Permanently removes a soft-deleted secret and all its versions. */
  purge(name: string): Promise<void>;
  /** Purges deleted secrets whose retention has passed; returns their names. */
  purgeDue(now: number): Promise<string[]>;
  /** Every version of a live secret with its value, oldest first: what a backup seals. */
  snapshot(name: string): Promise<SecretSnapshot>;
  /** Restores a backed-up secret under its own name and versions; never overwrites a live or deleted secret. */
  restore(snapshot: SecretSnapshot, created: number): Promise<SecretVersion>;
}
