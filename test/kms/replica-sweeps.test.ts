import { Client } from 'pg';
import { createKey } from '../../src/kms/operations/keys';
import { deleteKey, getDeletedKey } from '../../src/kms/operations/lifecycle';
import { startKms, type RunningKms } from '../../src/kms';
import { describePostgres, POSTGRES_SETUP_TIMEOUT_MS, startPostgresCluster, type PostgresCluster } from '../lib/postgres-cluster';
import { exited, spawnKms } from './child';
import { tempDir } from './harness';
import { within } from '../lib/within';

/**
 * The periodic sweeps (retention purges, audit pruning, due rotations) of replicas on one
 * PostgreSQL database run at one of them: the holder of the sweep lock, a session-level advisory
 * lock. When it stops or dies its session ends, and another replica takes over at its next try.
 */
const INTERVAL_MS = 100;
/** Low 32 bits of the sweep lock's key, as pg_locks shows an advisory lock taken with one bigint. */
const SWEEP_LOCK_OBJID = 0x736b7202;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts the sweeps a replica runs: each starts with the purge of expired keys (the real one, called through). */
function countSweeps(kms: RunningKms): { count: number } {
  const counter = { count: 0 };
  const store = kms.core.store;
  const purgeDue = store.purgeDue.bind(store);
  store.purgeDue = (now) => {
    counter.count++;
    return purgeDue(now);
  };
  return counter;
}

describePostgres('the periodic sweeps of KMS replicas on one PostgreSQL database', () => {
  let cluster: PostgresCluster;
  beforeAll(async () => {
    cluster = await startPostgresCluster();
  }, POSTGRES_SETUP_TIMEOUT_MS);
  afterAll(async () => cluster?.remove());

  /** Sessions holding the sweep lock. */
  async function lockHolders(store: string): Promise<string[]> {
    const client = new Client({ connectionString: store });
    await client.connect();
    try {
      const { rows } = await client.query<{ application_name: string }>(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND l.objid = $1",
        [SWEEP_LOCK_OBJID],
      );
      return rows.map((r) => r.application_name);
    } finally {
      await client.end();
    }
  }

  test('one replica sweeps each interval, a deleted key past its retention is purged by it, and when that replica stops the other takes over', async () => {
    const temp = await tempDir();
    const store = await cluster.database('sweeps');
    let clock = Date.now();
    const start = () => startKms({ stateDir: temp.dir, store, trustedIssuers: [], recoverableDays: 7, sweepIntervalMs: INTERVAL_MS, now: () => new Date(clock) });
    const first = await start();
    const second = await start();
    let stopped = false;
    try {
      const [a, b] = [countSweeps(first), countSweeps(second)];
      expect(await lockHolders(store)).toEqual(['skr kms sweeps']);
      await pause(10 * INTERVAL_MS);
      // The first started leads; the second only tries the lock.
      expect(a.count).toBeGreaterThanOrEqual(3);
      expect(b.count).toBe(0);

      await createKey(first.core, 'retired', { kty: 'oct-HSM', key_size: 256 });
      await deleteKey(second.core, 'retired');
      clock += 8 * 86_400_000;
      expect(
        await within(5_000, () =>
          getDeletedKey(second.core, 'retired').then(
            () => false,
            () => true,
          ),
        ),
      ).toBe(true);
      expect(b.count).toBe(0);

      await first.close();
      stopped = true;
      const before = a.count;
      expect(await within(5_000, () => b.count >= 3)).toBe(true);
      expect(a.count).toBe(before);
      expect(await lockHolders(store)).toEqual(['skr kms sweeps']);
    } finally {
      if (!stopped) await first.close();
      await second.close();
      await temp.remove();
    }
  }, 120_000);

  test('a leader that dies (SIGKILL) releases the lock with its session: the other replica sweeps from its next interval', async () => {
    const temp = await tempDir();
    const store = await cluster.database('sweeps_killed');
    // A replica as deployed leads from its start; its own sweeps are a minute apart.
    const leader = await spawnKms(temp.dir, ['--store', store]);
    let follower: RunningKms | undefined;
    try {
      follower = await startKms({ stateDir: temp.dir, store, trustedIssuers: [], sweepIntervalMs: INTERVAL_MS });
      const swept = countSweeps(follower);
      expect(await lockHolders(store)).toEqual(['skr kms sweeps']);
      await pause(10 * INTERVAL_MS);
      expect(swept.count).toBe(0);

      leader.child.kill('SIGKILL');
      await exited(leader.child);
      expect(await within(5_000, () => swept.count > 0)).toBe(true);
      expect(await lockHolders(store)).toEqual(['skr kms sweeps']);
    } finally {
      leader.child.kill('SIGKILL');
      await exited(leader.child);
      await follower?.close();
      await temp.remove();
    }
  }, 120_000);
});
