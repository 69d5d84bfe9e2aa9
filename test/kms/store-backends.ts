import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Client } from 'pg';
import { openMasterKey, type MasterKey } from '../../src/kms';
import { SqliteAuditStore, type AuditStore } from '../../src/kms/audit/store';
import type { KmsCore } from '../../src/kms/operations/core';
import { openDatabase, type Db } from '../../src/kms/store/database';
import type { KeyStore } from '../../src/kms/store/key-store';
import { KEY_STORE_MIGRATIONS } from '../../src/kms/store/migrations';
import { PostgresAuditStore } from '../../src/kms/store/postgres/audit-store';
import { PostgresDatabase } from '../../src/kms/store/postgres/database';
import { PostgresKeyStore } from '../../src/kms/store/postgres/key-store';
import { PostgresSecretStore } from '../../src/kms/store/postgres/secret-store';
import type { SecretStore } from '../../src/kms/store/secret-store';
import { SqliteSecretStore } from '../../src/kms/store/sqlite-secret-store';
import { PostgresRoleStore } from '../../src/kms/store/postgres/role-store';
import type { RoleStore } from '../../src/kms/store/role-store';
import { SqliteKeyStore } from '../../src/kms/store/sqlite-key-store';
import { SqliteRoleStore } from '../../src/kms/store/sqlite-role-store';
import { describePostgres, POSTGRES_SETUP_TIMEOUT_MS, startPostgresCluster, type PostgresCluster } from '../lib/postgres-cluster';
import { tempDir } from './harness';

/**
 * "One test table, two stores": a suite written once against KeyStore runs on SQLite and on a
 * throwaway PostgreSQL cluster. A vault is one database and one master key; `replica()` opens
 * another store on the same vault (another connection, or another pool: a second KMS replica).
 * `sql` runs a statement as the database's owner would (tampering, inspection); write `?`
 * placeholders, PostgreSQL gets them numbered.
 */
export interface TestVault {
  store: KeyStore;
  /** The vault's secrets, on the same database as `store`. */
  secrets: SecretStore;
  master: MasterKey;
  replica(): Promise<KeyStore>;
  /** Another secret store on the same vault (another connection, or another pool). */
  secretReplica(): Promise<SecretStore>;
  /** The vault's role assignments: each call another connection or pool (another process, another replica). */
  roles(): Promise<RoleStore>;
  sql(text: string, ...values: unknown[]): Promise<Record<string, unknown>[]>;
  /** A KmsCore over this vault's first store, with the suite's clock. */
  core(now: () => number): KmsCore;
}

/** An audit log's database: `open()` gives a store on it (each call another connection or pool: another replica). */
export interface TestAuditLog {
  open(): Promise<AuditStore>;
  sql(text: string, ...values: unknown[]): Promise<Record<string, unknown>[]>;
}

export interface StoreBackend {
  name: 'sqlite' | 'postgres';
  /** describe(), or describePostgres() where PostgreSQL is needed. */
  describe(name: string, body: () => void): void;
  /** A new, empty vault; `label` keeps vaults of one file apart. */
  vault(label: string): Promise<TestVault>;
  /** A new, empty audit log. */
  auditLog(label: string): Promise<TestAuditLog>;
  /** What `skr kms --store` takes for a new, empty store: a PostgreSQL database's URL, or nothing (the state directory's SQLite files). */
  kmsStore(label: string): Promise<string | undefined>;
}

const numbered = (text: string) => {
  let i = 0;
  return text.replace(/\?/g, () => `$${++i}`);
};

