import { SqliteAuditStore, type AuditStore } from '../audit/store';
import type { MasterKey } from '../vault';
import { openDatabase, type Db } from './database';
import type { KeyStore } from './key-store';
import { KEY_STORE_MIGRATIONS } from './migrations';
import { PostgresAuditStore } from './postgres/audit-store';
import { PostgresDatabase } from './postgres/database';
import { PostgresKeyStore } from './postgres/key-store';
import { PostgresRoleStore } from './postgres/role-store';
import { PostgresSecretStore } from './postgres/secret-store';
import type { RoleStore } from './role-store';
import type { SecretStore } from './secret-store';
import { SqliteKeyStore } from './sqlite-key-store';
import { SqliteRoleStore } from './sqlite-role-store';
import { SqliteSecretStore } from './sqlite-secret-store';
import type { StoreLocation } from './store-url';

/** The state directory's SQLite files: the keys and roles (by default) and the audit log. */
export interface StateFiles {
  keys: string;
  audit: string;
}

export interface OpenedStore {
  keys: KeyStore;
  /** The secrets, in the keys' database. */
  secrets: SecretStore;
  audit: AuditStore;
  /** The role assignments, in the same store as the keys. */
  roles: RoleStore;
  close(): Promise<void>;
}

const openKeysDb = (path: string): Db => openDatabase(path, { synchronous: 'FULL', migrations: KEY_STORE_MIGRATIONS });

/** Opens a PostgreSQL store, closing the pool again when `open` fails (unreachable, or a schema newer than this code). */
async function withPostgres<T>(url: string, open: (db: PostgresDatabase) => Promise<T>): Promise<{ db: PostgresDatabase; opened: T }> {
  const db = new PostgresDatabase({ url });
  try {
    return { db, opened: await open(db) };
  } catch (error) {
    await db.close();
    throw error;
  }
}

/**
 * Opens the KMS's store where `location` says, migrating its schemas: keys (and secrets) and audit in SQLite
 * files (keys at the location, audit in the state directory), or both in one PostgreSQL
 * database. The role assignments are kept with the keys, so replicas on one PostgreSQL share them.
 */
export async function openKmsStore(location: StoreLocation, master: MasterKey, files: StateFiles): Promise<OpenedStore> {
  if (location.kind === 'sqlite') {
    const db = openKeysDb(location.path);
    const audit = SqliteAuditStore.open(files.audit);
    return {
      keys: new SqliteKeyStore(db, master),
      secrets: new SqliteSecretStore(db, master),
      audit,
      roles: new SqliteRoleStore(db),
      close: async () => {
        db.close();
        await audit.close();
      },
    };
  }
  const { db, opened } = await withPostgres(location.url, async (pg) => ({
    keys: await PostgresKeyStore.open(pg, master),
    secrets: new PostgresSecretStore(pg, master),
    audit: await PostgresAuditStore.open(pg),
    roles: await PostgresRoleStore.open(pg),
  }));
  return {
    ...opened,
    close: async () => {
      await opened.audit.close();
      await db.close();
    },
  };
}

/** The audit log alone, where `location` keeps it (for `skr kms audit` and `skr kms role`); closing it closes its database. */
export async function openAuditStore(location: StoreLocation, files: StateFiles): Promise<AuditStore> {
  if (location.kind === 'sqlite') return SqliteAuditStore.open(files.audit);
  return (await withPostgres(location.url, (pg) => PostgresAuditStore.open(pg, { ownsDatabase: true }))).opened;
}

/** The role assignments alone, where `location` keeps them (for `skr kms role`), with the function that closes their database. */
export async function openRoleStore(location: StoreLocation): Promise<{ roles: RoleStore; close(): Promise<void> }> {
  if (location.kind === 'sqlite') {
    const db = openKeysDb(location.path);
    return { roles: new SqliteRoleStore(db), close: () => Promise.resolve(void db.close()) };
  }
  const { db, opened } = await withPostgres(location.url, (pg) => PostgresRoleStore.open(pg));
  return { roles: opened, close: () => db.close() };
}
