import { ManagedIdentityCredential } from '@azure/identity';
import { type KeyClient, type KeyVaultKey } from '@azure/keyvault-keys';
import { refuseNonLoopbackConnections } from '../identity/harness';
import { startStack, type Stack } from './harness';
import type { StoreBackend } from './store-backends';

/**
 * Every key-management operation through the real SDK, authenticated the way a deployment is:
 * ManagedIdentityCredential pointed at the local identity endpoint, over HTTPS trusted by the
 * KMS's CA — on each store: the state directory's SQLite files and a PostgreSQL database.
 */
/** The suite on one backend; each runs in its own test file (the SDK's credential caches tokens per process, and each stack has its own issuer). */
export function describeSdkKeys(backend: StoreBackend): void {
  backend.describe(`the KMS on ${backend.name}: key management through the SDK`, () => {
    let stack: Stack;
    let client: KeyClient;
    let restoreNet: () => void;
    const savedHost = process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;

    beforeAll(async () => {
      stack = await startStack({ store: await backend.kmsStore('sdk_keys') });
      restoreNet = refuseNonLoopbackConnections();
      process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = stack.identity.url;
      client = stack.client(new ManagedIdentityCredential());
    });

    afterAll(async () => {
      if (savedHost === undefined) delete process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
      else process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = savedHost;
      restoreNet();
      await stack.close();
    });

    const policy = { version: '1.0.0', anyOf: [{ authority: 'https://attest.example', allOf: [{ claim: 'x-ms-sevsnpvm-is-debuggable', equals: 'false' }] }] };
    const encodedPolicy = () => new TextEncoder().encode(JSON.stringify(policy));

    function expectPublicOnly(key: KeyVaultKey): void {
      for (const field of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const) expect((key.key as Record<string, unknown>)[field]).toBeUndefined();
    }

    test.each([
      ['RSA', { keySize: 2048 }, 256],
      ['RSA-HSM', { keySize: 3072 }, 384],
      ['RSA', { keySize: 4096 }, 512],
    ] as const)('creates %s keys of the requested size and returns only the public part', async (kty, opts, modulusBytes) => {
      const key = await client.createKey(`rsa-${opts.keySize}-${kty}`, kty, opts);
      expect(key.keyType).toBe(kty);
      expect(key.key!.n!.length).toBe(modulusBytes);
      expect(Buffer.from(key.key!.e!).toString('hex')).toBe('010001');
      expect(key.properties.version).toMatch(/^[0-9a-f]{32}$/);
      expect(key.id).toBe(`${stack.kms.url}/keys/rsa-${opts.keySize}-${kty}/${key.properties.version}`);
      expect(key.keyOperations).toEqual(['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey']);
      expectPublicOnly(key);
    });

    test.each(['P-256', 'P-384', 'P-521'] as const)('creates EC and EC-HSM keys on %s', async (curve) => {
      const soft = await client.createEcKey(`ec-${curve}`, { curve });
      const hsm = await client.createEcKey(`ec-hsm-${curve}`, { curve, hsm: true });
      expect([soft.keyType, hsm.keyType]).toEqual(['EC', 'EC-HSM']);
      expect(soft.key!.crv).toBe(curve);
      expect(soft.key!.x!.length).toBe(curve === 'P-521' ? 66 : Number(curve.slice(2)) / 8);
      expectPublicOnly(hsm);
    });

    test('creates oct keys of 128, 192 and 256 bits (256 by default) and never returns their material', async () => {
      const byDefault = await client.createOctKey('oct-default', { hsm: true });
      expect(byDefault.keyType).toBe('oct-HSM');
      expectPublicOnly(byDefault);
      for (const keySize of [128, 192]) expect((await client.createOctKey(`oct-${keySize}`, { keySize })).keyType).toBe('oct');
      await expect(client.createOctKey('oct-100', { keySize: 100 })).rejects.toMatchObject({ statusCode: 400, code: 'BadParameter' });
      const backup = await stack.kms.store.getWithMaterial('oct-default');
      expect(backup.material).toMatchObject({ kind: 'oct' });
      expect((backup.material as { raw: Buffer }).raw.length).toBe(32);
    });

    test('gets the latest version (trailing-slash path) and a named one; an unknown key is KeyNotFound', async () => {
      const first = await client.createRsaKey('versions-key');
      const second = await client.createRsaKey('versions-key');
      expect((await client.getKey('versions-key')).properties.version).toBe(second.properties.version);
      expect((await client.getKey('versions-key', { version: first.properties.version })).key!.n).toEqual(first.key!.n);
      await expect(client.getKey('no-such-key')).rejects.toMatchObject({ statusCode: 404, code: 'KeyNotFound' });
      await expect(client.getKey('versions-key', { version: '0'.repeat(32) })).rejects.toMatchObject({ statusCode: 404, code: 'KeyNotFound' });
      const versions = [];
      for await (const v of client.listPropertiesOfKeyVersions('versions-key')) versions.push(v.version);
      expect(versions).toEqual([first.properties.version, second.properties.version]);
    });

    test('imports RSA, EC and oct keys (hardwareProtected gives the -HSM kind) and serves only their public part', async () => {
      const { generateKeyPairSync, randomBytes } = await import('node:crypto');
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'jwk' });
      const bytes = (s?: string) => (s ? new Uint8Array(Buffer.from(s, 'base64url')) : undefined);
      const importedRsa = await client.importKey(
        'imported-rsa',
        { kty: 'RSA', n: bytes(rsa.n), e: bytes(rsa.e), d: bytes(rsa.d), p: bytes(rsa.p), q: bytes(rsa.q), dp: bytes(rsa.dp), dq: bytes(rsa.dq), qi: bytes(rsa.qi) },
        { hardwareProtected: true },
      );
      expect(importedRsa.keyType).toBe('RSA-HSM');
      expect(Buffer.from(importedRsa.key!.n!).toString('base64url')).toBe(rsa.n);
      expectPublicOnly(importedRsa);
      const importedEc = await client.importKey('imported-ec', { kty: 'EC', crv: 'P-384', x: bytes(ec.x), y: bytes(ec.y), d: bytes(ec.d) });
      expect(importedEc.key!.crv).toBe('P-384');
      const importedOct = await client.importKey('imported-oct', { kty: 'oct', k: new Uint8Array(randomBytes(32)), keyOps: ['wrapKey', 'unwrapKey'] });
      expect(importedOct.keyOperations).toEqual(['wrapKey', 'unwrapKey']);
      expectPublicOnly(importedOct);
    });

    test('updates attributes, tags and key_ops of a version', async () => {
      const key = await client.createEcKey('update-me');
      const updated = await client.updateKeyProperties('update-me', key.properties.version!, { enabled: false, tags: { team: 'skr' }, keyOps: ['verify'] });
      expect(updated.properties.enabled).toBe(false);
      expect(updated.properties.tags).toEqual({ team: 'skr' });
      expect(updated.keyOperations).toEqual(['verify']);
      expect(updated.properties.updatedOn!.getTime()).toBeGreaterThanOrEqual(key.properties.updatedOn!.getTime());
    });

    test('lists keys and versions page by page through nextLink', async () => {
      for (let i = 0; i < 5; i++) await client.createOctKey(`paged-${i}`);
      const pages: string[][] = [];
      for await (const page of client.listPropertiesOfKeys().byPage({ maxPageSize: 2 })) pages.push(page.map((p) => p.name));
      expect(pages.every((p) => p.length <= 2)).toBe(true);
      const names = pages.flat();
      expect(names).toEqual(expect.arrayContaining(['paged-0', 'paged-1', 'paged-2', 'paged-3', 'paged-4']));
      expect(new Set(names).size).toBe(names.length);
      expect(pages.length).toBeGreaterThan(2);
    });

    test('rotates a key and keeps its rotation policy', async () => {
      const key = await client.createRsaKey('rotating', { keySize: 2048 });
      const empty = await client.getKeyRotationPolicy('rotating');
      expect(empty.lifetimeActions).toEqual([{ action: 'Notify', timeBeforeExpiry: 'P30D' }]);
      const policy = await client.updateKeyRotationPolicy('rotating', {
        lifetimeActions: [{ action: 'Rotate', timeAfterCreate: 'P90D' }],
        expiresIn: 'P1Y',
      });
      expect(policy.lifetimeActions).toEqual([{ action: 'Rotate', timeAfterCreate: 'P90D' }]);
      expect((await client.getKeyRotationPolicy('rotating')).expiresIn).toBe('P1Y');
      const rotated = await client.rotateKey('rotating');
      expect(rotated.properties.version).not.toBe(key.properties.version);
      expect(rotated.key!.n!.length).toBe(256);
      expect(rotated.properties.expiresOn!.getTime() - rotated.properties.createdOn!.getTime()).toBe(365 * 86_400_000);
      await expect(client.updateKeyRotationPolicy('rotating', { lifetimeActions: [{ action: 'Rotate', timeAfterCreate: 'P1D' }] })).rejects.toMatchObject({ statusCode: 400 });
    });

    test('soft-deletes, lists and gets deleted keys, recovers, and purges', async () => {
      await client.createEcKey('doomed');
      const poller = await client.beginDeleteKey('doomed');
      const deleted = await poller.pollUntilDone();
      expect(deleted.properties.recoveryId).toBe(`${stack.kms.url}/deletedkeys/doomed`);
      expect(deleted.properties.scheduledPurgeDate!.getTime() - deleted.properties.deletedOn!.getTime()).toBe(90 * 86_400_000);
      await expect(client.getKey('doomed')).rejects.toMatchObject({ statusCode: 404 });
      await expect(client.createEcKey('doomed')).rejects.toMatchObject({ statusCode: 409, code: 'Conflict' });
      const listed = [];
      for await (const d of client.listDeletedKeys()) listed.push(d.name);
      expect(listed).toContain('doomed');
      expect((await client.getDeletedKey('doomed')).name).toBe('doomed');
      const recovered = await (await client.beginRecoverDeletedKey('doomed')).pollUntilDone();
      expect(recovered.name).toBe('doomed');
      await (await client.beginDeleteKey('doomed')).pollUntilDone();
      await client.purgeDeletedKey('doomed');
      await expect(client.getDeletedKey('doomed')).rejects.toMatchObject({ statusCode: 404, code: 'KeyNotFound' });
      expect((await client.createEcKey('doomed')).name).toBe('doomed');
    });

    test('backs up every version and the release policy, restores only when the name is free', async () => {
      const first = await client.createRsaKey('backed-up', { exportable: true, releasePolicy: { encodedPolicy: encodedPolicy() } });
      const second = await client.rotateKey('backed-up');
      const blob = await client.backupKey('backed-up');
      await expect(client.restoreKeyBackup(blob!)).rejects.toMatchObject({ statusCode: 409 });
      await (await client.beginDeleteKey('backed-up')).pollUntilDone();
      await expect(client.restoreKeyBackup(blob!)).rejects.toMatchObject({ statusCode: 409 });
      await client.purgeDeletedKey('backed-up');
      const restored = await client.restoreKeyBackup(blob!);
      expect(restored.properties.version).toBe(second.properties.version);
      expect(restored.properties.exportable).toBe(true);
      expect(JSON.parse(Buffer.from(restored.properties.releasePolicy!.encodedPolicy!).toString())).toEqual(policy);
      expect((await client.getKey('backed-up', { version: first.properties.version })).key!.n).toEqual(first.key!.n);
      await expect(client.restoreKeyBackup(new Uint8Array(Buffer.from('not a backup')))).rejects.toMatchObject({ statusCode: 400 });
    });

    test('stores and returns release policies; exportable keys need one; immutable ones cannot change', async () => {
      await expect(client.createRsaKey('exportable-no-policy', { exportable: true })).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('AKV.SKR.1004') });
      const key = await client.createRsaKey('exportable', { exportable: true, releasePolicy: { encodedPolicy: encodedPolicy(), immutable: true } });
      expect(key.properties.releasePolicy).toMatchObject({ contentType: 'application/json; charset=utf-8', immutable: true });
      expect(JSON.parse(Buffer.from(key.properties.releasePolicy!.encodedPolicy!).toString())).toEqual(policy);
      const other = new TextEncoder().encode(JSON.stringify({ ...policy, anyOf: [] }));
      await expect(client.updateKeyProperties('exportable', key.properties.version!, { releasePolicy: { encodedPolicy: other } })).rejects.toMatchObject({ statusCode: 400 });
      await expect(client.createRsaKey('bad-policy', { exportable: true, releasePolicy: { encodedPolicy: new TextEncoder().encode('{not json') } })).rejects.toMatchObject({ statusCode: 400 });
    });

    test('release is on by default and routed (with and without a version): a target that is no attestation token is a 400', async () => {
      await client.createOctKey('to-release', { exportable: true, releasePolicy: { encodedPolicy: encodedPolicy() } });
      await expect(client.releaseKey('to-release', 'token')).rejects.toMatchObject({ statusCode: 400, code: 'BadParameter' });
      const { properties } = await client.getKey('to-release');
      await expect(client.releaseKey('to-release', 'token', { version: properties.version })).rejects.toMatchObject({ statusCode: 400 });
    });

    test('getRandomBytes returns the requested count', async () => {
      expect((await client.getRandomBytes(32)).length).toBe(32);
    });
  });
}
