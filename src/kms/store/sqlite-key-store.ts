import { KeyNotFound, KeyRotatedMeanwhile } from '../../errors';
import type { MasterKey } from '../vault';
import type { Db } from './database';
import type { DeletedKey, KeySnapshot, KeyStore, KeyVersionWithMaterial } from './key-store';
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
} from './rows';
import type { KeyVersion, NewKeyVersion, Page, RotationPolicy } from '../model';

/**
 * The key store in the state directory's SQLite file (the embedded default). Every write is one
 * IMMEDIATE transaction committed with synchronous=FULL before the promise resolves; SQLite's
 * single writer serialises writers of one key. Sealing (possibly in an HSM, asynchronous)
 * happens before the transaction; the transaction itself is synchronous and short. The
 * database belongs to the caller, who shares it with the role assignments and closes it.
 */
export class SqliteKeyStore implements KeyStore {
  constructor(
    private readonly db: Db,
    private readonly master: MasterKey,
  ) {}

  private keyRow(name: string): KeyRow | undefined {
    return this.db.prepare('SELECT name_key, name, rotation_policy, deleted_date, scheduled_purge_date FROM keys WHERE name_key = ?').get(nameKey(name)) as KeyRow | undefined;
  }

  private liveKey(name: string): KeyRow {
    const row = this.keyRow(name);
    if (!row || row.deleted_date !== null) throw new KeyNotFound(name);
    return row;
  }

  private deletedKey(name: string): KeyRow {
    const row = this.keyRow(name);
    if (!row || row.deleted_date === null) throw new KeyNotFound(name, undefined, true);
    return row;
  }

  private versionRow(name: string, version?: string): VersionRow | undefined {
    const base = `SELECT ${VERSION_COLUMNS} FROM key_versions v JOIN keys k ON k.name_key = v.name_key WHERE v.name_key = ?`;
    return (version ? this.db.prepare(`${base} AND v.version = ?`).get(nameKey(name), version.toLowerCase()) : this.db.prepare(`${base} ORDER BY v.seq DESC LIMIT 1`).get(nameKey(name))) as
      VersionRow | undefined;
  }

  private liveVersion(name: string, version?: string): VersionRow {
    this.liveKey(name);
    const row = this.versionRow(name, version || undefined);
    if (!row) throw new KeyNotFound(name, version);
    return row;
  }

  async foreignMasterKeyIds(): Promise<string[]> {
    const rows = this.db.prepare('SELECT DISTINCT master_key_id AS id FROM key_versions WHERE master_key_id <> ? ORDER BY id').all(this.master.id) as { id: string }[];
    return rows.map((row) => row.id);
  }

  async addVersion(input: NewKeyVersion, created: number, ifLatest?: string): Promise<KeyVersion> {
    const version = newVersionId();
    const sealed = await sealMaterial(this.master, input.name, version, input.material);
    this.db
      .transaction(() => {
        const existing = this.keyRow(input.name);
        if (existing?.deleted_date != null) throw deletedNameConflict(existing.name);
        if (ifLatest !== undefined && this.versionRow(input.name)?.version !== ifLatest) throw new KeyRotatedMeanwhile(input.name);
        if (!existing) this.db.prepare('INSERT INTO keys (name_key, name, created) VALUES (?, ?, ?)').run(nameKey(input.name), input.name, created);
        this.insertVersion(input.name, input, version, sealed);
      })
      .immediate();
    return this.get(input.name, version);
  }

