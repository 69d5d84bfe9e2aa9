import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresSessionStore } from '../../src/kbs';
import { VerifierDatabase } from '../../src/maa/service';
import { describePostgres, POSTGRES_SETUP_TIMEOUT_MS, startPostgresCluster, type PostgresCluster } from '../lib/postgres-cluster';
import type { KbsSession } from '../../src/kbs/sessions';
import { handshake, startTestKbs, virtualGuest } from './harness';
import type { RunningKbs } from '../../src/kbs';
import type { VirtualDevice } from '../../src/snp/device/virtual';

const session = (id: string, expiresAt = 1_000): KbsSession => ({ id, nonce: `n-${id}`, tee: 'snp', expiresAt, state: 'authed' });

/** The broker's sessions in the verifier's PostgreSQL database: what `skr kbs --store` gives replicas. */
describePostgres('KBS sessions in PostgreSQL', () => {
  let cluster: PostgresCluster;
  let a: VerifierDatabase;
  let b: VerifierDatabase;
  beforeAll(async () => {
    cluster = await startPostgresCluster();
    const url = await cluster.database('kbs_sessions');
    // Two pools on one database: two replicas.
    [a, b] = await Promise.all([VerifierDatabase.open(url), VerifierDatabase.open(url)]);
  }, POSTGRES_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await cluster?.remove();
  });

  test('a session created at one replica is spent once across both: the second spend, anywhere, sees it spent', async () => {
    const [one, two] = [new PostgresSessionStore(a, 100), new PostgresSessionStore(b, 100)];
    await one.create(session('s1'));
    expect(await two.get('s1', 0)).toMatchObject({ nonce: 'n-s1', state: 'authed' });
    expect((await two.spend('s1', 0))?.state).toBe('authed');
    expect((await one.spend('s1', 0))?.state).toBe('spent');
    await two.attested('s1', 'token');
    expect(await one.get('s1', 0)).toMatchObject({ state: 'attested', token: 'token' });
  });

  test('of eight concurrent spends on two replicas exactly one finds the session authed', async () => {
    const stores = [new PostgresSessionStore(a, 100), new PostgresSessionStore(b, 100)];
    await stores[0]!.create(session('race'));
    const before = await Promise.all(Array.from({ length: 8 }, (_, i) => stores[i % 2]!.spend('race', 0)));
    expect(before.filter((s) => s?.state === 'authed')).toHaveLength(1);
  });

  test('expired sessions are neither returned nor spent; the sweep forgets them and bounds the table', async () => {
    const store = new PostgresSessionStore(a, 2);
    await store.create(session('old', 100));
    expect(await store.get('old', 100)).toBeUndefined();
    expect(await store.spend('old', 100)).toBeUndefined();
    for (const id of ['x', 'y', 'z']) await store.create(session(id, 10_000 + id.charCodeAt(0)));
    await store.sweep(100);
    expect(await store.get('old', 0)).toBeUndefined();
    expect(await store.get('x', 0)).toBeUndefined();
    expect(await store.get('z', 0)).toBeDefined();
  });

  describe('two brokers on one session table', () => {
    let device: VirtualDevice;
    let first: RunningKbs;
    let second: RunningKbs;
    beforeAll(async () => {
      device = await virtualGuest();
      // Replicas share one state directory (the token key) and one issuer.
      const stateDir = mkdtempSync(join(tmpdir(), 'skr-kbs-replicas-'));
      first = await startTestKbs(device, { stateDir, issuer: 'https://kbs.example', sessions: new PostgresSessionStore(a, 100) });
      second = await startTestKbs(device, { stateDir, issuer: 'https://kbs.example', sessions: new PostgresSessionStore(b, 100) });
    });
    afterAll(async () => {
      await first?.close();
      await second?.close();
    });

    test('a nonce from /auth at one replica is attested at the other, and only once', async () => {
      const flow = await handshake(first, device);
      const attest = (kbs: RunningKbs) => fetch(`${kbs.url}/kbs/v0/attest`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: flow.cookie }, body: JSON.stringify(flow.body) });
      const attested = await attest(second);
      expect(attested.status).toBe(200);
      expect(typeof ((await attested.json()) as { token: unknown }).token).toBe('string');
      expect((await attest(first)).status).toBe(401);
    });
  });
});
