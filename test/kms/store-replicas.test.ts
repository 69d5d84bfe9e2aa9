import { readFile } from 'node:fs/promises';
import { kmsAudit } from '../../src/cli/kms';
import { startIdentity } from '../../src/identity';
import { kmsPaths } from '../../src/kms';
import { goodRuntimeKeys } from '../lib/runtime-keys';
import { exited, imdsToken, officerToken, spawnKms } from './child';
import { startTestIssuer, tempDir } from './harness';
import { raw } from './raw';
import { describePostgres, POSTGRES_SETUP_TIMEOUT_MS, startPostgresCluster, type PostgresCluster } from '../lib/postgres-cluster';
import { within } from '../lib/within';

/**
 * The replica contract: `skr kms --store postgres://… --state-dir D` started twice with the same
 * D (master key, TLS, identity material) and its own port are two replicas of one vault.
 */
const API = '?api-version=7.4';

/** The bound the replica contract allows a change at one replica to take to apply at another. */
const CONTRACT_BOUND_MS = 5_000;

describePostgres('two skr kms processes on one PostgreSQL database and one state directory', () => {
  let cluster: PostgresCluster;
  beforeAll(async () => {
    cluster = await startPostgresCluster();
  }, POSTGRES_SETUP_TIMEOUT_MS);
  afterAll(async () => cluster?.remove());

  test('a key created through one is read, changed and audited through the other', async () => {
    const temp = await tempDir();
    const store = await cluster.database('replicas');
    // Behind a balancer both name the vault by its address, as key ids must agree.
    const vaultUrl = 'https://vault.replicas.test';
    const first = await spawnKms(temp.dir, ['--store', store], { SKR_KMS_VAULT_URL: vaultUrl });
    const second = await spawnKms(temp.dir, [], { SKR_STORE: store, SKR_KMS_VAULT_URL: vaultUrl });
    try {
      for (const replica of [first, second]) expect(JSON.parse(replica.stdout()).kms).toMatchObject({ url: replica.endpoints.kms, store });
      expect(first.endpoints.kms).not.toBe(second.endpoints.kms);
      const ca = await readFile(first.endpoints.caCertFile, 'utf8');
      expect(await readFile(second.endpoints.caCertFile, 'utf8')).toBe(ca);
      const [tokenA, tokenB] = [await officerToken(first.endpoints), await officerToken(second.endpoints)];
      const a = (method: string, path: string, body?: unknown) => raw(first.endpoints.kms, ca, method, `${path}${API}`, { token: tokenA, ...(body ? { body: JSON.stringify(body) } : {}) });
      const b = (method: string, path: string, body?: unknown) => raw(second.endpoints.kms, ca, method, `${path}${API}`, { token: tokenB, ...(body ? { body: JSON.stringify(body) } : {}) });

      const created = await a('POST', '/keys/shared/create', { kty: 'EC', crv: 'P-256' });
      expect(created.status).toBe(200);
      const read = await b('GET', '/keys/shared');
      expect([read.status, read.body.key]).toEqual([200, created.body.key]);
      expect(read.body.key.kid).toMatch(new RegExp(`^${vaultUrl}/keys/shared/[0-9a-f]{32}$`));

      expect((await b('PATCH', '/keys/shared', { attributes: { enabled: false } })).status).toBe(200);
      expect((await a('GET', '/keys/shared')).body.attributes.enabled).toBe(false);
      expect((await b('DELETE', '/keys/shared')).status).toBe(200);
      expect((await a('GET', '/keys/shared')).status).toBe(404);
      expect((await a('POST', '/deletedkeys/shared/recover')).status).toBe(200);
      expect((await b('GET', '/keys/shared')).status).toBe(200);

      const audited = (await kmsAudit(['--state-dir', temp.dir, '--store', store, '--key', 'shared'])) as { entries: { operation: string; status: number }[] };
      expect(
        audited.entries
          .filter((e) => e.status !== 0)
          .map((e) => e.operation)
          .reverse(),
      ).toEqual(['create', 'get', 'update', 'get', 'delete', 'get', 'recover', 'get']);
      expect(await kmsAudit(['verify', '--state-dir', temp.dir, '--store', store])).toMatchObject({ ok: true });
    } finally {
      for (const replica of [first, second]) {
        replica.child.kill('SIGTERM');
        await exited(replica.child);
      }
      await temp.remove();
    }
  }, 120_000);

  test('a token from either replica’s identity endpoint is accepted by both; one of another state directory’s identity is refused', async () => {
    const temp = await tempDir();
    const elsewhere = await tempDir();
    const store = await cluster.database('replica_identity');
    const first = await spawnKms(temp.dir, ['--store', store]);
    const second = await spawnKms(temp.dir, ['--store', store]);
    // The identity of another state directory: its tokens name another issuer, signed by another key.
    const stranger = await startIdentity({ stateDir: elsewhere.dir });
    try {
      const ca = await readFile(first.endpoints.caCertFile, 'utf8');
      expect(first.endpoints.identity).not.toBe(second.endpoints.identity);
      const list = async (at: typeof first, token: string) => (await raw(at.endpoints.kms, ca, 'GET', `/keys${API}`, { token })).status;
      // The officer's tokens administer both replicas; the default principal (release only) is refused at both alike.
      for (const at of [first, second]) {
        expect(await list(at, await officerToken(first.endpoints))).toBe(200);
        expect(await list(at, await officerToken(second.endpoints))).toBe(200);
        expect(await list(at, await imdsToken(second.endpoints.identity))).toBe(403);
      }
      const foreign = (await stranger.officerCredential.getToken('https://vault.azure.net/.default'))!.token;
      for (const at of [first, second]) {
        const refused = await raw(at.endpoints.kms, ca, 'GET', `/keys${API}`, { token: foreign });
        expect([refused.status, refused.body.error?.code]).toEqual([401, 'Unauthorized']);
      }
    } finally {
      for (const replica of [first, second]) {
        replica.child.kill('SIGTERM');
        await exited(replica.child);
      }
      await stranger.close();
      await elsewhere.remove();
      await temp.remove();
    }
  }, 120_000);

  test('a key disabled, a release policy changed or a role removed through one replica is refused at the other within 5 s', async () => {
    const temp = await tempDir();
    const issuer = await startTestIssuer();
    const store = await cluster.database('replica_changes');
    const first = await spawnKms(temp.dir, ['--store', store]);
    const second = await spawnKms(temp.dir, ['--store', store]);
    try {
      const ca = await readFile(first.endpoints.caCertFile, 'utf8');
      const adminToken = (await readFile(kmsPaths(temp.dir).adminToken, 'utf8')).trim();
      const officerA = await officerToken(first.endpoints);
      // The default principal: Crypto Service Release User, as `skr kms` grants it.
      const releaser = await imdsToken(second.endpoints.identity);
      const a = (method: string, path: string, body?: unknown, token = officerA) =>
        raw(first.endpoints.kms, ca, method, path.startsWith('/admin') ? path : `${path}${API}`, { token, ...(body ? { body: JSON.stringify(body) } : {}) });
      const b = (method: string, path: string, token: string, body?: unknown) => raw(second.endpoints.kms, ca, method, `${path}${API}`, { token, ...(body ? { body: JSON.stringify(body) } : {}) });

      const policy = (equals: string) => ({
        contentType: 'application/json; charset=utf-8',
        data: Buffer.from(JSON.stringify({ version: '1.0.0', anyOf: [{ authority: issuer.url, allOf: [{ claim: 'x-ms-attestation-type', equals }] }] })).toString('base64url'),
      });
      expect((await a('POST', '/keys/guarded/create', { kty: 'oct-HSM', key_size: 256, attributes: { exportable: true }, release_policy: policy('sevsnpvm') })).status).toBe(200);
      const target = await issuer.mint({ 'x-ms-attestation-type': 'sevsnpvm', 'x-ms-runtime': { keys: [{ ...goodRuntimeKeys()['RSA-2048'], kid: 'tee', key_ops: ['encrypt'] }] } });
      const releaseAtB = async () => (await b('POST', '/keys/guarded/release', releaser, { target })).status;
      expect(await releaseAtB()).toBe(200);

      // A key disabled at A.
      expect((await a('PATCH', '/keys/guarded', { attributes: { enabled: false } })).status).toBe(200);
      expect(await within(CONTRACT_BOUND_MS, async () => (await releaseAtB()) === 403)).toBe(true);
      expect((await a('PATCH', '/keys/guarded', { attributes: { enabled: true } })).status).toBe(200);
      expect(await within(CONTRACT_BOUND_MS, async () => (await releaseAtB()) === 200)).toBe(true);

      // A release policy changed at A: the same token no longer satisfies it at B.
      expect((await a('PATCH', '/keys/guarded', { release_policy: policy('tdxvm') })).status).toBe(200);
      expect(await within(CONTRACT_BOUND_MS, async () => (await releaseAtB()) === 403)).toBe(true);

      // A role granted, then removed, through A's admin API.
      const added = await a('POST', '/admin/roles', { principal: JSON.parse(second.stdout()).kms.defaultPrincipal.objectId, role: 'crypto-user', scope: '/keys/guarded' }, adminToken);
      expect(added.status).toBe(201);
      expect(await within(CONTRACT_BOUND_MS, async () => (await b('GET', '/keys/guarded', releaser)).status === 200)).toBe(true);
      expect((await a('DELETE', `/admin/roles/${added.body.id as string}`, undefined, adminToken)).status).toBe(204);
      expect(await within(CONTRACT_BOUND_MS, async () => (await b('GET', '/keys/guarded', releaser)).status === 403)).toBe(true);
    } finally {
      for (const replica of [first, second]) {
        replica.child.kill('SIGTERM');
        await exited(replica.child);
      }
      await issuer.close();
      await temp.remove();
    }
  }, 120_000);

  test('started together on an empty state directory, they set it up once: one master key, one identity, one vault', async () => {
    const temp = await tempDir();
    const store = await cluster.database('together');
    const [first, second] = await Promise.all([spawnKms(temp.dir, ['--store', store]), spawnKms(temp.dir, ['--store', store])]);
    try {
      type Printed = { url: string; masterKey: string; caCertFile: string; officer: { objectId: string; endpoint: string; headerFile: string } };
      const [a, b] = [first, second].map((replica) => (JSON.parse(replica.stdout()) as { kms: Printed }).kms) as [Printed, Printed];
      expect(a.url).not.toBe(b.url);
      expect([b.masterKey, b.officer.objectId]).toEqual([a.masterKey, a.officer.objectId]);
      const ca = await readFile(a.caCertFile, 'utf8');
      const token = await officerToken({ kms: a.url, identity: '', caCertFile: a.caCertFile, officer: a.officer });
      // Sealed at one, opened at the other: an RSA key made at A decrypts at B what A encrypted.
      const created = await raw(a.url, ca, 'POST', `/keys/together/create${API}`, { token, body: JSON.stringify({ kty: 'RSA', key_size: 2048 }) });
      expect(created.status).toBe(200);
      const kid = new URL(created.body.key.kid as string).pathname;
      const value = Buffer.from('one vault').toString('base64url');
      const encrypted = await raw(a.url, ca, 'POST', `${kid}/encrypt${API}`, { token, body: JSON.stringify({ alg: 'RSA-OAEP-256', value }) });
      const decrypted = await raw(b.url, ca, 'POST', `${kid}/decrypt${API}`, { token, body: JSON.stringify({ alg: 'RSA-OAEP-256', value: encrypted.body.value }) });
      expect([decrypted.status, decrypted.body.value]).toEqual([200, value]);
    } finally {
      for (const replica of [first, second]) {
        replica.child.kill('SIGTERM');
        await exited(replica.child);
      }
      await temp.remove();
    }
  });
});
