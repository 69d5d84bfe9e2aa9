import { SealedDataInvalid } from '../../src/errors';
import { backupKey, restoreKey } from '../../src/kms/operations/backup';
import { createKey, getKey, importKey, listKeys, listKeyVersions, rotateKey, updateKey } from '../../src/kms/operations/keys';
import { deleteKey, getDeletedKey, listDeletedKeys, purgeDeletedKey, purgeExpiredKeys, recoverDeletedKey } from '../../src/kms/operations/lifecycle';
import { getRotationPolicy, rotateDueKeys, setRotationPolicy } from '../../src/kms/operations/rotation';
import { storeBackends } from './store-backends';

/**
 * The key store's contract, one table run on both backends: what the operations layer sees must
 * not depend on where the keys live. Each test takes a vault (database + master key) of its own.
 */
let clock = 1_800_000_000;
const now = () => clock;

describe.each(storeBackends().map((backend) => [backend.name, backend] as const))('key store on %s', (name, backend) => {
  backend.describe(`${name}: keys, versions, deletion and rotation`, () => {
    test('material sealed for one key and version does not open as another', async () => {
      const v = await backend.vault('swap');
      const c = v.core(now);
      const a = await createKey(c, 'a', { kty: 'oct' });
      const b = await createKey(c, 'b', { kty: 'oct' });
      const [row] = await v.sql('SELECT sealed FROM key_versions WHERE version = ?', a.version);
      await v.sql('UPDATE key_versions SET sealed = ? WHERE version = ?', row!.sealed, b.version);
      await expect(v.store.getWithMaterial('b')).rejects.toBeInstanceOf(SealedDataInvalid);
      expect((await v.store.getWithMaterial('a')).material.kind).toBe('oct');
    });

    test('stores no key material in the clear', async () => {
      const v = await backend.vault('clear');
      const created = await createKey(v.core(now), 'clear', { kty: 'oct' });
      const { material } = await v.store.getWithMaterial('clear', created.version);
      const raw = (material as { raw: Buffer }).raw;
      const rows = [...(await v.sql('SELECT * FROM key_versions')), ...(await v.sql('SELECT * FROM keys'))];
      expect(rows.length).toBe(2);
      for (const row of rows) for (const value of Object.values(row)) expect(Buffer.from(value instanceof Buffer ? value : String(value)).includes(raw)).toBe(false);
    });

    test('a backup restores only into a vault holding the same master key', async () => {
      const source = await backend.vault('backup-source');
      const other = await backend.vault('backup-other');
      await createKey(source.core(now), 'moving', { kty: 'EC' });
      const blob = await backupKey(source.core(now), 'moving');
      expect(blob.toString()).not.toContain('"d"');
      await expect(restoreKey(other.core(now), blob)).rejects.toMatchObject({ code: 'sealed_data_invalid', status: 400 });
      const forged = JSON.parse(blob.toString());
      forged.masterKeyId = other.master.id;
      await expect(restoreKey(other.core(now), Buffer.from(JSON.stringify(forged)))).rejects.toBeInstanceOf(SealedDataInvalid);
    });

    test('a backup comes back with its versions, order and rotation policy after a purge; never over a live or deleted key', async () => {
      const v = await backend.vault('roundtrip');
      const c = v.core(now);
      const first = await createKey(c, 'Round', { kty: 'RSA', key_size: 2048, tags: { team: 'a' } });
      const second = await rotateKey(c, 'round');
      await setRotationPolicy(c, 'round', { lifetimeActions: [{ trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Notify' } }] });
      const blob = await backupKey(c, 'round');
      await expect(restoreKey(c, blob)).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/already exists/) });
      await deleteKey(c, 'round');
      await expect(restoreKey(c, blob)).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/deleted but recoverable/) });
      await purgeDeletedKey(c, 'round');
      const restored = await restoreKey(c, blob);
      expect(restored).toMatchObject({ name: 'Round', version: second.version, tags: { team: 'a' } });
      expect((await listKeyVersions(c, 'round', 10)).items.map((x) => x.version)).toEqual([first.version, second.version]);
      expect((await getRotationPolicy(c, 'round'))?.lifetimeActions).toEqual([{ trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Notify' } }]);
      expect((await v.store.getWithMaterial('round', first.version)).material.kind).toBe('RSA');
    });

    test('names and versions compare case-insensitively; the first spelling is kept', async () => {
      const v = await backend.vault('case');
      const c = v.core(now);
      const created = await createKey(c, 'MixedCase', { kty: 'oct' });
      expect((await getKey(c, 'mixedcase')).name).toBe('MixedCase');
      expect((await getKey(c, 'MIXEDCASE', created.version.toUpperCase())).version).toBe(created.version);
      await expect(getKey(c, 'mixedcase', '0'.repeat(32))).rejects.toMatchObject({ code: 'key_not_found', message: expect.stringContaining(`/${'0'.repeat(32)}`) });
      await expect(getKey(c, 'absent')).rejects.toMatchObject({ code: 'key_not_found', status: 404 });
    });

    test('lists keys by name and versions by age, in pages that resume where they stopped', async () => {
      const v = await backend.vault('pages');
      const c = v.core(now);
      for (const n of ['b', 'a', 'C', 'd']) await createKey(c, n, { kty: 'oct' });
      const versions = [(await getKey(c, 'a')).version, (await rotateKey(c, 'a')).version, (await rotateKey(c, 'a')).version];
      await deleteKey(c, 'd');
      const first = await listKeys(c, 2);
      expect(first.items.map((k) => k.name)).toEqual(['a', 'b']);
      const second = await listKeys(c, 2, first.next);
      expect(second.items.map((k) => k.name)).toEqual(['C']);
      expect(second.next).toBeUndefined();
      expect(first.items[0]!.version).toBe(versions[2]);
      const older = await listKeyVersions(c, 'a', 2);
      const newer = await listKeyVersions(c, 'a', 2, older.next);
      expect([...older.items, ...newer.items].map((x) => x.version)).toEqual(versions);
      await expect(listKeyVersions(c, 'd', 2)).rejects.toMatchObject({ code: 'key_not_found' });
    });

    test('an update changes one version in one step and refuses to change exportability', async () => {
      const v = await backend.vault('update');
      const c = v.core(now);
      const old = await createKey(c, 'u', { kty: 'oct', key_ops: ['encrypt', 'decrypt'] });
      const latest = await rotateKey(c, 'u');
      const updated = await updateKey(c, 'u', old.version, { attributes: { enabled: false }, tags: { x: '1' }, key_ops: ['encrypt'] });
      expect(updated).toMatchObject({ version: old.version, keyOps: ['encrypt'], tags: { x: '1' }, attributes: { enabled: false } });
      expect(await getKey(c, 'u')).toMatchObject({ version: latest.version, attributes: { enabled: true } });
      await expect(updateKey(c, 'u', undefined, { attributes: { exportable: true } })).rejects.toMatchObject({ code: 'bad_parameter' });
      expect((await getKey(c, 'u', old.version)).tags).toEqual({ x: '1' });
    });

    test('soft delete hides the key and holds its name until it is recovered or purged', async () => {
      const v = await backend.vault('lifecycle');
      const c = v.core(now);
      const created = await importKey(c, 'life', { key: { kty: 'oct', k: Buffer.alloc(32, 7).toString('base64url') } as { kty: string } });
      const { deleted } = await deleteKey(c, 'life');
      expect(deleted).toEqual({ deletedDate: clock, scheduledPurgeDate: clock + 7 * 86_400 });
      await expect(getKey(c, 'life')).rejects.toMatchObject({ code: 'key_not_found' });
      await expect(deleteKey(c, 'life')).rejects.toMatchObject({ code: 'key_not_found' });
      await expect(createKey(c, 'LIFE', { kty: 'oct' })).rejects.toMatchObject({ code: 'conflict', status: 409 });
      await expect(setRotationPolicy(c, 'life', { lifetimeActions: [] })).rejects.toMatchObject({ code: 'key_not_found' });
      expect((await getDeletedKey(c, 'life')).latest.version).toBe(created.version);
      expect((await listDeletedKeys(c, 10)).items.map((d) => d.latest.name)).toEqual(['life']);
      expect((await listKeys(c, 10)).items).toEqual([]);
      expect((await recoverDeletedKey(c, 'life')).version).toBe(created.version);
      await expect(recoverDeletedKey(c, 'life')).rejects.toMatchObject({ code: 'key_not_found', message: expect.stringMatching(/deleted key/i) });
      await expect(purgeDeletedKey(c, 'life')).rejects.toMatchObject({ code: 'key_not_found' });
      const { material } = await v.store.getWithMaterial('life');
      expect(material).toEqual({ kind: 'oct', raw: Buffer.alloc(32, 7) });
      await deleteKey(c, 'life');
      await purgeDeletedKey(c, 'life');
      await expect(getDeletedKey(c, 'life')).rejects.toMatchObject({ code: 'key_not_found' });
      expect(await v.sql('SELECT * FROM key_versions')).toEqual([]);
      expect((await createKey(c, 'life', { kty: 'oct' })).version).not.toBe(created.version);
    });

    test('the sweep rotates keys whose Rotate action is due and purges keys past retention', async () => {
      const v = await backend.vault('sweep');
      const c = v.core(now);
      const key = await createKey(c, 'auto', { kty: 'oct' });
      await setRotationPolicy(c, 'auto', { lifetimeActions: [{ trigger: { timeAfterCreate: 'P7D' }, action: { type: 'Rotate' } }], attributes: { expiryTime: 'P30D' } });
      expect(await rotateDueKeys(c)).toEqual([]);
      clock += 8 * 86_400;
      expect(await rotateDueKeys(c)).toEqual(['auto']);
      const latest = await v.store.get('auto');
      expect(latest.version).not.toBe(key.version);
      expect(latest.attributes.exp).toBe(clock + 30 * 86_400);
      expect(await rotateDueKeys(c)).toEqual([]);

      await createKey(c, 'gone', { kty: 'oct' });
      await deleteKey(c, 'gone');
      expect(await purgeExpiredKeys(c)).toEqual([]);
      clock += 7 * 86_400;
      expect(await purgeExpiredKeys(c)).toEqual(['gone']);
      await expect(v.store.getDeleted('gone')).rejects.toThrow(/not found/);
    });

    test('a vault opened under another master key names the one that sealed its material', async () => {
      const v = await backend.vault('foreign');
      await createKey(v.core(now), 'sealed', { kty: 'oct' });
      expect(await v.store.foreignMasterKeyIds()).toEqual([]);
      await v.sql('UPDATE key_versions SET master_key_id = ?', 'file:elsewhere');
      expect(await v.store.foreignMasterKeyIds()).toEqual(['file:elsewhere']);
      await expect(v.store.getWithMaterial('sealed')).rejects.toBeInstanceOf(SealedDataInvalid);
    });

    test('a second store on the same vault (a replica) reads every acknowledged change at once', async () => {
      const v = await backend.vault('replica');
      const other = await v.replica();
      const c = v.core(now);
      const created = await createKey(c, 'shared', { kty: 'EC', crv: 'P-256' });
      expect(await other.get('shared')).toEqual(created);
      expect((await other.getWithMaterial('shared')).material.kind).toBe('EC');
      await updateKey(c, 'shared', undefined, { attributes: { enabled: false } });
      expect((await other.get('shared')).attributes.enabled).toBe(false);
      await deleteKey(c, 'shared');
      await expect(other.get('shared')).rejects.toMatchObject({ code: 'key_not_found' });
      await other.recover('shared');
      expect((await v.store.get('shared')).version).toBe(created.version);
      await v.store.ping();
    });
  });
});
