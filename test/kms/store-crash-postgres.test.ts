import { readFile } from 'node:fs/promises';
import { Client } from 'pg';
import { kmsAudit } from '../../src/cli/kms';
import { exited, officerToken, spawnKms, writeUntilKilled, type Write } from './child';
import { tempDir } from './harness';
import { raw } from './raw';
import { describePostgres, POSTGRES_SETUP_TIMEOUT_MS, startPostgresCluster, type PostgresCluster } from '../lib/postgres-cluster';

/**
 * A replica SIGKILLed while creates are in flight on PostgreSQL: every write it acknowledged is
 * there for the replica started next (material opening), no key is left without a version, and
 * every acknowledged write's audit entry is on the chain, which verifies.
 */
const API = '?api-version=7.6';
const IN_FLIGHT = 6;
const KILL_AFTER = 30;

describePostgres('a KMS replica killed mid-stream on PostgreSQL', () => {
  let cluster: PostgresCluster;
  beforeAll(async () => {
    cluster = await startPostgresCluster();
  }, POSTGRES_SETUP_TIMEOUT_MS);
  afterAll(async () => cluster?.remove());

  test('loses no acknowledged create and leaves no partial key', async () => {
    const temp = await tempDir();
    const store = await cluster.database('crash');
    const first = await spawnKms(temp.dir, ['--store', store]);
    const ca = await readFile(first.endpoints.caCertFile, 'utf8');
    const token = await officerToken(first.endpoints);
    // New keys, and new versions of one shared key (two writers of one row).
    const acknowledged = await writeUntilKilled(
      first,
      ca,
      token,
      (i): Write => ['POST', i % 3 === 0 ? `/keys/crash-shared/create${API}` : `/keys/crash-${i}/create${API}`, JSON.stringify({ kty: i % 2 ? 'oct' : 'EC' })],
      { inFlight: IN_FLIGHT, killAfter: KILL_AFTER },
    );
    expect(first.child.signalCode).toBe('SIGKILL');

    const second = await spawnKms(temp.dir, ['--store', store]);
    const owner = new Client({ connectionString: store });
    await owner.connect();
    try {
      const secondToken = await officerToken(second.endpoints);
      for (const [name, version] of acknowledged) {
        const res = await raw(second.endpoints.kms, ca, 'GET', `/keys/${name}/${version}${API}`, { token: secondToken });
        expect({ name, version, status: res.status }).toEqual({ name, version, status: 200 });
      }
      // The material of what was acknowledged opens under the state directory's master key: a backup seals every version.
      expect((await raw(second.endpoints.kms, ca, 'POST', `/keys/crash-shared/backup${API}`, { token: secondToken })).status).toBe(200);
      expect((await owner.query('SELECT count(*)::int AS n FROM keys k WHERE NOT EXISTS (SELECT 1 FROM key_versions v WHERE v.name_key = k.name_key)')).rows).toEqual([{ n: 0 }]);

      const audited = (await kmsAudit(['--state-dir', temp.dir, '--store', store, '--limit', '10000'])) as { entries: { operation: string; key?: string; version?: string; status: number }[] };
      const created = new Set(audited.entries.filter((e) => e.operation === 'create' && e.status === 200).map((e) => `${e.key}/${e.version}`));
      for (const [name, version] of acknowledged) expect(created.has(`${name}/${version}`)).toBe(true);
      expect(await kmsAudit(['verify', '--state-dir', temp.dir, '--store', store])).toMatchObject({ ok: true });
    } finally {
      await owner.end();
      second.child.kill('SIGTERM');
      await exited(second.child);
      await temp.remove();
    }
  }, 180_000);
});
