import { randomBytes } from 'node:crypto';
import { KeyNotFound, KmsConflict, SealedDataInvalid } from '../../errors';
import { materialBytes, materialFromBytes } from '../keys/material';
import type { MasterKey } from '../vault';
import type { Db } from './database';
import { familyOf, type DeletedInfo, type KeyMaterial, type KeyVersion, type NewKeyVersion, type Page, type RotationPolicy } from '../model';

interface VersionRow {
  seq: number;
  name: string;
  managed: number;
  version: string;
  kty: string;
  key_ops: string;
  public_jwk: string;
  attributes: string;
  tags: string;
  release_policy: string | null;
  master_key_id: string;
  sealed: Buffer;
}

interface KeyRow {
  name_key: string;
  name: string;
  rotation_policy: string | null;
  deleted_date: number | null;
  scheduled_purge_date: number | null;
}

/** A version with its sealed material opened: what backup and the release seam read. */
export interface KeyVersionWithMaterial {
  version: KeyVersion;
  material: KeyMaterial;
}

/** A key as backup carries it: every version with material, oldest first, and its rotation policy. */
export interface KeySnapshot {
  name: string;
  rotationPolicy?: RotationPolicy;
  versions: KeyVersionWithMaterial[];
}

const nameKey = (name: string) => name.toLowerCase();
export const newVersionId = () => randomBytes(16).toString('hex');

/** AAD binding sealed material to its key and version: a row copied elsewhere does not open. */
function aad(name: string, version: string): Buffer {
  return Buffer.from(`skr-kms key material v1\0${nameKey(name)}\0${version}`);
}

const VERSION_COLUMNS = `v.seq, k.name, k.managed, v.version, v.kty, v.key_ops, v.public_jwk, v.attributes, v.tags, v.release_policy, v.master_key_id, v.sealed`;

function toVersion(row: VersionRow): KeyVersion {
  return {
    name: row.name,
    version: row.version,
    kty: row.kty,
    keyOps: JSON.parse(row.key_ops) as string[],
    publicJwk: JSON.parse(row.public_jwk) as Record<string, string>,
    attributes: JSON.parse(row.attributes) as KeyVersion['attributes'],
    tags: JSON.parse(row.tags) as Record<string, string>,
    ...(row.release_policy ? { releasePolicy: JSON.parse(row.release_policy) as KeyVersion['releasePolicy'] } : {}),
    managed: row.managed === 1,
  };
}

/**
 * Keys, their versions and soft-delete state in SQLite; material sealed under the master key.
 * Every write is one transaction committed with synchronous=FULL before the caller answers,
 * so an acknowledged create survives a crash. Sealing (possibly in an HSM, asynchronous)
 * happens before the transaction; the transaction itself is synchronous and short.
 */
