import { readFile } from 'node:fs/promises';
import { kmsAudit } from '../../src/cli/kms';
import { exited, officerToken, spawnKms } from './child';
import { tempDir } from './harness';
import { raw } from './raw';
import { describePostgres, POSTGRES_SETUP_TIMEOUT_MS, startPostgresCluster, type PostgresCluster } from '../lib/postgres-cluster';

/**
 * The replica contract: `skr kms --store postgres://… --state-dir D` started twice with the same
 * D (master key, TLS, identity material) and its own port are two replicas of one vault.
 */
const API = '?api-version=7.4';

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
      expect(audited.entries.filter((e) => e.status !== 0).map((e) => e.operation).reverse()).toEqual(['create', 'get', 'update', 'get', 'delete', 'get', 'recover', 'get']);
      expect(await kmsAudit(['verify', '--state-dir', temp.dir, '--store', store])).toMatchObject({ ok: true });
    } finally {
      for (const replica of [first, second]) {
        replica.child.kill('SIGTERM');
        await exited(replica.child);
      }
      await temp.remove();
    }
  }, 120_000);
});
