import { SealedDataInvalid } from '../../errors';
import type { Page, SecretVersion } from '../model';
import type { MasterKey } from '../vault';
import { nameKey } from './rows';
import type { DeletedSecret, SecretChange } from './secret-store';

/**
 * What both backends store a secret version as, column for column (rows.ts is the keys'
 * counterpart): JSON text for attributes and tags, the value sealed under the master key.
 */
export interface SecretVersionRow {
  seq: number;
  name: string;
  version: string;
  content_type: string | null;
  attributes: string;
  tags: string;
  master_key_id: string;
  sealed: Buffer;
}

export interface SecretRow {
  name_key: string;
  name: string;
  deleted_date: number | null;
  scheduled_purge_date: number | null;
}

export const SECRET_VERSION_COLUMNS = 'v.seq, s.name, v.version, v.content_type, v.attributes, v.tags, v.master_key_id, v.sealed';

/** AAD binding a sealed value to its secret and version (and apart from key material): a row copied elsewhere does not open. */
function aad(name: string, version: string): Buffer {
  return Buffer.from(`skr-kms secret value v1\0${nameKey(name)}\0${version}`);
}

export function sealValue(master: MasterKey, name: string, version: string, value: string): Promise<Buffer> {
  return master.seal(Buffer.from(value, 'utf8'), aad(name, version));
}

/** Opens a row's value; refuses a value another master key sealed. */
export async function openValue(master: MasterKey, row: SecretVersionRow): Promise<string> {
  if (row.master_key_id !== master.id) {
    throw new SealedDataInvalid(`secret ${row.name}/${row.version} is sealed under another master key`, { expected: row.master_key_id, actual: master.id });
  }
  const plain = await master.open(row.sealed, aad(row.name, row.version));
  try {
    return plain.toString('utf8');
  } finally {
    plain.fill(0);
  }
}

export function toSecretVersion(row: SecretVersionRow): SecretVersion {
  return {
    name: row.name,
    version: row.version,
    ...(row.content_type !== null ? { contentType: row.content_type } : {}),
    attributes: JSON.parse(row.attributes) as SecretVersion['attributes'],
    tags: JSON.parse(row.tags) as Record<string, string>,
  };
}

/** The mutable columns of a version, in the order both stores write them: content type, attributes, tags. */
export function secretColumns(input: SecretChange): [string | null, string, string] {
  return [input.contentType ?? null, JSON.stringify(input.attributes), JSON.stringify(input.tags)];
}

export type DeletedSecretRow = SecretVersionRow & { deleted_date: number; scheduled_purge_date: number };

export function deletedSecretPage(rows: DeletedSecretRow[], limit: number): Page<DeletedSecret> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map((row) => ({ latest: toSecretVersion(row), deleted: { deletedDate: Number(row.deleted_date), scheduledPurgeDate: Number(row.scheduled_purge_date) } })),
    ...(rows.length > limit && last ? { next: nameKey(last.name) } : {}),
  };
}
