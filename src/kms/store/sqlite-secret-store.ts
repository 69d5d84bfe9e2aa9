import { SecretNotFound } from '../../errors';
import type { NewSecretVersion, Page, SecretVersion } from '../model';
import type { MasterKey } from '../vault';
import type { Db } from './database';
import { deletedNameConflict, nameKey, newVersionId, page, takenNameConflict } from './rows';
import { deletedSecretPage, openValue, SECRET_VERSION_COLUMNS, secretColumns, sealValue, toSecretVersion, type DeletedSecretRow, type SecretRow, type SecretVersionRow } from './secret-rows';
import type { DeletedSecret, SecretChange, SecretSnapshot, SecretStore, SecretVersionWithValue } from './secret-store';

const LATEST_OF_EACH = 'JOIN secret_versions v ON v.seq = (SELECT MAX(seq) FROM secret_versions WHERE name_key = s.name_key)';

/**
 * The secret store in the state directory's SQLite file, beside the keys (sqlite-key-store.ts
 * explains the transactions: IMMEDIATE, synchronous=FULL, sealing before the transaction).
 */
export class SqliteSecretStore implements SecretStore {
  constructor(
    private readonly db: Db,
    private readonly master: MasterKey,
  ) {}

  private secretRow(name: string): SecretRow | undefined {
    return this.db.prepare('SELECT name_key, name, deleted_date, scheduled_purge_date FROM secrets WHERE name_key = ?').get(nameKey(name)) as SecretRow | undefined;
  }

  private liveSecret(name: string): SecretRow {
    const row = this.secretRow(name);
    if (!row || row.deleted_date !== null) throw new SecretNotFound(name);
    return row;
  }

  private deletedSecret(name: string): SecretRow {
    const row = this.secretRow(name);
    if (!row || row.deleted_date === null) throw new SecretNotFound(name, undefined, true);
    return row;
  }

  private versionRow(name: string, version?: string): SecretVersionRow | undefined {
    const base = `SELECT ${SECRET_VERSION_COLUMNS} FROM secret_versions v JOIN secrets s ON s.name_key = v.name_key WHERE v.name_key = ?`;
    return (version ? this.db.prepare(`${base} AND v.version = ?`).get(nameKey(name), version.toLowerCase()) : this.db.prepare(`${base} ORDER BY v.seq DESC LIMIT 1`).get(nameKey(name))) as
      SecretVersionRow | undefined;
  }

  private liveVersion(name: string, version?: string): SecretVersionRow {
    this.liveSecret(name);
    const row = this.versionRow(name, version || undefined);
    if (!row) throw new SecretNotFound(name, version);
    return row;
  }

