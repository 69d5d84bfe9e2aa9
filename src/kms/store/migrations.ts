import { GENESIS_HASH, linkHash, type ChainedFields } from '../audit/chain';
import type { Migration } from './database';

/**
 * The key store's schema, one step per entry; never edit a released step, append a new one.
 * Names compare case-insensitively as in Key Vault (`name_key` is the lower-cased name).
 */
export const KEY_STORE_MIGRATIONS: Migration[] = [
  (db) =>
    db.exec(`
      CREATE TABLE keys (
        name_key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created INTEGER NOT NULL,
        managed INTEGER NOT NULL DEFAULT 0,
        rotation_policy TEXT,
        deleted_date INTEGER,
        scheduled_purge_date INTEGER
      );
      CREATE TABLE key_versions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        name_key TEXT NOT NULL REFERENCES keys(name_key) ON DELETE CASCADE,
        version TEXT NOT NULL,
        kty TEXT NOT NULL,
        key_ops TEXT NOT NULL,
        public_jwk TEXT NOT NULL,
        attributes TEXT NOT NULL,
        tags TEXT NOT NULL,
        release_policy TEXT,
        master_key_id TEXT NOT NULL,
        sealed BLOB NOT NULL,
        UNIQUE (name_key, version)
      );
      CREATE INDEX key_versions_by_key ON key_versions (name_key, seq);
      CREATE TABLE role_assignments (
        id TEXT PRIMARY KEY,
        principal TEXT NOT NULL,
        role TEXT NOT NULL,
        scope TEXT NOT NULL,
        created INTEGER NOT NULL,
        UNIQUE (principal, role, scope)
      );
    `),
  // Secrets (src/kms/store/secret-store.ts): the keys' tables' twins, values sealed like key material.
  (db) =>
    db.exec(`
      CREATE TABLE secrets (
        name_key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created INTEGER NOT NULL,
        deleted_date INTEGER,
        scheduled_purge_date INTEGER
      );
      CREATE TABLE secret_versions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        name_key TEXT NOT NULL REFERENCES secrets(name_key) ON DELETE CASCADE,
        version TEXT NOT NULL,
        content_type TEXT,
        attributes TEXT NOT NULL,
        tags TEXT NOT NULL,
        master_key_id TEXT NOT NULL,
        sealed BLOB NOT NULL,
        UNIQUE (name_key, version)
      );
      CREATE INDEX secret_versions_by_secret ON secret_versions (name_key, seq);
    `),
  // The retention sweep looks for deleted keys past their purge date: without this it scanned every key.
  (db) => db.exec('CREATE INDEX keys_due_for_purge ON keys (scheduled_purge_date) WHERE deleted_date IS NOT NULL'),
];

/** The audit log lives in its own file: appended on every request, it must not slow key writes. */
export const AUDIT_MIGRATIONS: Migration[] = [
  (db) =>
    db.exec(`
      CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time INTEGER NOT NULL,
        principal TEXT,
        operation TEXT NOT NULL,
        key_name TEXT,
        version TEXT,
        decision TEXT NOT NULL,
        status INTEGER NOT NULL,
        reason TEXT
      );
      CREATE INDEX audit_by_time ON audit (time);
      CREATE INDEX audit_by_key ON audit (key_name, time);
      CREATE INDEX audit_by_principal ON audit (principal, time);
    `),
  // The hash chain, the route pattern, the source of unauthenticated requests, counted
  // summaries and change details; `audit_anchor` holds the hash the oldest kept entry is chained
  // from (the genesis, then the last pruned entry's). Rows written before are chained here,
  // from the genesis, as they stand.
  (db) => {
    db.exec(`
      ALTER TABLE audit ADD COLUMN route TEXT;
      ALTER TABLE audit ADD COLUMN source TEXT;
      ALTER TABLE audit ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE audit ADD COLUMN detail TEXT;
      ALTER TABLE audit ADD COLUMN hash TEXT;
      CREATE TABLE audit_anchor (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        through_id INTEGER NOT NULL,
        hash TEXT NOT NULL
      );
    `);
    db.prepare('INSERT INTO audit_anchor (id, through_id, hash) VALUES (1, 0, ?)').run(GENESIS_HASH);
    const update = db.prepare('UPDATE audit SET hash = ? WHERE id = ?');
    let previous = GENESIS_HASH;
    const page = db.prepare('SELECT * FROM audit WHERE id > ? ORDER BY id LIMIT 1000');
    for (let rows = page.all(0) as (ChainedFields & { id: number })[]; rows.length > 0; rows = page.all(rows[rows.length - 1]!.id) as typeof rows) {
      for (const row of rows) {
        previous = linkHash(previous, row);
        update.run(previous, row.id);
      }
    }
  },
  // Refused requests counted rather than stored one by one (src/lib/refusal-gate.ts): a
  // count is committed before its answer, and turned into a chained summary entry per caller and
  // status when the interval ends.
  (db) =>
    db.exec(`
      CREATE TABLE audit_counts (
        source TEXT NOT NULL,
        principal TEXT NOT NULL,
        status INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        since INTEGER NOT NULL,
        PRIMARY KEY (source, principal, status)
      );
    `),
  // `skr kms audit --key` compares names case-insensitively and reads the newest first: an index
  // in that collation and order answers it from the index, where audit_by_key (binary) left a
  // scan of the whole log.
  (db) => db.exec('CREATE INDEX audit_by_key_nocase ON audit (key_name COLLATE NOCASE, id)'),
];
