import { SecretNotFound } from '../../../errors';
import type { NewSecretVersion, Page, SecretVersion } from '../../model';
import type { MasterKey } from '../../vault';
import { deletedNameConflict, nameKey, newVersionId, page, takenNameConflict } from '../rows';
import { deletedSecretPage, openValue, SECRET_VERSION_COLUMNS, secretColumns, sealValue, toSecretVersion, type DeletedSecretRow, type SecretRow, type SecretVersionRow } from '../secret-rows';
import type { DeletedSecret, SecretChange, SecretSnapshot, SecretStore, SecretVersionWithValue } from '../secret-store';
import type { PostgresDatabase, Query } from './database';

const SECRET_COLUMNS = 'name_key, name, deleted_date, scheduled_purge_date';
const VERSIONS_OF_SECRET = `SELECT ${SECRET_VERSION_COLUMNS}, s.deleted_date FROM secret_versions v JOIN secrets s ON s.name_key = v.name_key WHERE v.name_key = $1`;
const LATEST_OF_EACH = 'JOIN secret_versions v ON v.seq = (SELECT MAX(seq) FROM secret_versions WHERE name_key = s.name_key)';

/** The transaction ran into a secret another writer purged between two of its statements: run it again. */
class SecretVanished extends Error {
  readonly code = '40001';
}

/**
 * The secret store in PostgreSQL, shared by KMS replicas; its schema is migrated with the
 * keys' (PostgresKeyStore.open runs first). Every change locks the secret's row first
 * (SELECT … FOR UPDATE), so two writers of one secret on any replicas take turns, as for keys.
 */
export class PostgresSecretStore implements SecretStore {
  constructor(
    private readonly db: PostgresDatabase,
    private readonly master: MasterKey,
  ) {}

  private static async lock(q: Query, name: string): Promise<SecretRow | undefined> {
    return (await q<SecretRow>(`SELECT ${SECRET_COLUMNS} FROM secrets WHERE name_key = $1 FOR UPDATE`, [nameKey(name)]))[0];
  }

  private static async lockLive(q: Query, name: string): Promise<SecretRow> {
    const row = await PostgresSecretStore.lock(q, name);
    if (!row || row.deleted_date !== null) throw new SecretNotFound(name);
    return row;
  }

  private static async lockDeleted(q: Query, name: string): Promise<SecretRow> {
    const row = await PostgresSecretStore.lock(q, name);
    if (!row || row.deleted_date === null) throw new SecretNotFound(name, undefined, true);
    return row;
  }

  /** A live secret's version (the latest without `version`), with SQLite's errors: an unknown secret, or a known one without that version. */
  private static async liveVersion(q: Query, name: string, version?: string): Promise<SecretVersionRow> {
    type Row = SecretVersionRow & { deleted_date: number | null };
    const rows = version
      ? await q<Row>(`${VERSIONS_OF_SECRET} AND v.version = $2`, [nameKey(name), version.toLowerCase()])
      : await q<Row>(`${VERSIONS_OF_SECRET} ORDER BY v.seq DESC LIMIT 1`, [nameKey(name)]);
    const row = rows[0];
    if (row) {
      if (row.deleted_date !== null) throw new SecretNotFound(name);
      return row;
    }
    const secret = (await q<SecretRow>(`SELECT ${SECRET_COLUMNS} FROM secrets WHERE name_key = $1`, [nameKey(name)]))[0];
    throw secret && secret.deleted_date === null ? new SecretNotFound(name, version) : new SecretNotFound(name);
  }

