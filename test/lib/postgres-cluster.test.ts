import { Client } from 'pg';
import { describePostgres, POSTGRES_SETUP_TIMEOUT_MS, startPostgresCluster, type PostgresCluster } from './postgres-cluster';

describePostgres('a throwaway PostgreSQL cluster', () => {
  let cluster: PostgresCluster;
  beforeAll(async () => {
    cluster = await startPostgresCluster();
  }, POSTGRES_SETUP_TIMEOUT_MS);
  afterAll(async () => cluster?.remove());

  test('answers on loopback, gives separate databases, and comes back after a restart', async () => {
    const url = await cluster.database('helper_check');
    expect(url).toMatch(/^postgres:\/\/[^:@]+@127\.0\.0\.1:\d+\/helper_check$/);
    const write = new Client({ connectionString: url });
    await write.connect();
    await write.query('CREATE TABLE kept (v integer)');
    await write.query('INSERT INTO kept VALUES (7)');
    await write.end();
    await cluster.stop();
    await cluster.start();
    const read = new Client({ connectionString: url });
    await read.connect();
    expect((await read.query('SELECT v FROM kept')).rows).toEqual([{ v: 7 }]);
    expect((await read.query('SELECT current_database() AS db')).rows[0].db).toBe('helper_check');
    await read.end();
  });
});
