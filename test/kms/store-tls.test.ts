import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PostgresDatabase } from '../../src/kms/store/postgres/database';
import { parseStoreLocation, postgresConnection } from '../../src/kms/store/store-url';
import { describePostgres, POSTGRES_SETUP_TIMEOUT_MS, startPostgresCluster, type PostgresCluster } from '../lib/postgres-cluster';
import { tempDir } from './harness';

describe('TLS to PostgreSQL from the store URL', () => {
  test.each([
    ['postgres://skr@db/vault', false],
    ['postgres://skr@db/vault?sslmode=disable', false],
    ['postgres://skr@db/vault?sslmode=prefer', false],
    ['postgres://skr@db/vault?sslmode=require', { rejectUnauthorized: true }],
    ['postgres://skr@db/vault?sslmode=verify-ca', { rejectUnauthorized: true }],
    ['postgres://skr@db/vault?sslmode=verify-full', { rejectUnauthorized: true }],
  ])('%s gives ssl %o, and node-postgres never sees the TLS parameters', (url, ssl) => {
    const connection = postgresConnection(url);
    expect(connection).toEqual({ connectionString: 'postgres://skr@db/vault', ssl });
  });

  test('sslrootcert names the CA the server must chain to; other parameters stay', async () => {
    const temp = await tempDir();
    try {
      const ca = join(temp.dir, 'ca.pem');
      await writeFile(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      expect(postgresConnection(`postgres://skr@db:5432/vault?sslmode=verify-full&sslrootcert=${ca}&application_name=x`)).toEqual({
        connectionString: 'postgres://skr@db:5432/vault?application_name=x',
        ssl: { rejectUnauthorized: true, ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' },
      });
      expect(() => postgresConnection(`postgres://skr@db/vault?sslmode=verify-full&sslrootcert=${join(temp.dir, 'absent.pem')}`)).toThrow(expect.objectContaining({ code: 'store_url_invalid' }));
    } finally {
      await temp.remove();
    }
  });

  test.each([
    ['postgres://skr:hunter2@db/vault?sslmode=allow-anything', /sslmode must be one of/],
    ['postgres://skr:hunter2@db/vault?sslmode=disable&sslrootcert=/ca.pem', /sslrootcert needs sslmode/],
    ['postgres://skr:hunter2@db/vault?sslmode=verify-full&sslrootcert=', /names no file/],
  ])('%s is refused when parsed, without echoing it', (value, reason) => {
    let thrown: unknown;
    try {
      parseStoreLocation(value, '/state/kms/keys.sqlite');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'store_url_invalid', status: 400, message: expect.stringMatching(reason) });
    expect(JSON.stringify(thrown)).not.toContain('hunter2');
  });
});

describePostgres('TLS against a real server', () => {
  let cluster: PostgresCluster;
  beforeAll(async () => {
    cluster = await startPostgresCluster();
  }, POSTGRES_SETUP_TIMEOUT_MS);
  afterAll(async () => cluster?.remove());

  test('sslmode=disable connects in plain; verify-full insists on TLS, which this server does not offer: 503, nothing answered', async () => {
    const plain = new PostgresDatabase({ url: `${cluster.url}?sslmode=disable` });
    try {
      expect(await plain.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await plain.close();
    }
    const tls = new PostgresDatabase({ url: `${cluster.url}?sslmode=verify-full`, timeoutMs: 2000 }, 'skr kms test');
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await expect(tls.query('SELECT 1')).rejects.toMatchObject({ code: 'store_unavailable', status: 503 });
      expect(String(stderr.mock.calls[0]?.[0])).toMatch(/SSL/i);
    } finally {
      stderr.mockRestore();
      await tls.close();
    }
  });
});
