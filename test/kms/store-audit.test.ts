import { GENESIS_HASH } from '../../src/kms/audit/chain';
import type { AuditEntry } from '../../src/kms/audit/entry';
import { AuditLog } from '../../src/kms/audit/log';
import { storeBackends } from './store-backends';

/**
 * The audit store's contract on both backends: entries committed in order on one hash chain,
 * whoever appends (several replicas at once), counted refusals summarised once, pruning that
 * keeps the chain verifiable, and a checkpoint that shows a cut log.
 */
const entry = (i: number, more: Partial<AuditEntry> = {}): AuditEntry => ({ time: 1_000 + i, operation: 'get', key: `k${i % 3}`, decision: 'allow', status: 200, ...more });

describe.each(storeBackends().map((backend) => [backend.name, backend] as const))('audit store on %s', (name, backend) => {
  backend.describe(`${name}: one chain, committed before the answer`, () => {
    test('appends in order, queries newest first by key (any case), principal, decision and time', async () => {
      const log = await backend.auditLog('order');
      const store = await log.open();
      await store.append([entry(0, { principal: 'alice' }), entry(1, { decision: 'deny', status: 403, reason: 'release_denied: x' })], []);
      await store.append([entry(2, { key: 'Mixed', principal: 'bob' })], []);
      expect((await store.query({})).map((e) => e.time)).toEqual([1002, 1001, 1000]);
      expect(await store.query({ key: 'mixed' })).toMatchObject([{ key: 'Mixed', principal: 'bob' }]);
      expect(await store.query({ principal: 'alice' })).toMatchObject([{ time: 1000 }]);
      expect(await store.query({ decision: 'deny' })).toMatchObject([{ status: 403, reason: 'release_denied: x' }]);
      expect((await store.query({ since: 1001, limit: 1 })).map((e) => e.time)).toEqual([1002]);
      expect(await store.verify()).toEqual({ ok: true, entries: 3, head: { id: expect.any(Number), hash: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    });

    test('replicas appending at once keep one unbroken chain with every entry', async () => {
      const log = await backend.auditLog('replicas');
      const stores = [await log.open(), await log.open(), await log.open()];
      const logs = stores.map((s) => new AuditLog(s));
      await Promise.all(Array.from({ length: 90 }, (_, i) => logs[i % 3]!.commit(entry(i, { principal: `replica-${i % 3}` }))));
      const verdict = await stores[1]!.verify();
      expect(verdict).toMatchObject({ ok: true, entries: 90 });
      expect(new Set((await stores[2]!.query({ limit: 1000 })).map((e) => e.time)).size).toBe(90);
    });

    test('an edited row is the first broken link; a checkpoint shows a cut', async () => {
      const log = await backend.auditLog('tamper');
      const store = await log.open();
      await store.append(
        [0, 1, 2, 3].map((i) => entry(i)),
        [],
      );
      const verdict = await store.verify();
      if (!verdict.ok) throw new Error('a fresh log verifies');
      const [second] = await log.sql('SELECT id FROM audit ORDER BY id LIMIT 1 OFFSET 1');
      await log.sql("UPDATE audit SET decision = 'deny' WHERE id = ?", second!.id);
      expect(await store.verify()).toMatchObject({ ok: false, brokenAt: Number(second!.id) });
      await log.sql("UPDATE audit SET decision = 'allow' WHERE id = ?", second!.id);
      await log.sql('DELETE FROM audit WHERE id >= ?', verdict.head.id);
      expect(await store.verify()).toMatchObject({ ok: true, entries: 3 });
      expect(await store.verify(verdict.head)).toMatchObject({ ok: false, brokenAt: verdict.head.id, reason: expect.stringContaining('cut') });
    });

    test('pruning moves the anchor, records itself, and leaves a chain that verifies', async () => {
      const log = await backend.auditLog('prune');
      const store = await log.open();
      await store.append(
        [0, 1, 2, 3, 4].map((i) => entry(i)),
        [],
      );
      expect(await store.prune(1003, 2000)).toBe(3);
      expect(await store.prune(1003, 2000)).toBe(0);
      expect((await store.query({})).map((e) => e.operation)).toEqual(['audit.prune', 'get', 'get']);
      expect(await store.verify()).toMatchObject({ ok: true, entries: 3 });
      const [anchor] = await log.sql('SELECT hash FROM audit_anchor');
      expect(anchor!.hash).not.toBe(GENESIS_HASH);
    });

    test('counted refusals add up across batches and replicas and are summarised once', async () => {
      const log = await backend.auditLog('counts');
      const [a, b] = [await log.open(), await log.open()];
      const refusal = { time: 1_500, source: '127.0.0.1', principal: 'mallory', status: 403 };
      await a.append([], [refusal, refusal]);
      await b.append([entry(0)], [refusal, { ...refusal, status: 401, principal: undefined }]);
      const [summarised, again] = await Promise.all([a.summarizeCounts(1_600), b.summarizeCounts(1_600)]);
      expect(summarised + again).toBe(2);
      const summaries = await a.query({});
      expect(
        summaries
          .filter((e) => e.operation === 'refused.summary')
          .map((e) => [e.principal, e.status, e.count ?? 1])
          .sort(),
      ).toEqual([
        [undefined, 401, 1],
        ['mallory', 403, 3],
      ]);
      expect(await a.verify()).toMatchObject({ ok: true, entries: 3 });
    });

    test('a NUL a caller sent is stored as U+FFFD and the chain still verifies', async () => {
      const log = await backend.auditLog('nul');
      const store = await log.open();
      await store.append([entry(0, { principal: 'a\0b', key: 'k\0' })], []);
      const [stored] = await store.query({});
      expect(stored!.principal).toBe(name === 'postgres' ? 'a\uFFFDb' : 'a\0b');
      expect(await store.verify()).toMatchObject({ ok: true, entries: 1 });
    });

    test('a closed store refuses writes: the log answers audit_unavailable (503)', async () => {
      const log = await backend.auditLog('closed');
      const store = await log.open();
      const audit = new AuditLog(store);
      await audit.commit(entry(0));
      await audit.close();
      const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        await expect(audit.commit(entry(1))).rejects.toMatchObject({ code: 'audit_unavailable', status: 503 });
        await expect(audit.record(entry(2))).rejects.toMatchObject({ code: 'audit_unavailable', status: 503 });
      } finally {
        stderr.mockRestore();
      }
    });
  });
});
