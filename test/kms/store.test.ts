import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SealedDataInvalid, MasterKeyUnavailable } from '../../src/errors';
import { openMasterKey, type MasterKey } from '../../src/kms';
import { backupKey, restoreKey } from '../../src/kms/operations/backup';
import type { KmsCore } from '../../src/kms/operations/core';
import { createKey } from '../../src/kms/operations/keys';
import { deleteKey, purgeExpiredKeys } from '../../src/kms/operations/lifecycle';
import { rotateDueKeys, setRotationPolicy } from '../../src/kms/operations/rotation';
import { openDatabase, type Db } from '../../src/kms/store/database';
import { KeyStore } from '../../src/kms/store/key-store';
import { KEY_STORE_MIGRATIONS } from '../../src/kms/store/migrations';
import { tempDir } from './harness';

let temp: Awaited<ReturnType<typeof tempDir>>;
const opened: { db: Db; master: MasterKey }[] = [];
let clock = 1_800_000_000;

async function core(name: string): Promise<KmsCore & { db: Db }> {
  const db = openDatabase(join(temp.dir, `${name}.sqlite`), { synchronous: 'FULL', migrations: KEY_STORE_MIGRATIONS });
  const master = await openMasterKey({ kind: 'file', path: join(temp.dir, `${name}.key`) });
  opened.push({ db, master });
  return { db, store: new KeyStore(db, master), master, now: () => clock, recoverableDays: 7, validateReleasePolicy: () => undefined };
}

beforeAll(async () => {
  temp = await tempDir();
});

afterAll(async () => {
  for (const { db, master } of opened) {
    db.close();
    await master.close();
  }
  await temp.remove();
});

describe('master key file', () => {
  test('is created 0600 and refused when group or others can read it', async () => {
    const path = join(temp.dir, 'loose.key');
    const key = await openMasterKey({ kind: 'file', path });
    await key.close();
    await chmod(path, 0o644);
    await expect(openMasterKey({ kind: 'file', path })).rejects.toBeInstanceOf(MasterKeyUnavailable);
  });

  test('of the wrong length is refused', async () => {
    const path = join(temp.dir, 'short.key');
    await writeFile(path, Buffer.alloc(16), { mode: 0o600 });
    await expect(openMasterKey({ kind: 'file', path })).rejects.toThrow(/32 bytes/);
  });

  test('seals with AES-256-GCM bound to the AAD', async () => {
    const key = await openMasterKey({ kind: 'file', path: join(temp.dir, 'aad.key') });
    const sealed = await key.seal(Buffer.from('secret'), Buffer.from('a'));
    expect(sealed.length).toBe(12 + 6 + 16);
    expect((await key.open(sealed, Buffer.from('a'))).toString()).toBe('secret');
    await expect(key.open(sealed, Buffer.from('b'))).rejects.toBeInstanceOf(SealedDataInvalid);
    await key.close();
  });
});

describe('key store', () => {
  test('material sealed for one key and version does not open as another', async () => {
    const c = await core('swap');
    const a = await createKey(c, 'a', { kty: 'oct' });
    const b = await createKey(c, 'b', { kty: 'oct' });
    c.db.prepare("UPDATE key_versions SET sealed = (SELECT sealed FROM key_versions WHERE version = ?) WHERE version = ?").run(a.version, b.version);
    await expect(c.store.getWithMaterial('b')).rejects.toBeInstanceOf(SealedDataInvalid);
    expect((await c.store.getWithMaterial('a')).material.kind).toBe('oct');
  });

  test('stores no key material in the clear', async () => {
    const c = await core('clear');
    const v = await createKey(c, 'clear', { kty: 'oct' });
    const { material } = await c.store.getWithMaterial('clear', v.version);
    const raw = (material as { raw: Buffer }).raw;
    const rows = c.db.prepare('SELECT * FROM key_versions').all() as Record<string, unknown>[];
    for (const row of rows) for (const value of Object.values(row)) expect(Buffer.from(value instanceof Buffer ? value : String(value)).includes(raw)).toBe(false);
  });

  test('migrations run once and a newer schema is refused', () => {
    const path = join(temp.dir, 'migrate.sqlite');
    openDatabase(path, { synchronous: 'FULL', migrations: KEY_STORE_MIGRATIONS }).close();
    const db = openDatabase(path, { synchronous: 'FULL', migrations: KEY_STORE_MIGRATIONS });
    expect(db.pragma('user_version', { simple: true })).toBe(KEY_STORE_MIGRATIONS.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    db.pragma('user_version = 99');
    db.close();
    expect(() => openDatabase(path, { synchronous: 'FULL', migrations: KEY_STORE_MIGRATIONS })).toThrow(/newer/);
  });

  test('a backup restores only into a KMS holding the same master key', async () => {
    const source = await core('backup-source');
    const other = await core('backup-other');
    await createKey(source, 'moving', { kty: 'EC' });
    const blob = await backupKey(source, 'moving');
    expect(blob.toString()).not.toContain('"d"');
    await expect(restoreKey(other, blob)).rejects.toMatchObject({ code: 'sealed_data_invalid', status: 400 });
    const forged = JSON.parse(blob.toString());
    forged.masterKeyId = other.master.id;
    await expect(restoreKey(other, Buffer.from(JSON.stringify(forged)))).rejects.toBeInstanceOf(SealedDataInvalid);
  });

  test('the sweep rotates keys whose Rotate action is due and purges keys past retention', async () => {
    const c = await core('sweep');
    const key = await createKey(c, 'auto', { kty: 'oct' });
    setRotationPolicy(c, 'auto', { lifetimeActions: [{ trigger: { timeAfterCreate: 'P7D' }, action: { type: 'Rotate' } }], attributes: { expiryTime: 'P30D' } });
    expect(await rotateDueKeys(c)).toEqual([]);
    clock += 8 * 86_400;
    expect(await rotateDueKeys(c)).toEqual(['auto']);
    const latest = c.store.get('auto');
    expect(latest.version).not.toBe(key.version);
    expect(latest.attributes.exp).toBe(clock + 30 * 86_400);
    expect(await rotateDueKeys(c)).toEqual([]);

    await createKey(c, 'gone', { kty: 'oct' });
    deleteKey(c, 'gone');
    expect(purgeExpiredKeys(c)).toEqual([]);
    clock += 7 * 86_400;
    expect(purgeExpiredKeys(c)).toEqual(['gone']);
    expect(() => c.store.getDeleted('gone')).toThrow(/not found/);
  });
});