/** Both backends, with their set-up and tear-down registered in the calling suite (beforeAll / afterAll). */
export function storeBackends(): StoreBackend[] {
  let temp: Awaited<ReturnType<typeof tempDir>> | undefined;
  let cluster: PostgresCluster | undefined;
  const closers: (() => Promise<void> | void)[] = [];
  const dir = async () => (temp ??= await tempDir()).dir;

  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await cluster?.remove();
    await temp?.remove();
  });

  const masterFor = async (label: string) => {
    const master = await openMasterKey({ kind: 'file', path: join(await dir(), `${label}.key`) });
    closers.push(() => master.close());
    return master;
  };

  const sqlite: StoreBackend = {
    name: 'sqlite',
    kmsStore: async () => undefined,
    describe: (name, body) => describe(name, body),
    vault: async (label) => {
      const path = join(await dir(), `${label}.sqlite`);
      const open = () => {
        const db: Db = openDatabase(path, { synchronous: 'FULL', migrations: KEY_STORE_MIGRATIONS });
        closers.push(() => void db.close());
        return db;
      };
      const db = open();
      const master = await masterFor(label);
      const store = new SqliteKeyStore(db, master);
      const secrets = new SqliteSecretStore(db, master);
      return {
        store,
        secrets,
        master,
        replica: async () => new SqliteKeyStore(open(), master),
        secretReplica: async () => new SqliteSecretStore(open(), master),
        roles: async () => new SqliteRoleStore(open()),
        sql: async (text, ...values) => {
          const statement = db.prepare(text);
          return statement.reader ? (statement.all(...values) as Record<string, unknown>[]) : (statement.run(...values), []);
        },
        core: (now) => ({ store, secrets, master, now, recoverableDays: 7, validateReleasePolicy: () => undefined }),
      };
    },
    auditLog: async (label) => {
      const path = join(await dir(), `${label}-audit.sqlite`);
      const open = async () => {
        const store = SqliteAuditStore.open(path);
        closers.push(() => store.close());
        return store;
      };
      await open();
      const db = new Database(path);
      closers.push(() => void db.close());
      return {
        open,
        sql: async (text, ...values) => {
          const statement = db.prepare(text);
          return statement.reader ? (statement.all(...values) as Record<string, unknown>[]) : (statement.run(...values), []);
        },
      };
    },
  };

  const postgres: StoreBackend = {
    name: 'postgres',
    describe: (name, body) =>
      describePostgres(name, () => {
        beforeAll(async () => {
          cluster ??= await startPostgresCluster();
        }, POSTGRES_SETUP_TIMEOUT_MS);
        body();
      }),
    vault: async (label) => {
      const url = await cluster!.database(label.replace(/-/g, '_'));
      const master = await masterFor(label);
      const pool = () => {
        const db = new PostgresDatabase({ url });
        closers.push(() => db.close());
        return db;
      };
      const open = async () => PostgresKeyStore.open(pool(), master);
      const first = pool();
      const store = await PostgresKeyStore.open(first, master);
      const secrets = new PostgresSecretStore(first, master);
      const owner = new Client({ connectionString: url });
      await owner.connect();
      closers.push(() => owner.end());
      return {
        store,
        secrets,
        master,
        replica: open,
        secretReplica: async () => new PostgresSecretStore(pool(), master),
        roles: async () => {
          const db = new PostgresDatabase({ url });
          closers.push(() => db.close());
          return PostgresRoleStore.open(db);
        },
        sql: async (text, ...values) => (await owner.query(numbered(text), values)).rows as Record<string, unknown>[],
        core: (now) => ({ store, secrets, master, now, recoverableDays: 7, validateReleasePolicy: () => undefined }),
      };
    },
    auditLog: async (label) => {
      const url = await cluster!.database(label.replace(/-/g, '_'));
      const open = async () => {
        const store = await PostgresAuditStore.open(new PostgresDatabase({ url }), { ownsDatabase: true });
        closers.push(() => store.close());
        return store;
      };
      await open();
      const owner = new Client({ connectionString: url });
      await owner.connect();
      closers.push(() => owner.end());
      return { open, sql: async (text, ...values) => (await owner.query(numbered(text), values)).rows as Record<string, unknown>[] };
    },
    kmsStore: (label) => cluster!.database(label.replace(/-/g, '_')),
  };

  return [sqlite, postgres];
}
