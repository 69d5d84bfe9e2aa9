import { issuerCredential, startStack, type Stack } from './harness';
import { raw } from './raw';
import { describePostgres, POSTGRES_SETUP_TIMEOUT_MS, startPostgresCluster, type PostgresCluster } from '../lib/postgres-cluster';

/**
 * The KMS on PostgreSQL fails closed while the database is down: every request is refused with
 * a 503 and no answer from the store, the readiness route says so, and once PostgreSQL is back
 * the same KMS process serves again with nothing acknowledged lost.
 */
const API = '?api-version=7.4';

describePostgres('a KMS whose PostgreSQL store goes away and comes back', () => {
  let cluster: PostgresCluster;
  let stack: Stack;
  let token: string;

  beforeAll(async () => {
    cluster = await startPostgresCluster();
    stack = await startStack({ store: await cluster.database('outage') });
    await stack.kms.roles.add('outage-officer', 'crypto-officer');
    token = (await issuerCredential(stack.issuer, 'outage-officer').getToken('https://vault.azure.net/.default'))!.token;
  }, POSTGRES_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await stack?.close();
    await cluster?.remove();
  });

  const call = (method: string, path: string, body?: unknown) => raw(stack.kms.url, stack.kms.caPem, method, `${path}${API}`, { token, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  test('refuses with 503 while the database is down, answers not ready, and serves again afterwards', async () => {
    const created = await call('POST', '/keys/kept/create', { kty: 'oct-HSM', key_size: 256 });
    expect(created.status).toBe(200);
    expect((await raw(stack.kms.url, stack.kms.caPem, 'GET', '/ready')).body).toEqual({ status: 'ready' });

    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await cluster.stop();
      for (const [method, path, body] of [
        ['GET', '/keys/kept'],
        ['POST', '/keys/lost/create', { kty: 'oct-HSM', key_size: 256 }],
        ['DELETE', '/keys/kept'],
      ] as const) {
        const answer = await call(method, path, body);
        expect({ method, path, status: answer.status }).toEqual({ method, path, status: 503 });
        expect(answer.body.error.code).toBe('ServiceUnavailable');
        expect(['store_unavailable', 'audit_unavailable']).toContain(answer.body.error.innererror.code);
        expect(JSON.stringify(answer.body)).not.toMatch(/postgres:\/\/|ECONNREFUSED/);
      }
      const ready = await raw(stack.kms.url, stack.kms.caPem, 'GET', '/ready');
      expect([ready.status, ready.body.error.innererror.code]).toEqual([503, 'store_unavailable']);
      await cluster.start();
    } finally {
      stderr.mockRestore();
    }

    expect((await raw(stack.kms.url, stack.kms.caPem, 'GET', '/ready')).status).toBe(200);
    const read = await call('GET', '/keys/kept');
    expect([read.status, read.body.key.kid]).toEqual([200, created.body.key.kid]);
    expect((await call('GET', '/keys/lost')).status).toBe(404);
    const entries = await stack.kms.audit.query({ key: 'kept', limit: 10 });
    expect(entries.map((e) => [e.operation, e.status])).toEqual(
      expect.arrayContaining([
        ['create', 200],
        ['get', 200],
      ]),
    );
    expect(await stack.kms.audit.verify()).toMatchObject({ ok: true });
  });
});
