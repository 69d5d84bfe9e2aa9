import { SqliteAuditStore, type AuditStore } from '../audit/store';
import type { MasterKey } from '../vault';
import { openDatabase, type Db } from './database';
import type { KeyStore } from './key-store';
import { KEY_STORE_MIGRATIONS } from './migrations';
import { PostgresAuditStore } from './postgres/audit-store';
import { PostgresDatabase } from './postgres/database';
import { PostgresKeyStore } from './postgres/key-store';
import { PostgresSecretStore } from './postgres/secret-store';
import type { SecretStore } from './secret-store';
import { SqliteKeyStore } from './sqlite-key-store';
import { SqliteSecretStore } from './sqlite-secret-store';
import type { StoreLocation } from './store-url';

/** The state directory's SQLite files: the roles (and the keys, by default) and the audit log. */
export interface StateFiles {
  keys: string;
  audit: string;
}

export interface OpenedStore {
  keys: KeyStore;
  /** The secrets, in the keys' database. */
  secrets: SecretStore;
  audit: AuditStore;
  /** The SQLite database of the role assignments: the key database itself, or the state directory's when the keys are in PostgreSQL. */
  rolesDb: Db;
  close(): Promise<void>;
}

const openRolesDb = (path: string) => openDatabase(path, { synchronous: 'FULL', migrations: KEY_STORE_MIGRATIONS });

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
 * database. The role assignments stay in an SQLite file (the key database, or the state
 * directory's when the keys are in PostgreSQL).
 */
export async function openKmsStore(location: StoreLocation, master: MasterKey, files: StateFiles): Promise<OpenedStore> {
  if (location.kind === 'sqlite') {
    const db = openRolesDb(location.path);
    const audit = SqliteAuditStore.open(files.audit);
    return {
      keys: new SqliteKeyStore(db, master),
      secrets: new SqliteSecretStore(db, master),
      audit,
      rolesDb: db,
      close: async () => {
        db.close();
        await audit.close();
      },
    };
  }
  const { db, opened } = await withPostgres(location.url, async (pg) => ({ keys: await PostgresKeyStore.open(pg, master), secrets: new PostgresSecretStore(pg, master), audit: await PostgresAuditStore.open(pg) }));
  const rolesDb = openRolesDb(files.keys);
  return {
    ...opened,
    rolesDb,
    close: async () => {
      rolesDb.close();
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
