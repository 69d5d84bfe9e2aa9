import { runLoad } from '../../bench/load';
import type { RunningStack } from '../../src/dev/stack';
import { startTestStack } from '../e2e/stack';
import { memoryMiB } from './memory';

/**
 * Many concurrent callers on /key/release through the sidecar, against the embedded verifier
 * and KMS over real sockets: every release succeeds and yields the one demo key, a key whose
 * policy the TEE does not satisfy is refused throughout, every release the KMS granted is in
 * its audit log, and memory does not grow with the number of releases. Timings are printed, never asserted.
 */
const CALLERS = 32;
const RELEASES = 2_000;
const DENIED = 200;

let stack: RunningStack;
beforeAll(async () => {
  ({ stack } = await startTestStack());
});
afterAll(() => stack?.close());

const releasesAudited = async () => (await stack.kms.audit.query({ key: 'demo', decision: 'allow', limit: 100_000 })).filter((e) => e.operation === 'release').length;

test(`${RELEASES} releases by ${CALLERS} callers: zero errors, one key, denials hold, every KMS grant audited, bounded RSS growth`, async () => {
  const url = `${stack.endpoints.sidecar}/key/release?format=object`;
  const body = JSON.stringify({ kid: 'demo' });
  // A warm-up run, so one-time allocations (JIT, sockets, token caches) are not counted as growth.
  await runLoad({ url, body, concurrency: CALLERS, requests: 200, maxDurationMs: 60_000 });
  const auditedBefore = await releasesAudited();
  // Requests that arrive together share the sidecar's next call to the KMS (SharedNextCall):
  // each granted call's signed answer is verified once, here counted.
  const { jws } = stack.sidecar.context;
  const verify = jws.verify.bind(jws);
  let granted = 0;
  jws.verify = (...args) => {
    granted++;
    return verify(...args);
  };
  const before = memoryMiB();

  const keys = new Map<string, number>();
  const denials = new Map<string, number>();
  const [result, denied] = await Promise.all([
    runLoad({
      url,
      body,
      concurrency: CALLERS,
      requests: RELEASES,
      maxDurationMs: 240_000,
      inspect: (status, text) => {
        if (status !== 200) return;
        const k = String((JSON.parse(text.toString('utf8')) as { key: { k: string } }).key.k);
        keys.set(k, (keys.get(k) ?? 0) + 1);
      },
    }),
    runLoad({
      url,
      body: JSON.stringify({ kid: 'demo-denied' }),
      concurrency: 4,
      requests: DENIED,
      maxDurationMs: 240_000,
      inspect: (status, text) => {
        const code = status === 403 ? String((JSON.parse(text.toString('utf8')) as { code: string }).code) : `HTTP ${status}`;
        denials.set(code, (denials.get(code) ?? 0) + 1);
      },
    }),
  ]);
  const after = memoryMiB();
  console.log(
    `release load: ${result.requests} releases (${granted} calls to the KMS), ${CALLERS} callers (with ${DENIED} denied requests alongside), ${result.rps.toFixed(0)} releases/s, ` +
      `p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms; RSS ${before.rss.toFixed(1)} → ${after.rss.toFixed(1)} MiB, ` +
      `heap ${before.heap.toFixed(1)} → ${after.heap.toFixed(1)} MiB (after a full GC)`,
  );

  expect(result.statuses).toEqual({ 200: RELEASES });
  expect(result.errors).toBe(0);
  expect([...keys.values()]).toEqual([RELEASES]);
  expect(Buffer.from([...keys.keys()][0]!, 'base64url')).toHaveLength(32);
  expect(denied.statuses).toEqual({ 403: DENIED });
  expect(Object.fromEntries(denials)).toEqual({ release_denied: DENIED });
  expect(granted).toBeGreaterThan(0);
  expect(granted).toBeLessThanOrEqual(RELEASES);
  expect((await releasesAudited()) - auditedBefore).toBe(granted);
  // Generous: jest, the load generator and the whole stack share this process. A leak of
  // 8 KiB per release would retain 16 MiB of heap. RSS keeps pages the collector and malloc
  // freed (one arena per thread-pool thread that signed or unwrapped): across runs on one
  // machine its growth over these 2,000 releases ranged from 30 to 160 MiB with the heap flat,
  // so its bound only catches a gross native leak.
  expect(after.heap - before.heap).toBeLessThan(16);
  expect(after.rss - before.rss).toBeLessThan(256);
});
