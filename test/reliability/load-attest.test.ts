import { runLoad } from '../../bench/load';
import { send, startAttestStack, type AttestStack } from './harness';
import { memoryMiB } from './memory';

/**
 * Many concurrent callers on /attest/raw through the sidecar (virtual device): no errors, and
 * memory that does not grow with the number of requests. Timings are printed, never asserted.
 */
const CALLERS = 32;
const REQUESTS = 4_000;
const body = JSON.stringify({ runtime_data: Buffer.from(JSON.stringify({ app: 'load' })).toString('base64') });

let stack: AttestStack;
beforeAll(async () => {
  stack = await startAttestStack();
});
afterAll(() => stack.close());

test(`${REQUESTS} /attest/raw requests by ${CALLERS} callers: zero errors, bounded RSS growth`, async () => {
  // A warm-up run, so one-time allocations (JIT, sockets, the prom-client registry) are not counted as growth.
  await runLoad({ url: `${stack.sidecar.url}/attest/raw`, body, concurrency: CALLERS, requests: 500, maxDurationMs: 60_000 });
  const before = memoryMiB();
  const result = await runLoad({ url: `${stack.sidecar.url}/attest/raw`, body, concurrency: CALLERS, requests: REQUESTS, maxDurationMs: 120_000 });
  const after = memoryMiB();
  console.log(
    `load: ${result.requests} requests, ${CALLERS} callers, ${result.rps.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms; ` +
      `RSS ${before.rss.toFixed(1)} → ${after.rss.toFixed(1)} MiB, heap ${before.heap.toFixed(1)} → ${after.heap.toFixed(1)} MiB (after a full GC)`,
  );
  expect(result.requests).toBe(REQUESTS);
  expect(result.statuses).toEqual({ 200: REQUESTS });
  expect(result.errors).toBe(0);
  // Generous: the process also runs jest and the load generator. A leak of 8 KiB per request
  // would retain 32 MiB of heap; RSS also keeps pages the collector freed, hence its wider bound.
  expect(after.heap - before.heap).toBeLessThan(32);
  expect(after.rss - before.rss).toBeLessThan(128);
  expect((await send(stack.sidecar.url, { path: '/status' })).status).toBe(200);
});