export class KeyStore {
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
    return (version
      ? this.db.prepare(`${base} AND v.version = ?`).get(nameKey(name), version.toLowerCase())
      : this.db.prepare(`${base} ORDER BY v.seq DESC LIMIT 1`).get(nameKey(name))) as VersionRow | undefined;
  }

  /** Master keys, other than the one this store holds, that sealed stored material: none in a consistent state. */
  foreignMasterKeyIds(): string[] {
    const rows = this.db.prepare('SELECT DISTINCT master_key_id AS id FROM key_versions WHERE master_key_id <> ? ORDER BY id').all(this.master.id) as { id: string }[];
    return rows.map((row) => row.id);
  }

  /** Adds a version, creating the key when it is new. Refuses a name held by a soft-deleted key, as Key Vault does. */
  async addVersion(input: NewKeyVersion, created: number): Promise<KeyVersion> {
    const version = newVersionId();
    const sealed = await this.master.seal(materialBytes(input.material), aad(input.name, version));
    this.db
      .transaction(() => {
        const existing = this.keyRow(input.name);
        if (existing?.deleted_date != null) {
          throw new KmsConflict(
            `Key ${existing.name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the key can only be recovered or purged.`,
          );
        }
        if (!existing) this.db.prepare('INSERT INTO keys (name_key, name, created) VALUES (?, ?, ?)').run(nameKey(input.name), input.name, created);
        this.insertVersion(input, version, sealed);
      })
      .immediate();
    return this.get(input.name, version);
  }

  private insertVersion(input: Omit<NewKeyVersion, 'material'>, version: string, sealed: Buffer): void {
    this.db
      .prepare(
        'INSERT INTO key_versions (name_key, version, kty, key_ops, public_jwk, attributes, tags, release_policy, master_key_id, sealed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        nameKey(input.name),
        version,
        input.kty,
        JSON.stringify(input.keyOps),
        JSON.stringify(input.publicJwk),
        JSON.stringify(input.attributes),
        JSON.stringify(input.tags),
        input.releasePolicy ? JSON.stringify(input.releasePolicy) : null,
        this.master.id,
        sealed,
      );
  }

  /** A live key's version; the latest when `version` is absent or empty. */
  get(name: string, version?: string): KeyVersion {
    this.liveKey(name);
    const row = this.versionRow(name, version || undefined);
    if (!row) throw new KeyNotFound(name, version);
    return toVersion(row);
  }

  /** The version and its opened material — for crypto operations, backup and release. Never logged, never returned over HTTP. */
  async getWithMaterial(name: string, version?: string): Promise<KeyVersionWithMaterial> {
    this.liveKey(name);
    const row = this.versionRow(name, version || undefined);
    if (!row) throw new KeyNotFound(name, version);
    return { version: toVersion(row), material: await this.open(row) };
  }

  private async open(row: VersionRow): Promise<KeyMaterial> {
    if (row.master_key_id !== this.master.id) {
      throw new SealedDataInvalid(`key ${row.name}/${row.version} is sealed under another master key`, { expected: row.master_key_id, actual: this.master.id });
    }
    return materialFromBytes(familyOf(row.kty), await this.master.open(row.sealed, aad(row.name, row.version)));
  }

  /** Replaces a version's mutable properties in one transaction; `change` sees the current state. */
  update(name: string, version: string | undefined, change: (current: KeyVersion) => Pick<KeyVersion, 'keyOps' | 'attributes' | 'tags' | 'releasePolicy'>): KeyVersion {
    const updated = this.db
      .transaction(() => {
        const current = this.get(name, version);
        const next = change(current);
        this.db
          .prepare('UPDATE key_versions SET key_ops = ?, attributes = ?, tags = ?, release_policy = ? WHERE name_key = ? AND version = ?')
          .run(
            JSON.stringify(next.keyOps),
            JSON.stringify(next.attributes),
            JSON.stringify(next.tags),
            next.releasePolicy ? JSON.stringify(next.releasePolicy) : null,
            nameKey(name),
            current.version,
          );
        return current.version;
      })
      .immediate();
    return this.get(name, updated);
  }

  /** Live keys by name, each as its latest version. */
  listKeys(limit: number, after?: string): Page<KeyVersion> {
    const rows = this.db
      .prepare(
        `SELECT ${VERSION_COLUMNS} FROM keys k JOIN key_versions v ON v.seq = (SELECT MAX(seq) FROM key_versions WHERE name_key = k.name_key)
         WHERE k.deleted_date IS NULL AND k.name_key > ? ORDER BY k.name_key LIMIT ?`,
      )
      .all(after ?? '', limit + 1) as VersionRow[];
    return this.page(rows, limit, (row) => nameKey(row.name));
  }

  listVersions(name: string, limit: number, after?: string): Page<KeyVersion> {
    this.liveKey(name);
    const rows = this.db
      .prepare(`SELECT ${VERSION_COLUMNS} FROM key_versions v JOIN keys k ON k.name_key = v.name_key WHERE v.name_key = ? AND v.seq > ? ORDER BY v.seq LIMIT ?`)
      .all(nameKey(name), Number(after ?? 0) || 0, limit + 1) as VersionRow[];
    return this.page(rows, limit, (row) => String(row.seq));
  }

  private page(rows: VersionRow[], limit: number, cursor: (row: VersionRow) => string): Page<KeyVersion> {
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items: items.map(toVersion), ...(rows.length > limit && last ? { next: cursor(last) } : {}) };
  }

  /** Soft delete: every version stays, hidden, until recovered or purged. */
  softDelete(name: string, deletedDate: number, scheduledPurgeDate: number): { latest: KeyVersion; deleted: DeletedInfo } {
    return this.db
      .transaction(() => {
        const latest = this.get(name);
        this.db.prepare('UPDATE keys SET deleted_date = ?, scheduled_purge_date = ? WHERE name_key = ?').run(deletedDate, scheduledPurgeDate, nameKey(name));
        return { latest, deleted: { deletedDate, scheduledPurgeDate } };
      })
      .immediate();
  }

  getDeleted(name: string): { latest: KeyVersion; deleted: DeletedInfo } {
    const key = this.deletedKey(name);
    const row = this.versionRow(name);
    if (!row) throw new KeyNotFound(name, undefined, true);
    return { latest: toVersion(row), deleted: { deletedDate: key.deleted_date!, scheduledPurgeDate: key.scheduled_purge_date! } };
  }

  listDeleted(limit: number, after?: string): Page<{ latest: KeyVersion; deleted: DeletedInfo }> {
    const rows = this.db
      .prepare(
        `SELECT ${VERSION_COLUMNS}, k.deleted_date, k.scheduled_purge_date FROM keys k
         JOIN key_versions v ON v.seq = (SELECT MAX(seq) FROM key_versions WHERE name_key = k.name_key)
         WHERE k.deleted_date IS NOT NULL AND k.name_key > ? ORDER BY k.name_key LIMIT ?`,
      )
      .all(after ?? '', limit + 1) as (VersionRow & { deleted_date: number; scheduled_purge_date: number })[];
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map((row) => ({ latest: toVersion(row), deleted: { deletedDate: row.deleted_date, scheduledPurgeDate: row.scheduled_purge_date } })),
      ...(rows.length > limit && last ? { next: nameKey(last.name) } : {}),
    };
  }

  recover(name: string): KeyVersion {
    this.db
      .transaction(() => {
        this.deletedKey(name);
        this.db.prepare('UPDATE keys SET deleted_date = NULL, scheduled_purge_date = NULL WHERE name_key = ?').run(nameKey(name));
      })
      .immediate();
    return this.get(name);
  }

  /** Permanently removes a soft-deleted key and all its versions. */
  purge(name: string): void {
    this.db
      .transaction(() => {
        this.deletedKey(name);
        this.db.prepare('DELETE FROM keys WHERE name_key = ?').run(nameKey(name));
      })
      .immediate();
  }

  /** Purges deleted keys whose retention has passed; returns their names. */
  purgeDue(now: number): string[] {
    return this.db
      .transaction(() => {
        const due = this.db.prepare('SELECT name FROM keys WHERE deleted_date IS NOT NULL AND scheduled_purge_date <= ?').all(now) as { name: string }[];
        this.db.prepare('DELETE FROM keys WHERE deleted_date IS NOT NULL AND scheduled_purge_date <= ?').run(now);
        return due.map((r) => r.name);
      })
      .immediate();
  }

  rotationPolicy(name: string): RotationPolicy | undefined {
    const row = this.liveKey(name);
    return row.rotation_policy ? (JSON.parse(row.rotation_policy) as RotationPolicy) : undefined;
  }

  setRotationPolicy(name: string, policy: RotationPolicy): RotationPolicy {
    this.db
      .transaction(() => {
        this.liveKey(name);
        this.db.prepare('UPDATE keys SET rotation_policy = ? WHERE name_key = ?').run(JSON.stringify(policy), nameKey(name));
      })
      .immediate();
    return policy;
  }

  /** Live keys that carry a rotation policy, with their latest version (for the auto-rotation sweep). */
  keysWithRotationPolicy(): { latest: KeyVersion; policy: RotationPolicy }[] {
    const rows = this.db
      .prepare(
        `SELECT ${VERSION_COLUMNS}, k.rotation_policy FROM keys k JOIN key_versions v ON v.seq = (SELECT MAX(seq) FROM key_versions WHERE name_key = k.name_key)
         WHERE k.deleted_date IS NULL AND k.rotation_policy IS NOT NULL`,
      )
      .all() as (VersionRow & { rotation_policy: string })[];
    return rows.map((row) => ({ latest: toVersion(row), policy: JSON.parse(row.rotation_policy) as RotationPolicy }));
  }

  /** Every version of a live key with its material, oldest first: what a backup seals. */
  async snapshot(name: string): Promise<KeySnapshot> {
    const key = this.liveKey(name);
    const rows = this.db
      .prepare(`SELECT ${VERSION_COLUMNS} FROM key_versions v JOIN keys k ON k.name_key = v.name_key WHERE v.name_key = ? ORDER BY v.seq`)
      .all(nameKey(name)) as VersionRow[];
    const versions: KeyVersionWithMaterial[] = [];
    for (const row of rows) versions.push({ version: toVersion(row), material: await this.open(row) });
    return { name: key.name, ...(key.rotation_policy ? { rotationPolicy: JSON.parse(key.rotation_policy) as RotationPolicy } : {}), versions };
  }

  /** Restores a backed-up key under its own name and versions; never overwrites a live or deleted key. */
  async restore(snapshot: KeySnapshot, created: number): Promise<KeyVersion> {
    const sealed: Buffer[] = [];
    for (const v of snapshot.versions) sealed.push(await this.master.seal(materialBytes(v.material), aad(snapshot.name, v.version.version)));
    this.db
      .transaction(() => {
        const existing = this.keyRow(snapshot.name);
        if (existing) {
          throw new KmsConflict(
            existing.deleted_date === null ? `Key ${existing.name} already exists` : `Key ${existing.name} is currently in a deleted but recoverable state`,
          );
        }
        this.db
          .prepare('INSERT INTO keys (name_key, name, created, rotation_policy) VALUES (?, ?, ?, ?)')
          .run(nameKey(snapshot.name), snapshot.name, created, snapshot.rotationPolicy ? JSON.stringify(snapshot.rotationPolicy) : null);
        snapshot.versions.forEach(({ version }, i) => this.insertVersion({ ...version, name: snapshot.name }, version.version, sealed[i]!));
      })
      .immediate();
    return this.get(snapshot.name);
  }
}