  private async insertVersion(q: Query, name: string, version: string, input: SecretChange, sealed: Buffer): Promise<void> {
    await q('INSERT INTO secret_versions (name_key, version, content_type, attributes, tags, master_key_id, sealed) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      nameKey(name),
      version,
      ...secretColumns(input),
      this.master.id,
      sealed,
    ]);
  }

  async foreignMasterKeyIds(): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>('SELECT DISTINCT master_key_id AS id FROM secret_versions WHERE master_key_id <> $1 ORDER BY id', [this.master.id]);
    return rows.map((row) => row.id);
  }

  async addVersion(input: NewSecretVersion, created: number): Promise<SecretVersion> {
    const version = newVersionId();
    const sealed = await sealValue(this.master, input.name, version, input.value);
    return this.db.transaction(async (q) => {
      await q('INSERT INTO secrets (name_key, name, created) VALUES ($1, $2, $3) ON CONFLICT (name_key) DO NOTHING', [nameKey(input.name), input.name, created]);
      const secret = await PostgresSecretStore.lock(q, input.name);
      if (!secret) throw new SecretVanished();
      if (secret.deleted_date !== null) throw deletedNameConflict(secret.name, 'Secret');
      await this.insertVersion(q, input.name, version, input, sealed);
      return toSecretVersion(await PostgresSecretStore.liveVersion(q, input.name, version));
    });
  }

  async get(name: string, version?: string): Promise<SecretVersion> {
    return toSecretVersion(await PostgresSecretStore.liveVersion(this.db.query.bind(this.db), name, version || undefined));
  }

  async getWithValue(name: string, version?: string): Promise<SecretVersionWithValue> {
    const row = await PostgresSecretStore.liveVersion(this.db.query.bind(this.db), name, version || undefined);
    return { version: toSecretVersion(row), value: await openValue(this.master, row) };
  }

  async update(name: string, version: string | undefined, change: (current: SecretVersion) => SecretChange): Promise<SecretVersion> {
    return this.db.transaction(async (q) => {
      await PostgresSecretStore.lockLive(q, name);
      const current = toSecretVersion(await PostgresSecretStore.liveVersion(q, name, version || undefined));
      await q('UPDATE secret_versions SET content_type = $1, attributes = $2, tags = $3 WHERE name_key = $4 AND version = $5', [...secretColumns(change(current)), nameKey(name), current.version]);
      return toSecretVersion(await PostgresSecretStore.liveVersion(q, name, current.version));
    });
  }

  async list(limit: number, after?: string): Promise<Page<SecretVersion>> {
    const rows = await this.db.query<SecretVersionRow>(
      `SELECT ${SECRET_VERSION_COLUMNS} FROM secrets s ${LATEST_OF_EACH} WHERE s.deleted_date IS NULL AND s.name_key > $1 ORDER BY s.name_key LIMIT $2`,
      [after ?? '', limit + 1],
    );
    return page(rows, limit, (row) => nameKey(row.name), toSecretVersion);
  }

  async listVersions(name: string, limit: number, after?: string): Promise<Page<SecretVersion>> {
    const rows = await this.db.transaction(async (q) => {
      const secret = (await q<SecretRow>(`SELECT ${SECRET_COLUMNS} FROM secrets WHERE name_key = $1`, [nameKey(name)]))[0];
      if (!secret || secret.deleted_date !== null) throw new SecretNotFound(name);
      return q<SecretVersionRow>(`${VERSIONS_OF_SECRET} AND v.seq > $2 ORDER BY v.seq LIMIT $3`, [nameKey(name), Number(after ?? 0) || 0, limit + 1]);
    });
    return page(rows, limit, (row) => String(row.seq), toSecretVersion);
  }

  async softDelete(name: string, deletedDate: number, scheduledPurgeDate: number): Promise<DeletedSecret> {
    return this.db.transaction(async (q) => {
      await PostgresSecretStore.lockLive(q, name);
      const latest = toSecretVersion(await PostgresSecretStore.liveVersion(q, name));
      await q('UPDATE secrets SET deleted_date = $1, scheduled_purge_date = $2 WHERE name_key = $3', [deletedDate, scheduledPurgeDate, nameKey(name)]);
      return { latest, deleted: { deletedDate, scheduledPurgeDate } };
    });
  }

  async getDeleted(name: string): Promise<DeletedSecret> {
    const rows = await this.db.query<SecretVersionRow & { deleted_date: number | null; scheduled_purge_date: number | null }>(
      `SELECT ${SECRET_VERSION_COLUMNS}, s.deleted_date, s.scheduled_purge_date FROM secrets s ${LATEST_OF_EACH} WHERE s.name_key = $1`,
      [nameKey(name)],
    );
    const row = rows[0];
    if (!row || row.deleted_date === null) throw new SecretNotFound(name, undefined, true);
    return { latest: toSecretVersion(row), deleted: { deletedDate: row.deleted_date, scheduledPurgeDate: row.scheduled_purge_date! } };
  }

  async listDeleted(limit: number, after?: string): Promise<Page<DeletedSecret>> {
    const rows = await this.db.query<DeletedSecretRow>(
      `SELECT ${SECRET_VERSION_COLUMNS}, s.deleted_date, s.scheduled_purge_date FROM secrets s ${LATEST_OF_EACH}
       WHERE s.deleted_date IS NOT NULL AND s.name_key > $1 ORDER BY s.name_key LIMIT $2`,
      [after ?? '', limit + 1],
    );
    return deletedSecretPage(rows, limit);
  }

  async recover(name: string): Promise<SecretVersion> {
    return this.db.transaction(async (q) => {
      await PostgresSecretStore.lockDeleted(q, name);
      await q('UPDATE secrets SET deleted_date = NULL, scheduled_purge_date = NULL WHERE name_key = $1', [nameKey(name)]);
      return toSecretVersion(await PostgresSecretStore.liveVersion(q, name));
    });
  }

  async purge(name: string): Promise<void> {
    await this.db.transaction(async (q) => {
      await PostgresSecretStore.lockDeleted(q, name);
      await q('DELETE FROM secrets WHERE name_key = $1', [nameKey(name)]);
    });
  }

  async purgeDue(now: number): Promise<string[]> {
    // One statement: a secret recovered meanwhile no longer matches when its row lock is granted, and stays.
    const rows = await this.db.query<{ name: string }>('DELETE FROM secrets WHERE deleted_date IS NOT NULL AND scheduled_purge_date <= $1 RETURNING name', [now]);
    return rows.map((r) => r.name);
  }

  async snapshot(name: string): Promise<SecretSnapshot> {
    // One statement, one snapshot: every version as they stood together.
    const rows = await this.db.query<SecretVersionRow>(
      `SELECT ${SECRET_VERSION_COLUMNS} FROM secret_versions v JOIN secrets s ON s.name_key = v.name_key WHERE v.name_key = $1 AND s.deleted_date IS NULL ORDER BY v.seq`,
      [nameKey(name)],
    );
    const first = rows[0];
    if (!first) throw new SecretNotFound(name);
    const versions: SecretVersionWithValue[] = [];
    for (const row of rows) versions.push({ version: toSecretVersion(row), value: await openValue(this.master, row) });
    return { name: first.name, versions };
  }

  async restore(snapshot: SecretSnapshot, created: number): Promise<SecretVersion> {
    const sealed: Buffer[] = [];
    for (const v of snapshot.versions) sealed.push(await sealValue(this.master, snapshot.name, v.version.version, v.value));
    return this.db.transaction(async (q) => {
      const inserted = await q('INSERT INTO secrets (name_key, name, created) VALUES ($1, $2, $3) ON CONFLICT (name_key) DO NOTHING RETURNING name_key', [
        nameKey(snapshot.name),
        snapshot.name,
        created,
      ]);
      if (inserted.length === 0) {
        const existing = await PostgresSecretStore.lock(q, snapshot.name);
        if (!existing) throw new SecretVanished();
        throw takenNameConflict(existing.name, existing.deleted_date !== null, 'Secret');
      }
      for (const [i, { version }] of snapshot.versions.entries()) await this.insertVersion(q, snapshot.name, version.version, version, sealed[i]!);
      return toSecretVersion(await PostgresSecretStore.liveVersion(q, snapshot.name));
    });
  }
}
