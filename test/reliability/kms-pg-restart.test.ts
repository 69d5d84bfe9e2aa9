import { kmsAudit } from '../../src/cli/kms';
import { PostgresDatabase } from '../../src/kms/store/postgres/database';
import { describeBalanced } from '../lib/haproxy';
import { acknowledged, checkKeys, mixedRun, suiteStores, withGatedSet, type Outcome } from './kms-mixed-run';

/**
 * Two `skr kms` replicas on one PostgreSQL behind HAProxy, under 16 callers of mixed writes and
 * releases, while PostgreSQL is stopped (`pg_ctl stop -m fast`: every session ended), left down
 * a few seconds and started again on its data directory and port. During the outage every
 * request is answered 503 with the store's or the audit log's code — not left hanging (each
 * request has a deadline, see kms-mixed-run.ts), not a 500, not a broken connection: the
 * replicas stay up. After it, requests succeed again; every acknowledged write is there, every
 * unacknowledged one whole or absent, and the audit chain verifies.
 */
const OPS = 1500;
/** Operations finished before PostgreSQL is stopped: the run is under way, the gate not yet disabled. */
const STOP_AFTER = 300;
const OUTAGE_MS = 3000;
/** The answers at the end of the run, all past the outage, that must all be successes. */
const LAST = 200;
/** The run takes about half a minute; one whose replicas died would take several minutes: it stops starting operations after this. */
const RUN_LIMIT_MS = 90_000;
const UNAVAILABLE = ['store_unavailable', 'audit_unavailable'];

/** How many requests ended each way ("503 store_unavailable", "lost"): a failure message short enough to read. */
function tally(statuses: Outcome['statuses']): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of statuses) {
    const way = s.code ? `${s.status} ${s.code}` : String(s.status);
    counts[way] = (counts[way] ?? 0) + 1;
  }
  return counts;
}

/** A release refused because the gate was disabled (an answer, not a failure). */
const refusedRelease = (s: Outcome['statuses'][number]) => s.status === 403;

describeBalanced('KMS replicas behind HAProxy while PostgreSQL restarts', () => {
  const stores = suiteStores();

  test('a transaction open when PostgreSQL stops is refused with store_unavailable, the process carries on, and the store answers after the start', async () => {
    const cluster = stores.cluster();
    const db = new PostgresDatabase({ url: await cluster.database('held'), max: 2 });
    try {
      await db.query('CREATE TABLE held (n INTEGER)');
      let inside!: () => void;
      const begun = new Promise<void>((resolve) => (inside = resolve));
      let resume!: () => void;
      const resumed = new Promise<void>((resolve) => (resume = resolve));
      const held = db.transaction(async (q) => {
        await q('INSERT INTO held (n) VALUES (1)');
        inside();
        // The server ends this session while none of its statements is waiting for an answer.
        await resumed;
        await q('INSERT INTO held (n) VALUES (2)');
      });
      await begun;
      await cluster.stop();
      resume();
      await expect(held).rejects.toMatchObject({ code: 'store_unavailable', status: 503 });
      await expect(db.query('SELECT 1')).rejects.toMatchObject({ code: 'store_unavailable' });
      await cluster.start();
      // Nothing of the ended transaction was committed; the pool opens new connections.
      expect(await db.query('SELECT count(*)::int AS n FROM held')).toEqual([{ n: 0 }]);
      await db.transaction((q) => q('INSERT INTO held (n) VALUES (3)'));
      expect(await db.query('SELECT n FROM held')).toEqual([{ n: 3 }]);
    } finally {
      await db.close();
    }
  });

  test('mixed operations through a PostgreSQL restart: 503 during the outage, success after it, nothing acknowledged lost', async () => {
    const [cluster, issuer] = [stores.cluster(), stores.issuer()];
    await withGatedSet(cluster, issuer, 'restart', 2, async (set, stateDir) => {
      const outage: { stopped?: number; starting?: number; started?: number } = {};
      let restart: Promise<void> | undefined;
      const outcome = await mixedRun(set, issuer, {
        ops: OPS,
        stopAfterMs: RUN_LIMIT_MS,
        onProgress: (done) => {
          if (done !== STOP_AFTER) return;
          restart = (async () => {
            await cluster.stop();
            outage.stopped = Date.now();
            await new Promise((r) => setTimeout(r, OUTAGE_MS));
            outage.starting = Date.now();
            await cluster.start();
            outage.started = Date.now();
          })();
        },
      });
      await restart;
      expect(outage.started).toBeDefined();

      // Nothing hung, no connection broken, no answer but a success, a release refused after the disable, or an honest 503.
      expect(outcome.unexpected).toEqual([]);
      expect(tally(outcome.statuses.filter((s) => s.status === 'hung' || s.status === 'lost'))).toEqual({});
      expect(tally(outcome.statuses.filter((s) => !acknowledged(s.status) && !refusedRelease(s) && !(s.status === 503 && UNAVAILABLE.includes(s.code!))))).toEqual({});
      // While the server was down, requests were answered: with 503.
      const down = outcome.statuses.filter((s) => s.at > outage.stopped! && s.at < outage.starting!);
      expect(down.some((s) => s.status === 503)).toBe(true);
      // After it, they succeed again: the run's last answers are all successes (or the gate's refusals).
      const after = outcome.statuses.slice(-LAST);
      expect(after.every((s) => s.at > outage.started!)).toBe(true);
      expect(tally(after.filter((s) => !acknowledged(s.status) && !refusedRelease(s)))).toEqual({});

      expect(outcome.disabledAt).toBeDefined();
      expect(outcome.releases.filter((r) => r.startedAt > outcome.disabledAt! && acknowledged(r.status))).toEqual([]);
      expect(await checkKeys(set, outcome)).toEqual([]);
      expect(await kmsAudit(['verify', '--state-dir', stateDir, '--store', await cluster.database('restart')])).toMatchObject({ ok: true });
    });
  }, 180_000);
});
