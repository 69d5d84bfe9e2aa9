import type { MasterKey } from '../vault';
import { openDatabase, type Db } from './database';
import type { KeyStore } from './key-store';
import { KEY_STORE_MIGRATIONS } from './migrations';
import { PostgresDatabase } from './postgres/database';
import { PostgresKeyStore } from './postgres/key-store';
import { SqliteKeyStore } from './sqlite-key-store';
import type { StoreLocation } from './store-url';

export interface OpenedStore {
  keys: KeyStore;
  /** The SQLite database of the role assignments: the key database itself, or the state directory's when the keys are in PostgreSQL. */
  rolesDb: Db;
  /** The PostgreSQL database the keys are in, when they are. */
  postgres?: PostgresDatabase;
  close(): Promise<void>;
}

/**
 * Opens the key store where `location` says, migrating its schema. `stateDirKeysPath` is the
 * state directory's SQLite file, which holds the role assignments when the keys are elsewhere.
 */
export async function openKeyStore(location: StoreLocation, master: MasterKey, stateDirKeysPath: string): Promise<OpenedStore> {
  if (location.kind === 'sqlite') {
    const db = openDatabase(location.path, { synchronous: 'FULL', migrations: KEY_STORE_MIGRATIONS });
    return { keys: new SqliteKeyStore(db, master), rolesDb: db, close: async () => void db.close() };
  }
  const postgres = new PostgresDatabase({ url: location.url });
  let keys: KeyStore;
  try {
    keys = await PostgresKeyStore.open(postgres, master);
  } catch (error) {
    await postgres.close();
    throw error;
  }
  const rolesDb = openDatabase(stateDirKeysPath, { synchronous: 'FULL', migrations: KEY_STORE_MIGRATIONS });
  return {
    keys,
    rolesDb,
    postgres,
    close: async () => {
      rolesDb.close();
      await postgres.close();
    },
  };
}
