import { ManagedIdentityCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import type { TokenCredential } from '@azure/core-auth';
import { refuseNonLoopbackConnections } from '../identity/harness';
import { issuerCredential, startStack, type Stack } from './harness';
import { raw } from './raw';
import type { StoreBackend } from './store-backends';

/**
 * Key Vault's secrets data plane through the real SDK (`SecretClient`), authenticated as a
 * deployment is (ManagedIdentityCredential against the local identity endpoint) over HTTPS
 * trusted by the KMS's CA — on each store. Other principals come from the test issuer with
 * the roles assigned at start: a Secrets User at the vault, a Crypto Officer (no secrets) and a
 * Secrets User scoped to one secret.
 */
export function describeSdkSecrets(backend: StoreBackend): void {
  backend.describe(`the KMS on ${backend.name}: secrets through the SDK`, () => {
    let stack: Stack;
    let client: SecretClient;
    let restoreNet: () => void;
    const savedHost = process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
    const secretClient = (credential: TokenCredential) =>
      new SecretClient(stack.kms.url, credential, { disableChallengeResourceVerification: true, tlsOptions: { ca: stack.kms.caPem }, retryOptions: { maxRetries: 0 } });
    const as = (principal: string) => secretClient(issuerCredential(stack.issuer, principal));
    const fast = { intervalInMs: 20 };

    beforeAll(async () => {
      stack = await startStack({ store: await backend.kmsStore('sdk_secrets') });
      stack.kms.roles.add(stack.officer, 'Key Vault Secrets Officer');
      stack.kms.roles.add('reader', 'Key Vault Secrets User');
      stack.kms.roles.add('key-officer', 'Key Vault Crypto Officer');
      stack.kms.roles.add('scoped', '4633458b-17de-408a-b874-0445c86b69e6', '/secrets/scoped-one');
      restoreNet = refuseNonLoopbackConnections();
      process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = stack.identity.url;
      client = secretClient(new ManagedIdentityCredential());
    });

    afterAll(async () => {
      if (savedHost === undefined) delete process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
      else process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = savedHost;
      restoreNet();
      await stack.close();
    });

    test('sets a secret and gets its latest and a named version; an unknown secret is SecretNotFound', async () => {
      const first = await client.setSecret('db-password', 'hunter2', { tags: { app: 'shop' } });
      expect(first.value).toBe('hunter2');
      expect(first.properties.version).toMatch(/^[0-9a-f]{32}$/);
      expect(first.properties.id).toBe(`${stack.kms.url}/secrets/db-password/${first.properties.version}`);
      expect(first.properties).toMatchObject({ name: 'db-password', tags: { app: 'shop' }, enabled: true, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 });
      const second = await client.setSecret('db-password', 'correct horse battery staple');
      const latest = await client.getSecret('db-password');
      expect(latest.value).toBe('correct horse battery staple');
      expect(latest.properties.version).toBe(second.properties.version);
      expect((await client.getSecret('DB-PASSWORD', { version: first.properties.version })).value).toBe('hunter2');
      await expect(client.getSecret('no-such-secret')).rejects.toMatchObject({ statusCode: 404, code: 'SecretNotFound' });
      await expect(client.getSecret('db-password', { version: '0'.repeat(32) })).rejects.toMatchObject({ statusCode: 404, code: 'SecretNotFound' });
    });

    // @azure/keyvault-secrets 4.11 leaves contentType out of its request bodies: Key Vault's wire shape, sent as it is.
    test('keeps the content type set and updated over the wire; refuses a value over 25 KiB', async () => {
      const token = await stack.issuer.mint({ oid: stack.officer, sub: stack.officer });
      const send = (method: string, path: string, body: unknown) => raw(stack.kms.url, stack.kms.caPem, method, `${path}?api-version=7.5`, { token, body: JSON.stringify(body) });
      const set = await send('PUT', '/secrets/typed', { value: '-----BEGIN CERTIFICATE-----', contentType: 'application/x-pem-file' });
      expect(set).toMatchObject({ status: 200, body: { value: '-----BEGIN CERTIFICATE-----', contentType: 'application/x-pem-file' } });
      const version = (set.body as { id: string }).id.split('/').pop()!;
      expect((await client.getSecret('typed')).properties.contentType).toBe('application/x-pem-file');
      const patched = await send('PATCH', `/secrets/typed/${version}`, { contentType: 'text/plain' });
      expect(patched).toMatchObject({ status: 200, body: { contentType: 'text/plain' } });
      expect(patched.body).not.toHaveProperty('value');
      await expect(client.setSecret('too-big', 'é'.repeat(13_000))).rejects.toMatchObject({ statusCode: 400, code: 'BadParameter' });
      await expect(client.setSecret('bad_name', 'x')).rejects.toMatchObject({ statusCode: 400 });
    });

    test('lists secrets and versions page by page, without values', async () => {
      for (let i = 0; i < 5; i++) await client.setSecret(`paged-${i}`, `value-${i}`);
      const pages: string[][] = [];
      for await (const page of client.listPropertiesOfSecrets().byPage({ maxPageSize: 2 })) pages.push(page.map((p) => p.name));
      expect(pages.length).toBeGreaterThan(2);
      expect(pages.flat()).toEqual(expect.arrayContaining(['paged-0', 'paged-1', 'paged-2', 'paged-3', 'paged-4']));
      const v1 = await client.setSecret('versioned', 'a');
      const v2 = await client.setSecret('versioned', 'b');
      const versions = [];
      for await (const v of client.listPropertiesOfSecretVersions('versioned')) versions.push(v);
      expect(versions.map((v) => v.version)).toEqual([v1.properties.version, v2.properties.version]);
      expect(versions.every((v) => (v as { value?: unknown }).value === undefined)).toBe(true);
    });

    test('updates the properties of one version; a disabled version is refused, its value kept', async () => {
      const set = await client.setSecret('toggled', 'on');
      const updated = await client.updateSecretProperties('toggled', set.properties.version!, { enabled: false, tags: { state: 'off' } });
      expect(updated).toMatchObject({ enabled: false, tags: { state: 'off' } });
      await expect(client.getSecret('toggled')).rejects.toMatchObject({ statusCode: 403, code: 'Forbidden' });
      await client.updateSecretProperties('toggled', set.properties.version!, { enabled: true });
      expect((await client.getSecret('toggled')).value).toBe('on');
      await expect(client.updateSecretProperties('toggled', set.properties.version!, { notBefore: new Date(2_000_000_000_000), expiresOn: new Date(1_000_000_000_000) })).rejects.toMatchObject({
        statusCode: 400,
        code: 'BadParameter',
      });
    });

    test('soft-deletes, lists and gets the deleted secret, recovers it, deletes and purges it; the name is held until purged', async () => {
      await client.setSecret('short-lived', 'tmp');
      const deleted = await (await client.beginDeleteSecret('short-lived', fast)).pollUntilDone();
      expect(deleted.recoveryId).toBe(`${stack.kms.url}/deletedsecrets/short-lived`);
      expect(deleted.scheduledPurgeDate!.getTime() - deleted.deletedOn!.getTime()).toBe(90 * 86_400_000);
      expect(deleted.value).toBeUndefined();
      await expect(client.getSecret('short-lived')).rejects.toMatchObject({ statusCode: 404 });
      await expect(client.setSecret('short-lived', 'again')).rejects.toMatchObject({ statusCode: 409, code: 'Conflict' });
      const listed = [];
      for await (const d of client.listDeletedSecrets()) listed.push(d.name);
      expect(listed).toContain('short-lived');
      expect((await client.getDeletedSecret('short-lived')).name).toBe('short-lived');
      await (await client.beginRecoverDeletedSecret('short-lived', fast)).pollUntilDone();
      expect((await client.getSecret('short-lived')).value).toBe('tmp');
      await (await client.beginDeleteSecret('short-lived', fast)).pollUntilDone();
      await client.purgeDeletedSecret('short-lived');
      await expect(client.getDeletedSecret('short-lived')).rejects.toMatchObject({ statusCode: 404, code: 'SecretNotFound' });
      expect((await client.setSecret('short-lived', 'reborn')).value).toBe('reborn');
    });

    test('backs up every version and restores them after a purge; a live name is not overwritten, a key backup is refused', async () => {
      const a = await client.setSecret('kept', 'one');
      await client.setSecret('kept', 'two');
      const blob = (await client.backupSecret('kept'))!;
      expect(Buffer.from(blob).toString('utf8')).not.toContain('one');
      await expect(client.restoreSecretBackup(blob)).rejects.toMatchObject({ statusCode: 409 });
      await (await client.beginDeleteSecret('kept', fast)).pollUntilDone();
      await client.purgeDeletedSecret('kept');
      const restored = await client.restoreSecretBackup(blob);
      expect(restored.name).toBe('kept');
      expect((await client.getSecret('kept')).value).toBe('two');
      expect((await client.getSecret('kept', { version: a.properties.version })).value).toBe('one');
      const keys = stack.client(new ManagedIdentityCredential());
      await keys.createOctKey('not-a-secret');
      const keyBlob = (await keys.backupKey('not-a-secret'))!;
      await expect(client.restoreSecretBackup(keyBlob)).rejects.toMatchObject({ statusCode: 400, code: 'BadParameter' });
    });

    test('RBAC: a Secrets User reads but cannot set; a Crypto Officer cannot read a secret; a scoped role reaches only its secret', async () => {
      await client.setSecret('shared', 'for-readers');
      await client.setSecret('scoped-one', 'only-this');
      const reader = as('reader');
      expect((await reader.getSecret('shared')).value).toBe('for-readers');
      await expect(reader.setSecret('shared', 'overwrite')).rejects.toMatchObject({ statusCode: 403, code: 'Forbidden' });
      await expect(reader.beginDeleteSecret('shared', fast)).rejects.toMatchObject({ statusCode: 403 });
      const keyOfficer = as('key-officer');
      await expect(keyOfficer.getSecret('shared')).rejects.toMatchObject({ statusCode: 403, code: 'Forbidden' });
      await expect(keyOfficer.setSecret('shared', 'x')).rejects.toMatchObject({ statusCode: 403 });
      const scoped = as('scoped');
      expect((await scoped.getSecret('scoped-one')).value).toBe('only-this');
      await expect(scoped.getSecret('shared')).rejects.toMatchObject({ statusCode: 403 });
      // The scope is a secret's: the key of the same name stays out of reach.
      await stack.client(new ManagedIdentityCredential()).createOctKey('scoped-one');
      await expect(stack.client(issuerCredential(stack.issuer, 'scoped')).getKey('scoped-one')).rejects.toMatchObject({ statusCode: 403 });
      expect((await client.getSecret('shared')).value).toBe('for-readers');
    });

    test('every secrets operation is audited by name and version, never with the value', async () => {
      const value = 'audit-canary-4f1d9c';
      const set = await client.setSecret('audited', value);
      await client.getSecret('audited');
      await client.updateSecretProperties('audited', set.properties.version!, { tags: { a: 'b' } });
      await (await client.beginDeleteSecret('audited', fast)).pollUntilDone();
      const entries = await stack.kms.audit.query({ key: 'audited' });
      const allowed = entries.filter((e) => e.decision === 'allow').map((e) => e.operation);
      expect(allowed).toEqual(expect.arrayContaining(['setSecret', 'getSecret', 'updateSecret', 'deleteSecret']));
      expect(entries.filter((e) => e.decision === 'intent').map((e) => e.operation)).toEqual(expect.arrayContaining(['setSecret', 'updateSecret', 'deleteSecret']));
      expect(entries.find((e) => e.operation === 'getSecret')).toMatchObject({ version: set.properties.version, route: '/secrets/:name' });
      expect(JSON.stringify(await stack.kms.audit.query({ limit: 1000 }))).not.toContain(value);
    });
  });
}