  private insertVersion(name: string, version: string, input: SecretChange, sealed: Buffer): void {
    this.db
      .prepare('INSERT INTO secret_versions (name_key, version, content_type, attributes, tags, master_key_id, sealed) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(nameKey(name), version, ...secretColumns(input), this.master.id, sealed);
  }

  async foreignMasterKeyIds(): Promise<string[]> {
    const rows = this.db.prepare('SELECT DISTINCT master_key_id AS id FROM secret_versions WHERE master_key_id <> ? ORDER BY id').all(this.master.id) as { id: string }[];
    return rows.map((row) => row.id);
  }

  async addVersion(input: NewSecretVersion, created: number): Promise<SecretVersion> {
    const version = newVersionId();
    const sealed = await sealValue(this.master, input.name, version, input.value);
    this.db
      .transaction(() => {
        const existing = this.secretRow(input.name);
        if (existing?.deleted_date != null) throw deletedNameConflict(existing.name, 'Secret');
        if (!existing) this.db.prepare('INSERT INTO secrets (name_key, name, created) VALUES (?, ?, ?)').run(nameKey(input.name), input.name, created);
        this.insertVersion(input.name, version, input, sealed);
      })
      .immediate();
    return this.get(input.name, version);
  }

  async get(name: string, version?: string): Promise<SecretVersion> {
    return toSecretVersion(this.liveVersion(name, version));
  }

  async getWithValue(name: string, version?: string): Promise<SecretVersionWithValue> {
    const row = this.liveVersion(name, version);
    return { version: toSecretVersion(row), value: await openValue(this.master, row) };
  }

  async update(name: string, version: string | undefined, change: (current: SecretVersion) => SecretChange): Promise<SecretVersion> {
    const updated = this.db
      .transaction(() => {
        const current = toSecretVersion(this.liveVersion(name, version));
        this.db
          .prepare('UPDATE secret_versions SET content_type = ?, attributes = ?, tags = ? WHERE name_key = ? AND version = ?')
          .run(...secretColumns(change(current)), nameKey(name), current.version);
        return current.version;
      })
      .immediate();
    return this.get(name, updated);
  }

  async list(limit: number, after?: string): Promise<Page<SecretVersion>> {
    const rows = this.db
      .prepare(`SELECT ${SECRET_VERSION_COLUMNS} FROM secrets s ${LATEST_OF_EACH} WHERE s.deleted_date IS NULL AND s.name_key > ? ORDER BY s.name_key LIMIT ?`)
      .all(after ?? '', limit + 1) as SecretVersionRow[];
    return page(rows, limit, (row) => nameKey(row.name), toSecretVersion);
  }

  async listVersions(name: string, limit: number, after?: string): Promise<Page<SecretVersion>> {
    this.liveSecret(name);
    const rows = this.db
      .prepare(`SELECT ${SECRET_VERSION_COLUMNS} FROM secret_versions v JOIN secrets s ON s.name_key = v.name_key WHERE v.name_key = ? AND v.seq > ? ORDER BY v.seq LIMIT ?`)
      .all(nameKey(name), Number(after ?? 0) || 0, limit + 1) as SecretVersionRow[];
    return page(rows, limit, (row) => String(row.seq), toSecretVersion);
  }

  async softDelete(name: string, deletedDate: number, scheduledPurgeDate: number): Promise<DeletedSecret> {
    return this.db
      .transaction(() => {
        const latest = toSecretVersion(this.liveVersion(name));
        this.db.prepare('UPDATE secrets SET deleted_date = ?, scheduled_purge_date = ? WHERE name_key = ?').run(deletedDate, scheduledPurgeDate, nameKey(name));
        return { latest, deleted: { deletedDate, scheduledPurgeDate } };
      })
      .immediate();
  }

  async getDeleted(name: string): Promise<DeletedSecret> {
    const secret = this.deletedSecret(name);
    const row = this.versionRow(name);
    if (!row) throw new SecretNotFound(name, undefined, true);
    return { latest: toSecretVersion(row), deleted: { deletedDate: secret.deleted_date!, scheduledPurgeDate: secret.scheduled_purge_date! } };
  }

  async listDeleted(limit: number, after?: string): Promise<Page<DeletedSecret>> {
    const rows = this.db
      .prepare(
        `SELECT ${SECRET_VERSION_COLUMNS}, s.deleted_date, s.scheduled_purge_date FROM secrets s ${LATEST_OF_EACH}
         WHERE s.deleted_date IS NOT NULL AND s.name_key > ? ORDER BY s.name_key LIMIT ?`,
      )
      .all(after ?? '', limit + 1) as DeletedSecretRow[];
    return deletedSecretPage(rows, limit);
  }

  async recover(name: string): Promise<SecretVersion> {
    this.db
      .transaction(() => {
        this.deletedSecret(name);
        this.db.prepare('UPDATE secrets SET deleted_date = NULL, scheduled_purge_date = NULL WHERE name_key = ?').run(nameKey(name));
      })
      .immediate();
    return this.get(name);
  }

  async purge(name: string): Promise<void> {
    this.db
      .transaction(() => {
        this.deletedSecret(name);
        this.db.prepare('DELETE FROM secrets WHERE name_key = ?').run(nameKey(name));
      })
      .immediate();
  }

  async purgeDue(now: number): Promise<string[]> {
    return this.db
      .transaction(() => {
        const due = this.db.prepare('SELECT name FROM secrets WHERE deleted_date IS NOT NULL AND scheduled_purge_date <= ?').all(now) as { name: string }[];
        this.db.prepare('DELETE FROM secrets WHERE deleted_date IS NOT NULL AND scheduled_purge_date <= ?').run(now);
        return due.map((r) => r.name);
      })
      .immediate();
  }

  async snapshot(name: string): Promise<SecretSnapshot> {
    const secret = this.liveSecret(name);
    const rows = this.db
      .prepare(`SELECT ${SECRET_VERSION_COLUMNS} FROM secret_versions v JOIN secrets s ON s.name_key = v.name_key WHERE v.name_key = ? ORDER BY v.seq`)
      .all(nameKey(name)) as SecretVersionRow[];
    const versions: SecretVersionWithValue[] = [];
    for (const row of rows) versions.push({ version: toSecretVersion(row), value: await openValue(this.master, row) });
    return { name: secret.name, versions };
  }

  async restore(snapshot: SecretSnapshot, created: number): Promise<SecretVersion> {
    const sealed: Buffer[] = [];
    for (const v of snapshot.versions) sealed.push(await sealValue(this.master, snapshot.name, v.version.version, v.value));
    this.db
      .transaction(() => {
        const existing = this.secretRow(snapshot.name);
        if (existing) throw takenNameConflict(existing.name, existing.deleted_date !== null, 'Secret');
        this.db.prepare('INSERT INTO secrets (name_key, name, created) VALUES (?, ?, ?)').run(nameKey(snapshot.name), snapshot.name, created);
        snapshot.versions.forEach(({ version }, i) => this.insertVersion(snapshot.name, version.version, version, sealed[i]!));
      })
      .immediate();
    return this.get(snapshot.name);
  }
}
