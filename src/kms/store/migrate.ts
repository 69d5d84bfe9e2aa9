import { MigrateTargetNotEmpty } from '../../errors';
import { AUDIT_MIGRATIONS, KEY_STORE_MIGRATIONS } from './migrations';
import { openDatabase, type Db } from './database';
import type { PostgresDatabase, Query } from './postgres/database';
import { PG_AUDIT_MIGRATIONS, PG_KEY_STORE_MIGRATIONS } from './postgres/migrations';
import { PG_ROLE_MIGRATIONS } from './postgres/role-store';

/** The SQLite files a single-node KMS keeps: its key database and its audit log. */
export interface SqliteVaultFiles {
  keys: string;
  audit: string;
}

/** What a migration copied, table by table. */
export interface MigrationCounts {
  keys: number;
  versions: number;
  deletedKeys: number;
  rotationPolicies: number;
  auditEntries: number;
  auditCounts: number;
  secrets: number;
  secretVersions: number;
  roleAssignments: number;
}

/** Rows per INSERT: one statement per batch keeps a million audit entries to a few hundred round trips. */
const BATCH = 5000;

type Row = Record<string, unknown>;

/** Inserts `rows` into `table` in batches, one array parameter per column (`unnest`), in the rows' order. */
async function insertAll(q: Query, table: string, columns: { name: string; type: string }[], rows: Iterable<Row>): Promise<number> {
  const names = columns.map((c) => c.name).join(', ');
  const arrays = columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ');
  const sql = `INSERT INTO ${table} (${names}) SELECT ${names} FROM unnest(${arrays}) AS batch (${names})`;
  let batch: Row[] = [];
  let copied = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await q(
      sql,
      columns.map((c) => batch.map((row) => row[c.name] ?? null)),
    );
    copied += batch.length;
    batch = [];
  };
  for (const row of rows) {
    batch.push(row);
    if (batch.length === BATCH) await flush();
  }
  await flush();
  return copied;
}

const KEY_COLUMNS = [
  { name: 'name_key', type: 'text' },
  { name: 'name', type: 'text' },
  { name: 'created', type: 'bigint' },
  { name: 'managed', type: 'integer' },
  { name: 'rotation_policy', type: 'text' },
  { name: 'deleted_date', type: 'bigint' },
  { name: 'scheduled_purge_date', type: 'bigint' },
];

const VERSION_COLUMNS = [
  { name: 'seq', type: 'bigint' },
  { name: 'name_key', type: 'text' },
  { name: 'version', type: 'text' },
  { name: 'kty', type: 'text' },
  { name: 'key_ops', type: 'text' },
  { name: 'public_jwk', type: 'text' },
  { name: 'attributes', type: 'text' },
  { name: 'tags', type: 'text' },
  { name: 'release_policy', type: 'text' },
  { name: 'master_key_id', type: 'text' },
  { name: 'sealed', type: 'bytea' },
];

const SECRET_COLUMNS = [
  { name: 'name_key', type: 'text' },
  { name: 'name', type: 'text' },
  { name: 'created', type: 'bigint' },
  { name: 'deleted_date', type: 'bigint' },
  { name: 'scheduled_purge_date', type: 'bigint' },
];

const SECRET_VERSION_COLUMNS = [
  { name: 'seq', type: 'bigint' },
  { name: 'name_key', type: 'text' },
  { name: 'version', type: 'text' },
  { name: 'content_type', type: 'text' },
  { name: 'attributes', type: 'text' },
  { name: 'tags', type: 'text' },
  { name: 'master_key_id', type: 'text' },
  { name: 'sealed', type: 'bytea' },
];

const ROLE_COLUMNS = 'id, principal, role, scope, created';

const AUDIT_COLUMNS = [
  { name: 'id', type: 'bigint' },
  { name: 'time', type: 'bigint' },
  { name: 'principal', type: 'text' },
  { name: 'operation', type: 'text' },
  { name: 'route', type: 'text' },
  { name: 'key_name', type: 'text' },
  { name: 'version', type: 'text' },
  { name: 'decision', type: 'text' },
  { name: 'status', type: 'integer' },
  { name: 'reason', type: 'text' },
  { name: 'source', type: 'text' },
  { name: 'count', type: 'integer' },
  { name: 'detail', type: 'text' },
  { name: 'hash', type: 'text' },
];

const COUNT_COLUMNS = [
  { name: 'source', type: 'text' },
  { name: 'principal', type: 'text' },
  { name: 'status', type: 'integer' },
  { name: 'requests', type: 'integer' },
  { name: 'since', type: 'bigint' },
];

/** Moves the serial counters past the copied ids, so the next version or entry gets a fresh one. */
async function advanceSequence(q: Query, table: string, column: string): Promise<void> {
  await q(`SELECT setval(pg_get_serial_sequence('${table}', '${column}'), GREATEST((SELECT MAX(${column}) FROM ${table}), 1), (SELECT MAX(${column}) IS NOT NULL FROM ${table}))`);
}

