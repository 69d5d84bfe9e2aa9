import { generateKeyPairSync } from 'node:crypto';
import { KeyClient } from '@azure/keyvault-keys';
import { kmsMigrate } from '../../src/cli/kms-migrate';
import { kmsAudit } from '../../src/cli/kms';
import { startIdentity } from '../../src/identity';
import { startKms, type RunningKms } from '../../src/kms';
import { describePostgres, POSTGRES_SETUP_TIMEOUT_MS, startPostgresCluster, type PostgresCluster } from '../lib/postgres-cluster';
import { issuerCredential, startTestIssuer, tempDir } from './harness';
import { raw } from './raw';

const API = '?api-version=7.4';

describePostgres('skr kms migrate: a single-node SQLite vault into PostgreSQL', () => {
  let cluster: PostgresCluster;
  beforeAll(async () => {
    cluster = await startPostgresCluster();
  }, POSTGRES_SETUP_TIMEOUT_MS);
  afterAll(async () => cluster?.remove());

  test('keys, versions, deleted keys, rotation policies and the audit chain arrive; releases work on the target; a second run is refused', async () => {
    const temp = await tempDir();
    const identity = await startIdentity({ stateDir: temp.dir });
    const issuer = await startTestIssuer();
    const officer = identity.defaultPrincipal.objectId;
    const start = (store?: string) =>
      startKms({
        stateDir: temp.dir,
        ...(store ? { store } : {}),
        trustedIssuers: [issuer.url],
        keyRingIssuers: [identity.verification],
        roleAssignments: [
          { principal: officer, role: 'crypto-officer' },
          { principal: officer, role: 'crypto-service-release-user' },
        ],
      });
    const client = (kms: RunningKms) =>
      new KeyClient(kms.url, issuerCredential(issuer, officer), { disableChallengeResourceVerification: true, tlsOptions: { ca: kms.caPem }, retryOptions: { maxRetries: 0 } });
    let kms = await start();
    try {
      const keys = client(kms);
      const policy = { version: '1.0.0', anyOf: [{ authority: issuer.url, allOf: [{ claim: 'x-ms-attestation-type', equals: 'sevsnpvm' }] }] };
      const first = await keys.createOctKey('demo', { hsm: true, keySize: 256, exportable: true, releasePolicy: { encodedPolicy: Buffer.from(JSON.stringify(policy)) } });
      const second = await keys.createOctKey('demo', { hsm: true, keySize: 256, exportable: true, releasePolicy: { encodedPolicy: Buffer.from(JSON.stringify(policy)) } });
      await keys.updateKeyRotationPolicy('demo', { expiresIn: 'P90D', lifetimeActions: [{ action: 'Rotate', timeBeforeExpiry: 'P30D' }] });
      await keys.createEcKey('gone', { curve: 'P-256' });
      await (await keys.beginDeleteKey('gone')).pollUntilDone();
      const tee = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
      const target = await issuer.mint({ 'x-ms-attestation-type': 'sevsnpvm', 'x-ms-runtime': { keys: [{ ...tee, kid: 'tee', key_ops: ['encrypt'] }] } });
      const token = await issuer.mint({ oid: officer });
      const release = (running: RunningKms, version: string) => raw(running.url, running.caPem, 'POST', `/keys/demo/${version}/release${API}`, { token, body: JSON.stringify({ target }) });
      expect((await release(kms, first.properties.version!)).status).toBe(200);
      await kms.close();

      const store = await cluster.database('migrated');
      const migrated = (await kmsMigrate(['--state-dir', temp.dir, '--to', store])) as { migrated: Record<string, unknown> };
      expect(migrated.migrated).toMatchObject({ to: store, keys: 2, versions: 3, deletedKeys: 1, rotationPolicies: 1, roleAssignments: expect.any(Number) });
      expect(migrated.migrated.auditEntries).toBeGreaterThan(5);
      expect(await kmsAudit(['verify', '--state-dir', temp.dir, '--store', store])).toMatchObject({ ok: true, entries: migrated.migrated.auditEntries });

      kms = await start(store);
      const moved = client(kms);
      expect((await moved.getKey('demo')).properties.version).toBe(second.properties.version);
      expect({ ...(await moved.getKey('demo', { version: first.properties.version! })).key, kid: undefined }).toEqual({ ...first.key, kid: undefined });
      expect(await moved.getKeyRotationPolicy('demo')).toMatchObject({ expiresIn: 'P90D', lifetimeActions: [{ action: 'Rotate', timeBeforeExpiry: 'P30D' }] });
      expect((await moved.getDeletedKey('gone')).name).toBe('gone');
      // The sealed material opens under the state directory's master key: both versions release.
      for (const version of [first.properties.version!, second.properties.version!]) expect((await release(kms, version)).status).toBe(200);
      // New entries extend the migrated chain, and new versions take fresh sequence numbers.
      await moved.createOctKey('demo', { hsm: true, keySize: 256 });
      expect(await kmsAudit(['verify', '--state-dir', temp.dir, '--store', store])).toMatchObject({ ok: true });
      const audited = (await kmsAudit(['--state-dir', temp.dir, '--store', store, '--key', 'gone'])) as { entries: { operation: string }[] };
      expect(audited.entries.map((e) => e.operation)).toContain('delete');

      await expect(kmsMigrate(['--state-dir', temp.dir, '--to', store])).rejects.toMatchObject({ code: 'migrate_target_not_empty', status: 409 });
      expect((await moved.getKey('demo')).name).toBe('demo');
    } finally {
      await kms.close();
      await issuer.close();
      await identity.close();
      await temp.remove();
    }
  }, 180_000);

  test('the source must be SQLite and the target PostgreSQL', async () => {
    const temp = await tempDir();
    try {
      await expect(kmsMigrate(['--state-dir', temp.dir])).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(kmsMigrate(['--state-dir', temp.dir, '--to', 'sqlite:/tmp/x.sqlite'])).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(kmsMigrate(['--state-dir', temp.dir, '--from', cluster.url, '--to', cluster.url])).rejects.toMatchObject({ code: 'invalid_argument' });
    } finally {
      await temp.remove();
    }
  });
});
