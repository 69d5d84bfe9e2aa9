import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REFERENCE_REFRESH_MS } from '../../src/maa/service/store';
import { openVirtualDevice, type VirtualDevice } from '../../src/snp/device/virtual';
import { runCli } from '../cli/run-cli';
import { attestBody } from '../maa/virtual-evidence';
import { describePostgres, POSTGRES_SETUP_TIMEOUT_MS, startPostgresCluster, type PostgresCluster } from '../lib/postgres-cluster';

/**
 * Two `skr verifier --store postgres://...` processes, as deployed: one state directory (so both
 * sign with the same keys and share the admin token) and one database. A nonce fetched from one
 * and spent there is refused as replayed at the other; a reference value added through one is
 * listed by the other within the stated bound; while the database is down a challenge is 503
 * verifier_store_unavailable, and after it is back the same process answers again.
 */
const BIN = join(__dirname, '..', '..', 'bin', 'skr.js');
const ATTEST = '/attest/SevSnpVm?api-version=2022-08-01';
const runtime = { keys: [{ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }), kid: 'k' }] };
/** The contract's bound for a change at one replica to apply at another. */
const REPLICA_BOUND_MS = 5_000;

interface Started {
  url: string;
  store: string;
}

describePostgres('two skr verifier processes on one PostgreSQL store', () => {
  let cluster: PostgresCluster;
  let storeUrl: string;
  let stateDir: string;
  let guest: VirtualDevice;
  let a: Started;
  let b: Started;
  const children: ChildProcess[] = [];

  /** Starts `skr verifier --store` on the shared state directory and waits for the JSON it prints. */
  function verifier(): Promise<Started> {
    const child = spawn(process.execPath, [BIN, 'verifier', '--http', '--port', '0', '--state-dir', stateDir, '--trust-virtual', '--store', storeUrl], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    return new Promise((resolve, reject) => {
      const poll = setInterval(() => {
        try {
          const { verifier: started } = JSON.parse(stdout) as { verifier: Started };
          clearInterval(poll);
          resolve(started);
        } catch {
          if (child.exitCode !== null) {
            clearInterval(poll);
            reject(new Error(`skr verifier exited ${child.exitCode}: ${stdout}${stderr}`));
          }
        }
      }, 50);
    });
  }

  beforeAll(async () => {
    cluster = await startPostgresCluster();
    storeUrl = await cluster.database('verifier_replicas');
    stateDir = mkdtempSync(join(tmpdir(), 'skr-verifier-replicas-'));
    guest = await openVirtualDevice(stateDir, {});
    // One after the other: the first creates the signing keys and admin token the second reads.
    a = await verifier();
    b = await verifier();
  }, POSTGRES_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all(children.map((child) => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM'))))));
    await cluster?.remove();
  });

  const challenge = async (at: Started) => {
    const res = await fetch(`${at.url}/challenge`, { method: 'POST' });
    return { status: res.status, body: (await res.json()) as { nonce: string; error?: { code: string } } };
  };
  const attest = async (at: Started, body: object) => {
    const res = await fetch(`${at.url}${ATTEST}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { token?: string; error?: { code: string } } };
  };
  const admin = () => ({ authorization: `Bearer ${readFileSync(join(stateDir, 'verifier', 'admin-token'), 'utf8').trim()}` });

  test('each prints its URL and the store it uses, without a password', () => {
    expect(a.url).not.toBe(b.url);
    expect(a.store).toBe(storeUrl);
  });

  test('a nonce fetched from one and spent at it is refused as replayed at the other', async () => {
    const { nonce } = (await challenge(a)).body;
    const body = await attestBody(guest, { ...runtime, nonce });
    expect((await attest(a, body)).status).toBe(200);
    expect(await attest(b, body)).toEqual({ status: 400, body: { error: { code: 'nonce_replayed', message: expect.any(String) } } });
  });

  test('a nonce fetched from one is spent at the other, once', async () => {
    const { nonce } = (await challenge(b)).body;
    const body = await attestBody(guest, { ...runtime, nonce });
    expect((await attest(a, body)).status).toBe(200);
    expect((await attest(b, body)).body.error?.code).toBe('nonce_replayed');
  });

  test(`a reference value added through one is listed by the other within ${REPLICA_BOUND_MS} ms (bound ${REFERENCE_REFRESH_MS} ms), and by skr verifier refs with SKR_VERIFIER_STORE`, async () => {
    const value = 'ab'.repeat(48);
    const added = await fetch(`${a.url}/admin/refs`, { method: 'POST', headers: { ...admin(), 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'measurement', value }) });
    expect(added.status).toBe(201);
    const deadline = Date.now() + REPLICA_BOUND_MS;
    let listed: { value: string }[] = [];
    while (Date.now() < deadline) {
      listed = ((await (await fetch(`${b.url}/admin/refs`, { headers: admin() })).json()) as { references: { value: string }[] }).references;
      if (listed.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(listed).toEqual([expect.objectContaining({ kind: 'measurement', value })]);
    const cli = runCli(['verifier', 'refs', 'list', '--state-dir', stateDir], { SKR_VERIFIER_STORE: storeUrl });
    expect([cli.status, cli.json]).toEqual([0, { references: [expect.objectContaining({ kind: 'measurement', value })] }]);
    // The replica that lists it also appraises with it: the guest's measurement is not the one allowed.
    const refused = await attest(b, await attestBody(guest, { ...runtime, nonce: (await challenge(b)).body.nonce }));
    expect([refused.status, refused.body.error?.code]).toEqual([400, 'measurement_not_allowed']);
    expect((await fetch(`${b.url}/admin/refs/measurement/${value}`, { method: 'DELETE', headers: admin() })).status).toBe(204);
  });

  test('while the database is down a challenge is 503 verifier_store_unavailable; after it is back it is answered again', async () => {
    await cluster.stop();
    try {
      expect(await challenge(a)).toEqual({ status: 503, body: { error: { code: 'verifier_store_unavailable', message: expect.any(String) } } });
    } finally {
      await cluster.start();
    }
    const again = await challenge(a);
    expect(again.status).toBe(200);
    const attested = await attest(b, await attestBody(guest, { ...runtime, nonce: again.body.nonce }));
    expect([attested.status, attested.body.error?.code]).toEqual([200, undefined]);
  });
});