/**
 * Copies a single-node KMS's SQLite files into a PostgreSQL database, all or nothing: the
 * schemas are brought up to date first, then one transaction locks the tables (no replica may
 * write meanwhile), refuses a target that holds keys or audit entries, and copies keys (with
 * rotation policies and deletion state), versions (sealed material byte for byte: the master
 * key stays the state directory's, and the AAD names key and version, which do not change),
 * pending refusal counts and the audit log with its ids, hashes and anchor — so the chain
 * verifies on the target exactly as on the source. A failure rolls everything back; running
 * it again after a failure starts from an empty target again.
 */
export async function migrateSqliteToPostgres(files: SqliteVaultFiles, target: PostgresDatabase): Promise<MigrationCounts> {
  // Opening brings an older single-node vault's files to the current schema, as `skr kms` would.
  const keysDb: Db = openDatabase(files.keys, { synchronous: 'FULL', migrations: KEY_STORE_MIGRATIONS });
  const auditDb: Db = openDatabase(files.audit, { synchronous: 'NORMAL', migrations: AUDIT_MIGRATIONS });
  try {
    await target.migrate('keys', PG_KEY_STORE_MIGRATIONS);
    await target.migrate('audit', PG_AUDIT_MIGRATIONS);
    await target.migrate('roles', PG_ROLE_MIGRATIONS);
    return await target.transaction(async (q) => {
      await q('LOCK TABLE keys, key_versions, secrets, secret_versions, role_assignments, role_changes, audit, audit_anchor, audit_counts IN EXCLUSIVE MODE');
      const present = (await q<{ keys: number; audit: number }>('SELECT (SELECT count(*) FROM keys)::int AS keys, (SELECT count(*) FROM audit)::int AS audit'))[0]!;
      if (present.keys > 0 || present.audit > 0) throw new MigrateTargetNotEmpty(present.keys, present.audit);

      const keyRows = keysDb.prepare('SELECT name_key, name, created, managed, rotation_policy, deleted_date, scheduled_purge_date FROM keys ORDER BY name_key').all() as Row[];
      const keys = await insertAll(q, 'keys', KEY_COLUMNS, keyRows);
      const versions = await insertAll(
        q,
        'key_versions',
        VERSION_COLUMNS,
        keysDb.prepare(`SELECT ${VERSION_COLUMNS.map((c) => c.name).join(', ')} FROM key_versions ORDER BY seq`).iterate() as Iterable<Row>,
      );
      await advanceSequence(q, 'key_versions', 'seq');

      const secrets = await insertAll(q, 'secrets', SECRET_COLUMNS, keysDb.prepare(`SELECT ${SECRET_COLUMNS.map((c) => c.name).join(', ')} FROM secrets ORDER BY name_key`).iterate() as Iterable<Row>);
      const secretVersions = await insertAll(
        q,
        'secret_versions',
        SECRET_VERSION_COLUMNS,
        keysDb.prepare(`SELECT ${SECRET_VERSION_COLUMNS.map((c) => c.name).join(', ')} FROM secret_versions ORDER BY seq`).iterate() as Iterable<Row>,
      );
      await advanceSequence(q, 'secret_versions', 'seq');

      // Assignments the target already holds (a principal granted there before) are kept, not doubled; replicas' role caches see the change counter move.
      let roleAssignments = 0;
      for (const row of keysDb.prepare(`SELECT ${ROLE_COLUMNS} FROM role_assignments ORDER BY rowid`).all() as Row[]) {
        const inserted = await q(`INSERT INTO role_assignments (${ROLE_COLUMNS}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id`, [
          row.id,
          row.principal,
          row.role,
          row.scope,
          row.created,
        ]);
        roleAssignments += inserted.length;
      }
      await q('UPDATE role_changes SET version = version + 1 WHERE id = 1');

      const anchor = auditDb.prepare('SELECT through_id, hash FROM audit_anchor WHERE id = 1').get() as { through_id: number; hash: string };
      await q('UPDATE audit_anchor SET through_id = $1, hash = $2 WHERE id = 1', [anchor.through_id, anchor.hash]);
      const auditEntries = await insertAll(q, 'audit', AUDIT_COLUMNS, auditDb.prepare(`SELECT ${AUDIT_COLUMNS.map((c) => c.name).join(', ')} FROM audit ORDER BY id`).iterate() as Iterable<Row>);
      await advanceSequence(q, 'audit', 'id');
      const auditCounts = await insertAll(q, 'audit_counts', COUNT_COLUMNS, auditDb.prepare('SELECT source, principal, status, requests, since FROM audit_counts').all() as Row[]);

      return {
        keys,
        versions,
        deletedKeys: keyRows.filter((row) => row.deleted_date !== null).length,
        rotationPolicies: keyRows.filter((row) => row.rotation_policy !== null).length,
        auditEntries,
        auditCounts,
        secrets,
        secretVersions,
        roleAssignments,
      };
    });
  } finally {
    keysDb.close();
    auditDb.close();
  }
}
