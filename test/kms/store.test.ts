import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SealedDataInvalid, MasterKeyUnavailable } from '../../src/errors';
import { openMasterKey } from '../../src/kms';
import { openDatabase } from '../../src/kms/store/database';
import { KEY_STORE_MIGRATIONS } from '../../src/kms/store/migrations';
import { PostgresDatabase } from '../../src/kms/store/postgres/database';
import { PostgresKeyStore } from '../../src/kms/store/postgres/key-store';
import { PG_KEY_STORE_MIGRATIONS } from '../../src/kms/store/postgres/migrations';
import { describePostgres, POSTGRES_SETUP_TIMEOUT_MS, startPostgresCluster, type PostgresCluster } from '../lib/postgres-cluster';
import { tempDir } from './harness';

let temp: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  temp = await tempDir();
});

afterAll(async () => {
  await temp.remove();
});

describe('master key file', () => {
  test('is created 0600 and refused when group or others can read it', async () => {
    const path = join(temp.dir, 'loose.key');
    const key = await openMasterKey({ kind: 'file', path });
    await key.close();
    await chmod(path, 0o644);
    await expect(openMasterKey({ kind: 'file', path })).rejects.toBeInstanceOf(MasterKeyUnavailable);
  });

  test('of the wrong length is refused', async () => {
    const path = join(temp.dir, 'short.key');
    await writeFile(path, Buffer.alloc(16), { mode: 0o600 });
    await expect(openMasterKey({ kind: 'file', path })).rejects.toThrow(/32 bytes/);
  });

  test('seals with AES-256-GCM bound to the AAD', async () => {
    const key = await openMasterKey({ kind: 'file', path: join(temp.dir, 'aad.key') });
    const sealed = await key.seal(Buffer.from('secret'), Buffer.from('a'));
    expect(sealed.length).toBe(12 + 6 + 16);
    expect((await key.open(sealed, Buffer.from('a'))).toString()).toBe('secret');
    await expect(key.open(sealed, Buffer.from('b'))).rejects.toBeInstanceOf(SealedDataInvalid);
    await key.close();
  });
});

describe('SQLite key store schema', () => {
  test('migrations run once and a newer schema is refused', () => {
    const path = join(temp.dir, 'migrate.sqlite');
    openDatabase(path, { synchronous: 'FULL', migrations: KEY_STORE_MIGRATIONS }).close();
    const db = openDatabase(path, { synchronous: 'FULL', migrations: KEY_STORE_MIGRATIONS });
    expect(db.pragma('user_version', { simple: true })).toBe(KEY_STORE_MIGRATIONS.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    db.pragma('user_version = 99');
    db.close();
    expect(() => openDatabase(path, { synchronous: 'FULL', migrations: KEY_STORE_MIGRATIONS })).toThrow(/newer/);
  });
});

describePostgres('PostgreSQL key store schema', () => {
  let cluster: PostgresCluster;
  beforeAll(async () => {
    cluster = await startPostgresCluster();
  }, POSTGRES_SETUP_TIMEOUT_MS);
  afterAll(async () => cluster?.remove());

  test('replicas starting together migrate once, under the advisory lock; a newer schema is refused', async () => {
    const url = await cluster.database('migrate');
    const master = await openMasterKey({ kind: 'file', path: join(temp.dir, 'pg-migrate.key') });
    const dbs = Array.from({ length: 4 }, () => new PostgresDatabase({ url, max: 2 }));
    try {
      await Promise.all(dbs.map((db) => PostgresKeyStore.open(db, master)));
      expect(await dbs[0]!.query('SELECT component, version FROM skr_schema')).toEqual([{ component: 'keys', version: PG_KEY_STORE_MIGRATIONS.length }]);
      await dbs[0]!.query("UPDATE skr_schema SET version = 99 WHERE component = 'keys'");
      await expect(PostgresKeyStore.open(dbs[1]!, master)).rejects.toMatchObject({ code: 'store_schema_newer', details: { component: 'keys', found: 99 } });
    } finally {
      for (const db of dbs) await db.close();
      await master.close();
    }
  });
});