  private insertVersion(name: string, input: Parameters<typeof versionColumns>[0] & { kty: string }, version: string, sealed: Buffer): void {
    this.db
      .prepare('INSERT INTO key_versions (name_key, version, kty, key_ops, public_jwk, attributes, tags, release_policy, master_key_id, sealed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(nameKey(name), version, input.kty, ...versionColumns(input), this.master.id, sealed);
  }

  async get(name: string, version?: string): Promise<KeyVersion> {
    return toVersion(this.liveVersion(name, version));
  }

  async getWithMaterial(name: string, version?: string): Promise<KeyVersionWithMaterial> {
    const row = this.liveVersion(name, version);
    return { version: toVersion(row), material: await openMaterial(this.master, row) };
  }

  async update(name: string, version: string | undefined, change: (current: KeyVersion) => Pick<KeyVersion, 'keyOps' | 'attributes' | 'tags' | 'releasePolicy'>): Promise<KeyVersion> {
    const updated = this.db
      .transaction(() => {
        const current = toVersion(this.liveVersion(name, version));
        const next = change(current);
        this.db
          .prepare('UPDATE key_versions SET key_ops = ?, attributes = ?, tags = ?, release_policy = ? WHERE name_key = ? AND version = ?')
          .run(JSON.stringify(next.keyOps), JSON.stringify(next.attributes), JSON.stringify(next.tags), next.releasePolicy ? JSON.stringify(next.releasePolicy) : null, nameKey(name), current.version);
        return current.version;
      })
      .immediate();
    return this.get(name, updated);
  }

  async listKeys(limit: number, after?: string): Promise<Page<KeyVersion>> {
    const rows = this.db
      .prepare(
        `SELECT ${VERSION_COLUMNS} FROM keys k JOIN key_versions v ON v.seq = (SELECT MAX(seq) FROM key_versions WHERE name_key = k.name_key)
         WHERE k.deleted_date IS NULL AND k.name_key > ? ORDER BY k.name_key LIMIT ?`,
      )
      .all(after ?? '', limit + 1) as VersionRow[];
    return page(rows, limit, (row) => nameKey(row.name), toVersion);
  }

  async listVersions(name: string, limit: number, after?: string): Promise<Page<KeyVersion>> {
    this.liveKey(name);
    const rows = this.db
      .prepare(`SELECT ${VERSION_COLUMNS} FROM key_versions v JOIN keys k ON k.name_key = v.name_key WHERE v.name_key = ? AND v.seq > ? ORDER BY v.seq LIMIT ?`)
      .all(nameKey(name), Number(after ?? 0) || 0, limit + 1) as VersionRow[];
    return page(rows, limit, (row) => String(row.seq), toVersion);
  }

  async softDelete(name: string, deletedDate: number, scheduledPurgeDate: number): Promise<DeletedKey> {
    return this.db
      .transaction(() => {
        const latest = toVersion(this.liveVersion(name));
        this.db.prepare('UPDATE keys SET deleted_date = ?, scheduled_purge_date = ? WHERE name_key = ?').run(deletedDate, scheduledPurgeDate, nameKey(name));
        return { latest, deleted: { deletedDate, scheduledPurgeDate } };
      })
      .immediate();
  }

  async getDeleted(name: string): Promise<DeletedKey> {
    const key = this.deletedKey(name);
    const row = this.versionRow(name);
    if (!row) throw new KeyNotFound(name, undefined, true);
    return { latest: toVersion(row), deleted: { deletedDate: key.deleted_date!, scheduledPurgeDate: key.scheduled_purge_date! } };
  }

  async listDeleted(limit: number, after?: string): Promise<Page<DeletedKey>> {
    const rows = this.db
      .prepare(
        `SELECT ${VERSION_COLUMNS}, k.deleted_date, k.scheduled_purge_date FROM keys k
         JOIN key_versions v ON v.seq = (SELECT MAX(seq) FROM key_versions WHERE name_key = k.name_key)
         WHERE k.deleted_date IS NOT NULL AND k.name_key > ? ORDER BY k.name_key LIMIT ?`,
      )
      .all(after ?? '', limit + 1) as (VersionRow & { deleted_date: number; scheduled_purge_date: number })[];
    return deletedPage(rows, limit);
  }

  async recover(name: string): Promise<KeyVersion> {
    this.db
      .transaction(() => {
        this.deletedKey(name);
        this.db.prepare('UPDATE keys SET deleted_date = NULL, scheduled_purge_date = NULL WHERE name_key = ?').run(nameKey(name));
      })
      .immediate();
    return this.get(name);
  }

  async purge(name: string): Promise<void> {
    this.db
      .transaction(() => {
        this.deletedKey(name);
        this.db.prepare('DELETE FROM keys WHERE name_key = ?').run(nameKey(name));
      })
      .immediate();
  }

  async purgeDue(now: number): Promise<string[]> {
    return this.db
      .transaction(() => {
        const due = this.db.prepare('SELECT name FROM keys WHERE deleted_date IS NOT NULL AND scheduled_purge_date <= ?').all(now) as { name: string }[];
        this.db.prepare('DELETE FROM keys WHERE deleted_date IS NOT NULL AND scheduled_purge_date <= ?').run(now);
        return due.map((r) => r.name);
      })
      .immediate();
  }

  async rotationPolicy(name: string): Promise<RotationPolicy | undefined> {
    const row = this.liveKey(name);
    return row.rotation_policy ? (JSON.parse(row.rotation_policy) as RotationPolicy) : undefined;
  }

  async setRotationPolicy(name: string, policy: RotationPolicy): Promise<RotationPolicy> {
    this.db
      .transaction(() => {
        this.liveKey(name);
        this.db.prepare('UPDATE keys SET rotation_policy = ? WHERE name_key = ?').run(JSON.stringify(policy), nameKey(name));
      })
      .immediate();
    return policy;
  }

  async keysWithRotationPolicy(): Promise<{ latest: KeyVersion; policy: RotationPolicy }[]> {
    const rows = this.db
      .prepare(
        `SELECT ${VERSION_COLUMNS}, k.rotation_policy FROM keys k JOIN key_versions v ON v.seq = (SELECT MAX(seq) FROM key_versions WHERE name_key = k.name_key)
         WHERE k.deleted_date IS NULL AND k.rotation_policy IS NOT NULL`,
      )
      .all() as (VersionRow & { rotation_policy: string })[];
    return rows.map((row) => ({ latest: toVersion(row), policy: JSON.parse(row.rotation_policy) as RotationPolicy }));
  }

  async snapshot(name: string): Promise<KeySnapshot> {
    const key = this.liveKey(name);
    const rows = this.db.prepare(`SELECT ${VERSION_COLUMNS} FROM key_versions v JOIN keys k ON k.name_key = v.name_key WHERE v.name_key = ? ORDER BY v.seq`).all(nameKey(name)) as VersionRow[];
    return snapshotOf(this.master, key.name, key.rotation_policy, rows);
  }

  async restore(snapshot: KeySnapshot, created: number): Promise<KeyVersion> {
    const sealed = await sealSnapshot(this.master, snapshot);
    this.db
      .transaction(() => {
        const existing = this.keyRow(snapshot.name);
        if (existing) throw takenNameConflict(existing.name, existing.deleted_date !== null);
        this.db
          .prepare('INSERT INTO keys (name_key, name, created, rotation_policy) VALUES (?, ?, ?, ?)')
          .run(nameKey(snapshot.name), snapshot.name, created, snapshot.rotationPolicy ? JSON.stringify(snapshot.rotationPolicy) : null);
        snapshot.versions.forEach(({ version }, i) => this.insertVersion(snapshot.name, version, version.version, sealed[i]!));
      })
      .immediate();
    return this.get(snapshot.name);
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }
}
