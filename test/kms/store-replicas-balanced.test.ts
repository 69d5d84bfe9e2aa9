import { describeBalanced } from '../lib/haproxy';
import { POSTGRES_SETUP_TIMEOUT_MS, startPostgresCluster, type PostgresCluster } from '../lib/postgres-cluster';
import { startTestIssuer, tempDir } from './harness';
import { raw } from './raw';
import { startReplicaSet } from './replica-set';

describeBalanced('two skr kms replicas behind HAProxy', () => {
  let cluster: PostgresCluster;
  beforeAll(async () => {
    cluster = await startPostgresCluster();
  }, POSTGRES_SETUP_TIMEOUT_MS);
  afterAll(async () => cluster?.remove());

  test('the SDK uses the balancer’s address: key ids name it, and a replica killed leaves the vault serving', async () => {
    const temp = await tempDir();
    const issuer = await startTestIssuer();
    const set = await startReplicaSet(temp.dir, await cluster.database('balanced'), 2, issuer);
    try {
      const keys = set.client();
      const created = await keys.createEcKey('through-balancer', { curve: 'P-256' });
      expect(created.id).toMatch(new RegExp(`^${set.balancer.url}/keys/through-balancer/[0-9a-f]{32}$`));
      // Round robin: consecutive reads are answered by both replicas, each the same key.
      for (let i = 0; i < 4; i++) expect((await keys.getKey('through-balancer')).id).toBe(created.id);
      expect((await raw(set.balancer.url, set.ca, 'GET', '/ready')).status).toBe(200);

      await set.kill(0);
      // Connections refused by the killed replica are redispatched: every call still succeeds.
      for (let i = 0; i < 6; i++) await keys.updateKeyProperties('through-balancer', { tags: { round: String(i) } });
      expect((await keys.getKey('through-balancer')).properties.tags).toEqual({ round: '5' });
      await set.restart(0);
      expect((await keys.getKey('through-balancer')).id).toBe(created.id);
    } finally {
      await set.stop();
      await issuer.close();
      await temp.remove();
    }
  }, 120_000);
});
