import { randomBytes } from 'node:crypto';
import { KmsConflict, SealedDataInvalid } from '../../errors';
import { materialBytes, materialFromBytes } from '../keys/material';
import { familyOf, type KeyMaterial, type KeyVersion, type Page } from '../model';
import type { DeletedKey, KeySnapshot, KeyVersionWithMaterial } from './key-store';
import type { MasterKey } from '../vault';

/**
 * What both backends store a version as, column for column: JSON text for the structured
 * fields, the material sealed under the master key. The SQLite and PostgreSQL stores read rows
 * of this shape and turn them into KeyVersions here, so the two agree on every field.
 */
export interface VersionRow {
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

export interface KeyRow {
  name_key: string;
  name: string;
  rotation_policy: string | null;
  deleted_date: number | null;
  scheduled_purge_date: number | null;
}

/** Names compare case-insensitively as in Key Vault: rows are keyed by the lower-cased name. */
export const nameKey = (name: string) => name.toLowerCase();

export const newVersionId = () => randomBytes(16).toString('hex');

export const VERSION_COLUMNS = `v.seq, k.name, k.managed, v.version, v.kty, v.key_ops, v.public_jwk, v.attributes, v.tags, v.release_policy, v.master_key_id, v.sealed`;

/** AAD binding sealed material to its key and version: a row copied elsewhere does not open. */
function aad(name: string, version: string): Buffer {
  return Buffer.from(`skr-kms key material v1\0${nameKey(name)}\0${version}`);
}

export function sealMaterial(master: MasterKey, name: string, version: string, material: KeyMaterial): Promise<Buffer> {
  return master.seal(materialBytes(material), aad(name, version));
}

/** Opens a row's material; refuses material another master key sealed. */
export async function openMaterial(master: MasterKey, row: VersionRow): Promise<KeyMaterial> {
  if (row.master_key_id !== master.id) {
    throw new SealedDataInvalid(`key ${row.name}/${row.version} is sealed under another master key`, { expected: row.master_key_id, actual: master.id });
  }
  return materialFromBytes(familyOf(row.kty), await master.open(row.sealed, aad(row.name, row.version)));
}

/** A key's versions with their material opened, as a backup holds them (both stores read the same rows). */
export async function snapshotOf(master: MasterKey, name: string, rotationPolicy: string | null, rows: VersionRow[]): Promise<KeySnapshot> {
  const versions: KeyVersionWithMaterial[] = [];
  for (const row of rows) versions.push({ version: toVersion(row), material: await openMaterial(master, row) });
  return { name, ...(rotationPolicy ? { rotationPolicy: JSON.parse(rotationPolicy) as KeySnapshot['rotationPolicy'] } : {}), versions };
}

/** A snapshot's material sealed for this vault, version by version, before the restore's transaction. */
export async function sealSnapshot(master: MasterKey, snapshot: KeySnapshot): Promise<Buffer[]> {
  const sealed: Buffer[] = [];
  for (const v of snapshot.versions) sealed.push(await sealMaterial(master, snapshot.name, v.version.version, v.material));
  return sealed;
}

export function toVersion(row: VersionRow): KeyVersion {
  return {
    name: row.name,
    version: row.version,
    kty: row.kty,
    keyOps: JSON.parse(row.key_ops) as string[],
    publicJwk: JSON.parse(row.public_jwk) as Record<string, string>,
    attributes: JSON.parse(row.attributes) as KeyVersion['attributes'],
    tags: JSON.parse(row.tags) as Record<string, string>,
    ...(row.release_policy ? { releasePolicy: JSON.parse(row.release_policy) as KeyVersion['releasePolicy'] } : {}),
    managed: Number(row.managed) === 1,
  };
}

/** The columns of a new version, in the order both stores insert them. */
export function versionColumns(input: Pick<KeyVersion, 'keyOps' | 'publicJwk' | 'attributes' | 'tags' | 'releasePolicy'>): [string, string, string, string, string | null] {
  return [
    JSON.stringify(input.keyOps),
    JSON.stringify(input.publicJwk),
    JSON.stringify(input.attributes),
    JSON.stringify(input.tags),
    input.releasePolicy ? JSON.stringify(input.releasePolicy) : null,
  ];
}

/** What a store holds under a name: Key Vault words its conflicts the same way for both. */
export type ObjectKind = 'Key' | 'Secret';

export function deletedNameConflict(name: string, kind: ObjectKind = 'Key'): KmsConflict {
  return new KmsConflict(`${kind} ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the ${kind.toLowerCase()} can only be recovered or purged.`);
}

export function takenNameConflict(name: string, deleted: boolean, kind: ObjectKind = 'Key'): KmsConflict {
  return new KmsConflict(deleted ? `${kind} ${name} is currently in a deleted but recoverable state` : `${kind} ${name} already exists`);
}

/** One page of `rows` (fetched one beyond `limit`, so a next page is known to exist), each row made an item by `item`. */
export function page<R, T>(rows: R[], limit: number, cursor: (row: R) => string, item: (row: R) => T): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items: items.map(item), ...(rows.length > limit && last ? { next: cursor(last) } : {}) };
}

export function deletedPage(rows: (VersionRow & { deleted_date: number; scheduled_purge_date: number })[], limit: number): Page<DeletedKey> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map((row) => ({ latest: toVersion(row), deleted: { deletedDate: Number(row.deleted_date), scheduledPurgeDate: Number(row.scheduled_purge_date) } })),
    ...(rows.length > limit && last ? { next: nameKey(last.name) } : {}),
  };
}
