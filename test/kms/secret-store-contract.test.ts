import { SealedDataInvalid } from '../../src/errors';
import { createKey } from '../../src/kms/operations/keys';
import { backupKey } from '../../src/kms/operations/backup';
import { backupSecret, restoreSecret } from '../../src/kms/operations/secret-backup';
import {
  deleteSecret,
  getDeletedSecret,
  getSecret,
  listDeletedSecrets,
  listSecrets,
  listSecretVersions,
  purgeDeletedSecret,
  purgeExpiredSecrets,
  recoverDeletedSecret,
  setSecret,
  updateSecret,
} from '../../src/kms/operations/secrets';
import { storeBackends } from './store-backends';

/**
 * The secret store's contract, one table run on both backends: what the operations layer sees
 * must not depend on where the secrets live. Each test takes a vault (database + master key) of
 * its own.
 */
let clock = 1_800_000_000;
const now = () => clock;

describe.each(storeBackends().map((backend) => [backend.name, backend] as const))('secret store on %s', (name, backend) => {
  backend.describe(`${name}: secrets, versions, deletion and backup`, () => {
    test('stores no value in the clear, and a value sealed for one secret and version does not open as another', async () => {
      const v = await backend.vault('secret-seal');
      const c = v.core(now);
      const a = await setSecret(c, 'a', { value: 'value-of-a-7d2e' });
      const b = await setSecret(c, 'b', { value: 'value-of-b-91fc' });
      const rows = [...(await v.sql('SELECT * FROM secret_versions')), ...(await v.sql('SELECT * FROM secrets'))];
      expect(rows.length).toBe(4);
      for (const row of rows) for (const value of Object.values(row)) expect(Buffer.from(value instanceof Buffer ? value : String(value)).includes('value-of-')).toBe(false);
      const [row] = await v.sql('SELECT sealed FROM secret_versions WHERE version = ?', a.version);
      await v.sql('UPDATE secret_versions SET sealed = ? WHERE version = ?', row!.sealed, b.version);
      await expect(getSecret(c, 'b')).rejects.toBeInstanceOf(SealedDataInvalid);
      expect((await getSecret(c, 'a')).value).toBe('value-of-a-7d2e');
    });

    test('names and versions compare case-insensitively; the first spelling is kept; versions list oldest first in pages', async () => {
      const v = await backend.vault('secret-names');
      const c = v.core(now);
      const first = await setSecret(c, 'Mixed-Case', { value: '1', tags: { t: 'x' } });
      const versions = [first];
      for (let i = 2; i <= 5; i++) versions.push(await setSecret(c, 'mixed-case', { value: String(i) }));
      expect((await getSecret(c, 'MIXED-CASE')).version).toMatchObject({ name: 'Mixed-Case', version: versions[4]!.version });
      expect((await getSecret(c, 'mixed-case', first.version.toUpperCase())).value).toBe('1');
      const seen: string[] = [];
      let after: string | undefined;
      do {
        const page = await listSecretVersions(c, 'mixed-case', 2, after);
        seen.push(...page.items.map((i) => i.version));
        after = page.next;
      } while (after);
      expect(seen).toEqual(versions.map((x) => x.version));
      await setSecret(c, 'another', { value: 'x' });
      expect((await listSecrets(c, 10)).items.map((i) => i.name)).toEqual(['another', 'Mixed-Case']);
      await expect(listSecretVersions(c, 'nothing', 10)).rejects.toMatchObject({ code: 'secret_not_found', status: 404 });
    });

    test('an update changes one version’s properties and never its value; nbf must precede exp', async () => {
      const v = await backend.vault('secret-update');
      const c = v.core(now);
      const set = await setSecret(c, 'u', { value: 'kept', contentType: 'text/plain', attributes: { exp: clock + 100 } });
      const updated = await updateSecret(c, 'u', set.version, { attributes: { enabled: false }, tags: { a: 'b' } });
      expect(updated).toMatchObject({ contentType: 'text/plain', tags: { a: 'b' }, attributes: { enabled: false, exp: clock + 100 } });
      await expect(getSecret(c, 'u')).rejects.toMatchObject({ code: 'forbidden', status: 403, details: { reason: 'secret_disabled' } });
      await expect(updateSecret(c, 'u', set.version, { attributes: { nbf: clock + 200 } })).rejects.toMatchObject({ code: 'bad_parameter' });
      await updateSecret(c, 'u', set.version, { attributes: { enabled: true } });
      expect((await getSecret(c, 'u')).value).toBe('kept');
      await expect(updateSecret(c, 'u', '0'.repeat(32), {})).rejects.toMatchObject({ code: 'secret_not_found' });
    });

    test('soft delete hides the secret and holds its name until it is recovered or purged; the sweep purges past retention', async () => {
      const v = await backend.vault('secret-lifecycle');
      const c = v.core(now);
      const set = await setSecret(c, 'life', { value: 'v' });
      const { deleted } = await deleteSecret(c, 'life');
      expect(deleted).toEqual({ deletedDate: clock, scheduledPurgeDate: clock + 7 * 86_400 });
      await expect(getSecret(c, 'life')).rejects.toMatchObject({ code: 'secret_not_found' });
      await expect(deleteSecret(c, 'life')).rejects.toMatchObject({ code: 'secret_not_found' });
      await expect(setSecret(c, 'LIFE', { value: 'w' })).rejects.toMatchObject({ code: 'conflict', status: 409 });
      expect((await getDeletedSecret(c, 'life')).latest.version).toBe(set.version);
      expect((await listDeletedSecrets(c, 10)).items.map((d) => d.latest.name)).toEqual(['life']);
      expect((await listSecrets(c, 10)).items).toEqual([]);
      expect((await recoverDeletedSecret(c, 'life')).version).toBe(set.version);
      await expect(recoverDeletedSecret(c, 'life')).rejects.toMatchObject({ code: 'secret_not_found', message: expect.stringMatching(/deleted secret/i) });
      await expect(purgeDeletedSecret(c, 'life')).rejects.toMatchObject({ code: 'secret_not_found' });
      await deleteSecret(c, 'life');
      await purgeDeletedSecret(c, 'life');
      expect(await v.sql('SELECT * FROM secret_versions')).toEqual([]);

      await setSecret(c, 'gone', { value: 'x' });
      await deleteSecret(c, 'gone');
      expect(await purgeExpiredSecrets(c)).toEqual([]);
      clock += 7 * 86_400;
      expect(await purgeExpiredSecrets(c)).toEqual(['gone']);
      await expect(getDeletedSecret(c, 'gone')).rejects.toMatchObject({ code: 'secret_not_found' });
    });

    test('keys and secrets of one name are apart', async () => {
      const v = await backend.vault('secret-apart');
      const c = v.core(now);
      await createKey(c, 'same', { kty: 'oct' });
      await setSecret(c, 'same', { value: 'secret' });
      await deleteSecret(c, 'same');
      expect((await v.store.get('same')).name).toBe('same');
      await expect(restoreSecret(c, await backupKey(c, 'same'))).rejects.toMatchObject({ code: 'bad_parameter' });
    });

    test('a backup comes back with every version after a purge, only under the same master key, never over a live or deleted secret', async () => {
      const source = await backend.vault('secret-backup');
      const other = await backend.vault('secret-backup-other');
      const c = source.core(now);
      const one = await setSecret(c, 'moving', { value: 'one', contentType: 'text/plain' });
      const two = await setSecret(c, 'moving', { value: 'two', tags: { v: '2' } });
      const blob = await backupSecret(c, 'moving');
      expect(blob.toString()).not.toMatch(/"one"|"two"/);
      await expect(restoreSecret(c, blob)).rejects.toMatchObject({ code: 'conflict' });
      await deleteSecret(c, 'moving');
      await expect(restoreSecret(c, blob)).rejects.toMatchObject({ code: 'conflict' });
      await purgeDeletedSecret(c, 'moving');
      expect((await restoreSecret(c, blob)).version).toBe(two.version);
      expect(await getSecret(c, 'moving', one.version)).toEqual({ version: one, value: 'one' });
      expect((await getSecret(c, 'moving')).version.tags).toEqual({ v: '2' });
      await expect(restoreSecret(other.core(now), blob)).rejects.toMatchObject({ code: 'sealed_data_invalid', status: 400 });
      const forged = JSON.parse(blob.toString());
      forged.masterKeyId = other.master.id;
      await expect(restoreSecret(other.core(now), Buffer.from(JSON.stringify(forged)))).rejects.toBeInstanceOf(SealedDataInvalid);
    });

    test('a vault opened under another master key names the one that sealed its values', async () => {
      const v = await backend.vault('secret-foreign');
      await setSecret(v.core(now), 'sealed', { value: 'x' });
      expect(await v.secrets.foreignMasterKeyIds()).toEqual([]);
      await v.sql('UPDATE secret_versions SET master_key_id = ?', 'file:elsewhere');
      expect(await v.secrets.foreignMasterKeyIds()).toEqual(['file:elsewhere']);
      await expect(v.secrets.getWithValue('sealed')).rejects.toBeInstanceOf(SealedDataInvalid);
    });

    test('a second store on the same vault (a replica) reads every acknowledged change; concurrent sets of one name all land', async () => {
      const v = await backend.vault('secret-replica');
      const other = await v.secretReplica();
      const c = v.core(now);
      const set = await setSecret(c, 'shared', { value: 'v1' });
      expect(await other.get('shared')).toEqual(set);
      expect((await other.getWithValue('shared')).value).toBe('v1');
      await deleteSecret(c, 'shared');
      await expect(other.get('shared')).rejects.toMatchObject({ code: 'secret_not_found' });
      await other.recover('shared');
      const writes = await Promise.all([
        ...[1, 2, 3].map((i) => v.secrets.addVersion({ name: 'race', value: `a${i}`, attributes: { enabled: true, created: clock, updated: clock }, tags: {} }, clock)),
        ...[1, 2, 3].map((i) => other.addVersion({ name: 'race', value: `b${i}`, attributes: { enabled: true, created: clock, updated: clock }, tags: {} }, clock)),
      ]);
      expect((await listSecretVersions(c, 'race', 25)).items.map((i) => i.version).sort()).toEqual(writes.map((w) => w.version).sort());
    });
  });
});
