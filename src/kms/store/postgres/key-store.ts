import { KeyNotFound, KeyRotatedMeanwhile } from '../../../errors';
import type { KeyVersion, NewKeyVersion, Page, RotationPolicy } from '../../model';
import type { MasterKey } from '../../vault';
import type { DeletedKey, KeySnapshot, KeyStore, KeyVersionWithMaterial } from '../key-store';
import {
  deletedNameConflict,
  deletedPage,
  nameKey,
  newVersionId,
  openMaterial,
  page,
  sealMaterial,
  sealSnapshot,
  snapshotOf,
  takenNameConflict,
  toVersion,
  VERSION_COLUMNS,
  versionColumns,
  type KeyRow,
  type VersionRow,
} from '../rows';
import type { PostgresDatabase, Query } from './database';
import { PG_KEY_STORE_MIGRATIONS } from './migrations';

const KEY_COLUMNS = 'name_key, name, rotation_policy, deleted_date, scheduled_purge_date';
const VERSIONS_OF_KEY = `SELECT ${VERSION_COLUMNS}, k.deleted_date FROM key_versions v JOIN keys k ON k.name_key = v.name_key WHERE v.name_key = $1`;
const LATEST_OF_EACH = 'JOIN key_versions v ON v.seq = (SELECT MAX(seq) FROM key_versions WHERE name_key = k.name_key)';

/** The transaction ran into a key another writer purged between two of its statements: run it again. */
class KeyVanished extends Error {
  readonly code = '40001';
}

/**
 * The key store in PostgreSQL, shared by KMS replicas. Every change runs in one transaction that
 * first locks the key's row (SELECT … FOR UPDATE): two writers of one key — on one replica or
 * two — take turns, and the second sees the first's outcome. So two creates of one name both
 * add a version (neither is lost), a create never lands on a key just soft-deleted, a purge and
 * a recovery of one deleted key cannot both succeed, and a delete commits before or after a
 * release's read, never in the middle of the version and its material. Material is sealed
 * under the master key before the transaction, exactly as in SQLite.
 */
export class PostgresKeyStore implements KeyStore {
  /** Reads of one statement's worth go to the pool, without a transaction's round trips. */
  private readonly pooled: Query;

  private constructor(
    private readonly db: PostgresDatabase,
    private readonly master: MasterKey,
  ) {
    this.pooled = db.query.bind(db);
  }

  /** Migrates the schema (once across replicas) and returns the store. */
  static async open(db: PostgresDatabase, master: MasterKey): Promise<PostgresKeyStore> {
    await db.migrate('keys', PG_KEY_STORE_MIGRATIONS);
    return new PostgresKeyStore(db, master);
  }

  private static async lockKey(q: Query, name: string): Promise<KeyRow | undefined> {
    return (await q<KeyRow>(`SELECT ${KEY_COLUMNS} FROM keys WHERE name_key = $1 FOR UPDATE`, [nameKey(name)]))[0];
  }

  private static async lockLive(q: Query, name: string): Promise<KeyRow> {
    const key = await PostgresKeyStore.lockKey(q, name);
    if (!key || key.deleted_date !== null) throw new KeyNotFound(name);
    return key;
  }

  private static async lockDeleted(q: Query, name: string): Promise<KeyRow> {
    const key = await PostgresKeyStore.lockKey(q, name);
    if (!key || key.deleted_date === null) throw new KeyNotFound(name, undefined, true);
    return key;
  }

  /** A live key's version (the latest without `version`), with the errors SQLite gives: an unknown key, or a known key without that version. */
  private static async liveVersion(q: Query, name: string, version?: string): Promise<VersionRow> {
    const rows = version
      ? await q<VersionRow & { deleted_date: number | null }>(`${VERSIONS_OF_KEY} AND v.version = $2`, [nameKey(name), version.toLowerCase()])
      : await q<VersionRow & { deleted_date: number | null }>(`${VERSIONS_OF_KEY} ORDER BY v.seq DESC LIMIT 1`, [nameKey(name)]);
    const row = rows[0];
    if (row) {
      if (row.deleted_date !== null) throw new KeyNotFound(name);
      return row;
    }
    const key = (await q<KeyRow>(`SELECT ${KEY_COLUMNS} FROM keys WHERE name_key = $1`, [nameKey(name)]))[0];
    throw key && key.deleted_date === null ? new KeyNotFound(name, version) : new KeyNotFound(name);
  }

  private async insertVersion(q: Query, name: string, input: Parameters<typeof versionColumns>[0] & { kty: string }, version: string, sealed: Buffer): Promise<void> {
    await q('INSERT INTO key_versions (name_key, version, kty, key_ops, public_jwk, attributes, tags, release_policy, master_key_id, sealed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)', [
      nameKey(name),
      version,
      input.kty,
      ...versionColumns(input),
      this.master.id,
      sealed,
    ]);
  }

