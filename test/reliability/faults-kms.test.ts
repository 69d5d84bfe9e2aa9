import { ManagedIdentityCredential } from '@azure/identity';
import { loadSidecarConfig } from '../../src/config/sidecar';
import type { RunningStack } from '../../src/dev/stack';
import { startSidecar, type RunningSidecar } from '../../src/sidecar/server';
import { startTestStack } from '../e2e/stack';
import { errorCode, postJson, startFaultProxy, type FaultProxy } from './harness';

/**
 * The key service failing under the sidecar: throttling with Retry-After, 503, dropped
 * connections, a refusal. The embedded stack's KMS sits behind a fault proxy, the only thing
 * between a second sidecar and it; the real SDK does the retrying. Each fault gives its
 * documented status and code, only transient failures are retried, and the same sidecar
 * releases the same key again once the KMS is reachable, without a restart.
 */
const RELEASE = '/keys/demo/release';

let stack: RunningStack;
let proxy: FaultProxy;
let sidecar: RunningSidecar;
let demoKey: string;

const release = () => postJson(sidecar.url, '/key/release?format=object', { kid: 'demo' });
const attempts = () => proxy.counts.get(RELEASE) ?? 0;

beforeAll(async () => {
  ({ stack } = await startTestStack());
  proxy = await startFaultProxy(stack.kms.caPem);
  proxy.target = stack.kms.url;
  const config = loadSidecarConfig({
    flags: { port: '0', device: 'virtual', 'state-dir': stack.stateDir, 'maa-endpoint': stack.endpoints.verifier, 'akv-endpoint': proxy.url },
    env: {},
  });
  config.caPems.push(stack.kms.caPem);
  // startDevStack pointed @azure/identity at the stack's identity endpoint.
  sidecar = await startSidecar(config, { credential: new ManagedIdentityCredential(), keepPrivileges: true });
  const direct = await postJson(stack.endpoints.sidecar, '/key/release?format=object', { kid: 'demo' });
  demoKey = (JSON.parse(direct.text) as { key: { k: string } }).key.k;
  // One release through the proxy first: the SDK learns the KMS's challenge.
  expect((await release()).status).toBe(200);
});
afterAll(async () => {
  await sidecar?.close();
  await proxy?.close();
  await stack?.close();
});
beforeEach(() => {
  proxy.counts.clear();
  proxy.fault(() => ({ kind: 'forward' }));
});

/** After every fault the same sidecar releases the same key. */
async function expectRecovered(): Promise<void> {
  proxy.fault(() => ({ kind: 'forward' }));
  const res = await release();
  expect(res.status).toBe(200);
  expect((JSON.parse(res.text) as { key: { k: string } }).key.k).toBe(demoKey);
}

/** The first `n` release requests get `fault`, the rest reach the KMS. */
function firstRequests(n: number, fault: Parameters<FaultProxy['fault']>[0] extends (p: string) => infer F ? F : never) {
  let seen = 0;
  proxy.fault((path) => (path === RELEASE && seen++ < n ? fault : { kind: 'forward' }));
}

const throttled = { kind: 'answer' as const, status: 429, headers: { 'retry-after': '1' }, body: JSON.stringify({ error: { code: 'Throttled', message: 'slow down' } }) };
const unavailable = { kind: 'answer' as const, status: 503, body: JSON.stringify({ error: { code: 'ServiceUnavailable', message: 'try later' } }) };
const dropped = { kind: 'drop' as const };

test.each([
  ['429 with Retry-After', throttled],
  ['503', unavailable],
  ['a dropped connection', dropped],
])('%s once: retried, and the release succeeds', async (_name, fault) => {
  firstRequests(1, fault);
  const res = await release();
  expect(res.status).toBe(200);
  expect((JSON.parse(res.text) as { key: { k: string } }).key.k).toBe(demoKey);
  expect(attempts()).toBe(2);
});

test.each([
  ['429 with Retry-After', throttled, 429],
  ['503', unavailable, 503],
  ['a dropped connection', dropped, undefined],
])('%s on every attempt: 502 upstream_failed after the retries; then it recovers', async (_name, fault, upstreamStatus) => {
  proxy.fault((path) => (path === RELEASE ? fault : { kind: 'forward' }));
  const res = await release();
  expect(res.status).toBe(502);
  expect(errorCode(res, 'sidecar')).toBe('upstream_failed');
  // The message names the service and what it answered; the upstream body is never echoed.
  const message = (JSON.parse(res.text) as { error: string }).error;
  expect(message).toMatch(upstreamStatus === undefined ? /^kms: the key service cannot be reached/ : new RegExp(`^kms: HTTP ${upstreamStatus}$`));
  // The SDK's policy: the first attempt and 3 retries.
  expect(attempts()).toBe(4);
  await expectRecovered();
}, 60_000);

test('a 400 from the key service is not transient: sent once, passed on as upstream_rejected 400', async () => {
  proxy.fault((path) => (path === RELEASE ? { kind: 'answer', status: 400, body: JSON.stringify({ error: { code: 'BadParameter', message: 'no' } }) } : { kind: 'forward' }));
  const res = await release();
  expect(res.status).toBe(400);
  expect(errorCode(res, 'sidecar')).toBe('upstream_rejected');
  expect(attempts()).toBe(1);
  await expectRecovered();
});

test('a key service slower than the sidecar timeout: 504 upstream_timeout; fast again: 200', async () => {
  const slow = loadSidecarConfig({
    flags: { port: '0', device: 'virtual', 'state-dir': stack.stateDir, 'maa-endpoint': stack.endpoints.verifier, 'akv-endpoint': proxy.url, 'timeout-ms': '1000' },
    env: {},
  });
  slow.caPems.push(stack.kms.caPem);
  const impatient = await startSidecar(slow, { credential: new ManagedIdentityCredential(), keepPrivileges: true });
  try {
    proxy.fault((path) => (path === RELEASE ? { kind: 'forward', delayMs: 3_000 } : { kind: 'forward' }));
    const res = await postJson(impatient.url, '/key/release', { kid: 'demo' });
    expect(res.status).toBe(504);
    expect(errorCode(res, 'sidecar')).toBe('upstream_timeout');
    proxy.fault(() => ({ kind: 'forward' }));
    expect((await postJson(impatient.url, '/key/release', { kid: 'demo' })).status).toBe(200);
  } finally {
    await impatient.close();
  }
});
