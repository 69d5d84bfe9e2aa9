import { GENESIS_HASH } from '../../audit/chain';
import type { PgMigration, Query } from './database';

const statements =
  (...sql: string[]): PgMigration =>
  async (query: Query) => {
    for (const text of sql) await query(text);
  };

/**
 * The key store's PostgreSQL schema, the SQLite schema's twin (../migrations.ts) column for
 * column; one step per entry, never edit a released step, append a new one.
 */
export const PG_KEY_STORE_MIGRATIONS: PgMigration[] = [
  statements(
    `CREATE TABLE keys (
      name_key TEXT COLLATE "C" PRIMARY KEY,
      name TEXT NOT NULL,
      created BIGINT NOT NULL,
      managed INTEGER NOT NULL DEFAULT 0,
      rotation_policy TEXT,
      deleted_date BIGINT,
      scheduled_purge_date BIGINT
    )`,
    `CREATE TABLE key_versions (
      seq BIGSERIAL PRIMARY KEY,
      name_key TEXT COLLATE "C" NOT NULL REFERENCES keys(name_key) ON DELETE CASCADE,
      version TEXT NOT NULL,
      kty TEXT NOT NULL,
      key_ops TEXT NOT NULL,
      public_jwk TEXT NOT NULL,
      attributes TEXT NOT NULL,
      tags TEXT NOT NULL,
      release_policy TEXT,
      master_key_id TEXT NOT NULL,
      sealed BYTEA NOT NULL,
      UNIQUE (name_key, version)
    )`,
    'CREATE INDEX key_versions_by_key ON key_versions (name_key, seq)',
    'CREATE INDEX keys_due_for_purge ON keys (scheduled_purge_date) WHERE deleted_date IS NOT NULL',
  ),
  // Secrets (../secret-store.ts): the twin of the SQLite step that adds them.
  statements(
    `CREATE TABLE secrets (
      name_key TEXT COLLATE "C" PRIMARY KEY,
      name TEXT NOT NULL,
      created BIGINT NOT NULL,
      deleted_date BIGINT,
      scheduled_purge_date BIGINT
    )`,
    `CREATE TABLE secret_versions (
      seq BIGSERIAL PRIMARY KEY,
      name_key TEXT COLLATE "C" NOT NULL REFERENCES secrets(name_key) ON DELETE CASCADE,
      version TEXT NOT NULL,
      content_type TEXT,
      attributes TEXT NOT NULL,
      tags TEXT NOT NULL,
      master_key_id TEXT NOT NULL,
      sealed BYTEA NOT NULL,
      UNIQUE (name_key, version)
    )`,
    'CREATE INDEX secret_versions_by_secret ON secret_versions (name_key, seq)',
    'CREATE INDEX secrets_due_for_purge ON secrets (scheduled_purge_date) WHERE deleted_date IS NOT NULL',
  ),
];

/** The audit log's PostgreSQL schema: the SQLite audit schema as it stands after its migrations, in one step. */
export const PG_AUDIT_MIGRATIONS: PgMigration[] = [
  async (query) => {
    await statements(
      `CREATE TABLE audit (
        id BIGSERIAL PRIMARY KEY,
        time BIGINT NOT NULL,
        principal TEXT,
        operation TEXT NOT NULL,
        route TEXT,
        key_name TEXT,
        version TEXT,
        decision TEXT NOT NULL,
        status INTEGER NOT NULL,
        reason TEXT,
        source TEXT,
        count INTEGER NOT NULL DEFAULT 1,
        detail TEXT,
        hash TEXT
      )`,
      'CREATE INDEX audit_by_time ON audit (time)',
      'CREATE INDEX audit_by_key ON audit (lower(key_name), time)',
      'CREATE INDEX audit_by_principal ON audit (principal, time)',
      `CREATE TABLE audit_anchor (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        through_id BIGINT NOT NULL,
        hash TEXT NOT NULL
      )`,
      `CREATE TABLE audit_counts (
        source TEXT NOT NULL,
        principal TEXT NOT NULL,
        status INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        since BIGINT NOT NULL,
        PRIMARY KEY (source, principal, status)
      )`,
    )(query);
    await query('INSERT INTO audit_anchor (id, through_id, hash) VALUES (1, 0, $1)', [GENESIS_HASH]);
  },
];