  async foreignMasterKeyIds(): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>('SELECT DISTINCT master_key_id AS id FROM key_versions WHERE master_key_id <> $1 ORDER BY id', [this.master.id]);
    return rows.map((row) => row.id);
  }

  async addVersion(input: NewKeyVersion, created: number, ifLatest?: string): Promise<KeyVersion> {
    const version = newVersionId();
    const sealed = await sealMaterial(this.master, input.name, version, input.material);
    return this.db.transaction(async (q) => {
      await q('INSERT INTO keys (name_key, name, created) VALUES ($1, $2, $3) ON CONFLICT (name_key) DO NOTHING', [nameKey(input.name), input.name, created]);
      const key = await PostgresKeyStore.lockKey(q, input.name);
      if (!key) throw new KeyVanished();
      if (key.deleted_date !== null) throw deletedNameConflict(key.name);
      if (ifLatest !== undefined && (await q<{ version: string }>('SELECT version FROM key_versions WHERE name_key = $1 ORDER BY seq DESC LIMIT 1', [nameKey(input.name)]))[0]?.version !== ifLatest) {
        throw new KeyRotatedMeanwhile(input.name);
      }
      await this.insertVersion(q, input.name, input, version, sealed);
      return toVersion(await PostgresKeyStore.liveVersion(q, input.name, version));
    });
  }

  async get(name: string, version?: string): Promise<KeyVersion> {
    return toVersion(await PostgresKeyStore.liveVersion(this.pooled, name, version || undefined));
  }

  async getWithMaterial(name: string, version?: string): Promise<KeyVersionWithMaterial> {
    const row = await PostgresKeyStore.liveVersion(this.pooled, name, version || undefined);
    return { version: toVersion(row), material: await openMaterial(this.master, row) };
  }

  async update(name: string, version: string | undefined, change: (current: KeyVersion) => Pick<KeyVersion, 'keyOps' | 'attributes' | 'tags' | 'releasePolicy'>): Promise<KeyVersion> {
    return this.db.transaction(async (q) => {
      await PostgresKeyStore.lockLive(q, name);
      const current = toVersion(await PostgresKeyStore.liveVersion(q, name, version || undefined));
      const next = change(current);
      await q('UPDATE key_versions SET key_ops = $1, attributes = $2, tags = $3, release_policy = $4 WHERE name_key = $5 AND version = $6', [
        JSON.stringify(next.keyOps),
        JSON.stringify(next.attributes),
        JSON.stringify(next.tags),
        next.releasePolicy ? JSON.stringify(next.releasePolicy) : null,
        nameKey(name),
        current.version,
      ]);
      return toVersion(await PostgresKeyStore.liveVersion(q, name, current.version));
    });
  }

  async listKeys(limit: number, after?: string): Promise<Page<KeyVersion>> {
    const rows = await this.db.query<VersionRow>(`SELECT ${VERSION_COLUMNS} FROM keys k ${LATEST_OF_EACH} WHERE k.deleted_date IS NULL AND k.name_key > $1 ORDER BY k.name_key LIMIT $2`, [
      after ?? '',
      limit + 1,
    ]);
    return page(rows, limit, (row) => nameKey(row.name), toVersion);
  }

  async listVersions(name: string, limit: number, after?: string): Promise<Page<KeyVersion>> {
    const rows = await this.db.transaction(async (q) => {
      const key = (await q<KeyRow>(`SELECT ${KEY_COLUMNS} FROM keys WHERE name_key = $1`, [nameKey(name)]))[0];
      if (!key || key.deleted_date !== null) throw new KeyNotFound(name);
      return q<VersionRow>(`${VERSIONS_OF_KEY} AND v.seq > $2 ORDER BY v.seq LIMIT $3`, [nameKey(name), Number(after ?? 0) || 0, limit + 1]);
    });
    return page(rows, limit, (row) => String(row.seq), toVersion);
  }

  async softDelete(name: string, deletedDate: number, scheduledPurgeDate: number): Promise<DeletedKey> {
    return this.db.transaction(async (q) => {
      await PostgresKeyStore.lockLive(q, name);
      const latest = toVersion(await PostgresKeyStore.liveVersion(q, name));
      await q('UPDATE keys SET deleted_date = $1, scheduled_purge_date = $2 WHERE name_key = $3', [deletedDate, scheduledPurgeDate, nameKey(name)]);
      return { latest, deleted: { deletedDate, scheduledPurgeDate } };
    });
  }

  async getDeleted(name: string): Promise<DeletedKey> {
    const rows = await this.db.query<VersionRow & { deleted_date: number | null; scheduled_purge_date: number | null }>(
      `SELECT ${VERSION_COLUMNS}, k.deleted_date, k.scheduled_purge_date FROM keys k ${LATEST_OF_EACH} WHERE k.name_key = $1`,
      [nameKey(name)],
    );
    const row = rows[0];
    if (!row || row.deleted_date === null) throw new KeyNotFound(name, undefined, true);
    return { latest: toVersion(row), deleted: { deletedDate: row.deleted_date, scheduledPurgeDate: row.scheduled_purge_date! } };
  }

  async listDeleted(limit: number, after?: string): Promise<Page<DeletedKey>> {
    const rows = await this.db.query<VersionRow & { deleted_date: number; scheduled_purge_date: number }>(
      `SELECT ${VERSION_COLUMNS}, k.deleted_date, k.scheduled_purge_date FROM keys k ${LATEST_OF_EACH}
       WHERE k.deleted_date IS NOT NULL AND k.name_key > $1 ORDER BY k.name_key LIMIT $2`,
      [after ?? '', limit + 1],
    );
    return deletedPage(rows, limit);
  }

  async recover(name: string): Promise<KeyVersion> {
    return this.db.transaction(async (q) => {
      await PostgresKeyStore.lockDeleted(q, name);
      await q('UPDATE keys SET deleted_date = NULL, scheduled_purge_date = NULL WHERE name_key = $1', [nameKey(name)]);
      return toVersion(await PostgresKeyStore.liveVersion(q, name));
    });
  }

  async purge(name: string): Promise<void> {
    await this.db.transaction(async (q) => {
      await PostgresKeyStore.lockDeleted(q, name);
      await q('DELETE FROM keys WHERE name_key = $1', [nameKey(name)]);
    });
  }

  async purgeDue(now: number): Promise<string[]> {
    // One statement: a key recovered meanwhile no longer matches when its row lock is granted, and stays.
    const rows = await this.db.query<{ name: string }>('DELETE FROM keys WHERE deleted_date IS NOT NULL AND scheduled_purge_date <= $1 RETURNING name', [now]);
    return rows.map((r) => r.name);
  }

  async rotationPolicy(name: string): Promise<RotationPolicy | undefined> {
    const key = (await this.db.query<KeyRow>(`SELECT ${KEY_COLUMNS} FROM keys WHERE name_key = $1`, [nameKey(name)]))[0];
    if (!key || key.deleted_date !== null) throw new KeyNotFound(name);
    return key.rotation_policy ? (JSON.parse(key.rotation_policy) as RotationPolicy) : undefined;
  }

  async setRotationPolicy(name: string, policy: RotationPolicy): Promise<RotationPolicy> {
    const rows = await this.db.query('UPDATE keys SET rotation_policy = $1 WHERE name_key = $2 AND deleted_date IS NULL RETURNING name_key', [JSON.stringify(policy), nameKey(name)]);
    if (rows.length === 0) throw new KeyNotFound(name);
    return policy;
  }

  async keysWithRotationPolicy(): Promise<{ latest: KeyVersion; policy: RotationPolicy }[]> {
    const rows = await this.db.query<VersionRow & { rotation_policy: string }>(
      `SELECT ${VERSION_COLUMNS}, k.rotation_policy FROM keys k ${LATEST_OF_EACH} WHERE k.deleted_date IS NULL AND k.rotation_policy IS NOT NULL`,
    );
    return rows.map((row) => ({ latest: toVersion(row), policy: JSON.parse(row.rotation_policy) as RotationPolicy }));
  }

  async snapshot(name: string): Promise<KeySnapshot> {
    // One statement, one snapshot: the versions and the rotation policy as they stood together.
    const rows = await this.db.query<VersionRow & { rotation_policy: string | null }>(
      `SELECT ${VERSION_COLUMNS}, k.rotation_policy FROM key_versions v JOIN keys k ON k.name_key = v.name_key WHERE v.name_key = $1 AND k.deleted_date IS NULL ORDER BY v.seq`,
      [nameKey(name)],
    );
    const first = rows[0];
    if (!first) throw new KeyNotFound(name);
    return snapshotOf(this.master, first.name, first.rotation_policy, rows);
  }

  async restore(snapshot: KeySnapshot, created: number): Promise<KeyVersion> {
    const sealed = await sealSnapshot(this.master, snapshot);
    return this.db.transaction(async (q) => {
      const inserted = await q('INSERT INTO keys (name_key, name, created, rotation_policy) VALUES ($1, $2, $3, $4) ON CONFLICT (name_key) DO NOTHING RETURNING name_key', [
        nameKey(snapshot.name),
        snapshot.name,
        created,
        snapshot.rotationPolicy ? JSON.stringify(snapshot.rotationPolicy) : null,
      ]);
      if (inserted.length === 0) {
        const existing = await PostgresKeyStore.lockKey(q, snapshot.name);
        if (!existing) throw new KeyVanished();
        throw takenNameConflict(existing.name, existing.deleted_date !== null);
      }
      for (const [i, { version }] of snapshot.versions.entries()) await this.insertVersion(q, snapshot.name, version, version.version, sealed[i]!);
      return toVersion(await PostgresKeyStore.liveVersion(q, snapshot.name));
    });
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }
}
