import { kmsAudit } from '../../src/cli/kms';
import { describeBalanced } from '../lib/haproxy';
import { acknowledged, checkKeys, failedHonestly, mixedRun, suiteStores, withGatedSet } from './kms-mixed-run';

/**
 * Two `skr kms` replicas on one PostgreSQL behind HAProxy, under 16 callers of mixed writes and
 * releases, while a replica is SIGKILLed and restarted. An
 * acknowledged write (a 2xx answer) is there afterwards; an unacknowledged one (a 5xx or a
 * broken connection) is there whole or not at all; no release is granted once the key's
 * disable was acknowledged; every answer that is not an acknowledgement is a 5xx or a lost
 * connection, never a wrong 4xx.
 */
describeBalanced('KMS replicas on PostgreSQL behind HAProxy, under load and faults', () => {
  const stores = suiteStores();

  test('2,000 mixed operations from 16 callers while a replica is SIGKILLed and restarted', async () => {
    const [cluster, issuer] = [stores.cluster(), stores.issuer()];
    await withGatedSet(cluster, issuer, 'kill', 2, async (set, stateDir) => {
      let restarted: Promise<void> | undefined;
      const outcome = await mixedRun(set, issuer, {
        ops: 2000,
        onProgress: (done) => {
          if (done === 600) restarted = set.kill(1).then(() => set.restart(1));
        },
      });
      await restarted;
      expect(outcome.unexpected).toEqual([]);
      expect(outcome.disabledAt).toBeDefined();
      // Key state is read from the store on every release: none granted once the disable was acknowledged.
      expect(outcome.releases.filter((r) => r.startedAt > outcome.disabledAt! && acknowledged(r.status))).toEqual([]);
      expect(outcome.releases.some((r) => acknowledged(r.status))).toBe(true);
      // The kill costs the requests in flight at the killed replica, not the run: few honest failures.
      expect(outcome.statuses.filter((s) => failedHonestly(s.status)).length).toBeLessThan(200);
      expect(await checkKeys(set, outcome)).toEqual([]);
      expect(await kmsAudit(['verify', '--state-dir', stateDir, '--store', await cluster.database('kill')])).toMatchObject({ ok: true });
    });
  }, 240_000);
});
