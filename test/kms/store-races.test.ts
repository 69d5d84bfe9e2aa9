import type { KmsCore } from '../../src/kms/operations/core';
import { createKey } from '../../src/kms/operations/keys';
import { rotateDueKeys, setRotationPolicy } from '../../src/kms/operations/rotation';
import type { KeyStore } from '../../src/kms/store/key-store';
import { storeBackends } from './store-backends';

/**
 * Where two replicas could race on one key, each through its own store (for PostgreSQL its own
 * pool: two KMS processes on one database). Every race is run many times at once; the
 * assertions hold whatever order the database picks.
 */
const ROUNDS = 12;
const now = () => 1_800_000_000;

const settle = <T>(promise: Promise<T>) =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: { code?: string }) => ({ ok: false as const, code: error.code }),
  );

describe.each(storeBackends().map((backend) => [backend.name, backend] as const))('races between replicas on %s', (name, backend) => {
  backend.describe(`${name}: two replicas on one vault`, () => {
    let a: KeyStore;
    let b: KeyStore;
    let core: KmsCore;

    beforeAll(async () => {
      const vault = await backend.vault('races');
      a = vault.store;
      b = await vault.replica();
      core = vault.core(now);
    });

    const newVersion = (store: KeyStore, key: string) => createKey({ ...core, store }, key, { kty: 'oct' });

    test('two creates of one new name both land as versions; none is lost or doubled', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const key = `twice-${round}`;
        const made = await Promise.all([newVersion(a, key), newVersion(b, key), newVersion(a, key), newVersion(b, key)]);
        const stored = (await a.listVersions(key, 10)).items.map((v) => v.version);
        expect(new Set(made.map((v) => v.version)).size).toBe(4);
        expect(stored.sort()).toEqual(made.map((v) => v.version).sort());
        expect(made.every((v) => v.name === key)).toBe(true);
      }
    });

    test('a create racing a delete either lands before it (and is deleted with the key) or is refused as a conflict', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const key = `create-delete-${round}`;
        await newVersion(a, key);
        const [created, deleted] = await Promise.all([settle(newVersion(b, key)), settle(a.softDelete(key, 1, 2))]);
        expect(deleted.ok).toBe(true);
        const versions = (await a.recover(key), (await a.listVersions(key, 10)).items.map((v) => v.version));
        // Before it: the delete saw the new version as the key's latest. After it: refused.
        if (created.ok) expect([versions, deleted.ok && deleted.value.latest.version]).toEqual([expect.arrayContaining([created.value.version]), created.value.version]);
        else expect(created.code).toBe('conflict');
        expect(versions.length).toBe(created.ok ? 2 : 1);
      }
    });

    test('a release racing a delete reads the key whole or not at all; after the delete is acknowledged no replica reads it', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const key = `release-delete-${round}`;
        const made = await newVersion(a, key);
        // A release reads the version, then its material: either both before the delete, or a 404.
        const release = async () => {
          const version = await b.get(key);
          const { material } = await b.getWithMaterial(version.name, version.version);
          return material;
        };
        const [released, deleted] = await Promise.all([settle(release()), settle(a.softDelete(key, 1, 2))]);
        expect(deleted.ok).toBe(true);
        if (released.ok) expect(released.value.kind).toBe('oct');
        else expect(released.code).toBe('key_not_found');
        await expect(b.get(key)).rejects.toMatchObject({ code: 'key_not_found' });
        await expect(b.getWithMaterial(key, made.version)).rejects.toMatchObject({ code: 'key_not_found' });
      }
    });

    test('a purge racing a recovery: exactly one succeeds, and the key is as the winner left it', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const key = `purge-recover-${round}`;
        const made = await newVersion(a, key);
        await a.softDelete(key, 1, 2);
        const [purged, recovered] = await Promise.all(round % 2 ? [settle(a.purge(key)), settle(b.recover(key))] : [settle(b.purge(key)), settle(a.recover(key))]);
        expect([purged.ok, recovered.ok].filter(Boolean)).toHaveLength(1);
        if (recovered.ok) {
          expect((await a.get(key)).version).toBe(made.version);
          expect((await b.getWithMaterial(key)).material.kind).toBe('oct');
        } else {
          expect(recovered.code).toBe('key_not_found');
          await expect(a.get(key)).rejects.toMatchObject({ code: 'key_not_found' });
          await expect(b.getDeleted(key)).rejects.toMatchObject({ code: 'key_not_found' });
        }
      }
    });

    test('the rotation sweeps of two replicas rotate a due key once', async () => {
      let clock = 1_800_000_000;
      const coreOf = (store: KeyStore): KmsCore => ({ ...core, store, now: () => clock });
      for (let round = 0; round < ROUNDS / 2; round++) {
        const key = `sweep-rotate-${round}`;
        await createKey(coreOf(a), key, { kty: 'oct' });
        await setRotationPolicy(coreOf(a), key, { lifetimeActions: [{ trigger: { timeAfterCreate: 'P7D' }, action: { type: 'Rotate' } }] });
        clock += 8 * 86_400;
        const [fromA, fromB] = await Promise.all([rotateDueKeys(coreOf(a)), rotateDueKeys(coreOf(b))]);
        expect([...fromA, ...fromB].filter((name) => name === key)).toEqual([key]);
        expect((await b.listVersions(key, 10)).items).toHaveLength(2);
      }
    });

    test('the retention sweep racing a recovery never purges a key that was recovered', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const key = `sweep-recover-${round}`;
        await newVersion(a, key);
        await a.softDelete(key, 1, 2);
        const [swept, recovered] = await Promise.all([settle(b.purgeDue(10)), settle(a.recover(key))]);
        expect(swept.ok).toBe(true);
        const purgedIt = swept.ok && swept.value.includes(key);
        expect(recovered.ok).toBe(!purgedIt);
        if (recovered.ok) expect((await b.get(key)).name).toBe(key);
        else await expect(b.get(key)).rejects.toMatchObject({ code: 'key_not_found' });
      }
    });
  });
});
