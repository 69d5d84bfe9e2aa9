import { ManagedIdentityCredential } from '@azure/identity';
import { loadSidecarConfig } from '../../src/sidecar/config';
import type { RunningStack } from '../../src/dev/stack';
import { startSidecar, type RunningSidecar } from '../../src/sidecar/server';
import { startTestStack } from '../e2e/stack';
import { errorCode, postJson, postToSidecar, startFaultProxy, type Fault, type FaultProxy, type RawResponse } from './harness';

/**
 * The key service failing under the sidecar: throttling with and without Retry-After, 503,
 * dropped connections, a refusal, slowness. The embedded stack's KMS (HTTPS) sits behind a fault
 * proxy, the only thing between a second sidecar and it; the real @azure/keyvault-keys pipeline
 * does the retrying (1 + 3 attempts; 5xx, 408 and dropped connections with exponential backoff,
 * 429/503 after Retry-After when one is given). Each fault gives its documented status and code,
 * only transient failures are retried, and the same sidecar releases the same key material once
 * the KMS is reachable again, without a restart.
 */
const RELEASE = '/keys/demo/release';

let stack: RunningStack;
let proxy: FaultProxy;
let sidecar: RunningSidecar;
/** The demo key's material as the stack's own sidecar (no proxy) releases it. */
let demoKey: string;

/** A sidecar whose key service is the proxy; the stack's CA makes the KMS's HTTPS and release JWS verify. */
async function sidecarBehindProxy(flags: Record<string, string> = {}): Promise<RunningSidecar> {
  const config = loadSidecarConfig({
    flags: { port: '0', device: 'virtual', 'state-dir': stack.stateDir, 'maa-endpoint': stack.endpoints.verifier, 'akv-endpoint': proxy.url, ...flags },
    env: {},
  });
  config.caPems.push(stack.kms.caPem);
  // startDevStack pointed @azure/identity at the stack's identity endpoint (not through the proxy).
  return startSidecar(config, { credential: new ManagedIdentityCredential(), keepPrivileges: true });
}

const releaseFrom = (s: RunningSidecar) => postToSidecar(s.url, '/key/release?format=object', { kid: 'demo' });
const release = () => releaseFrom(sidecar);
const attempts = () => proxy.counts.get(RELEASE) ?? 0;
const keyOf = (res: RawResponse) => (JSON.parse(res.text) as { key: { k: string } }).key.k;
const messageOf = (res: RawResponse) => (JSON.parse(res.text) as { error: string }).error;

beforeAll(async () => {
  ({ stack } = await startTestStack());
  proxy = await startFaultProxy(stack.kms.caPem);
  proxy.target = stack.kms.url;
  sidecar = await sidecarBehindProxy();
  const direct = await postJson(stack.endpoints.sidecar, '/key/release?format=object', { kid: 'demo' });
  expect(direct.status).toBe(200);
  demoKey = keyOf(direct);
  // One release through the proxy first: the SDK learns the KMS's challenge (a body-less first
  // request), so afterwards every attempt the proxy counts is a release.
  const warm = await release();
  expect(warm.status).toBe(200);
  expect(keyOf(warm)).toBe(demoKey);
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

/** The KMS healthy again: the same sidecar releases the same key, the proxy sees that one request. */
async function expectRecovered(on: RunningSidecar = sidecar): Promise<void> {
  proxy.fault(() => ({ kind: 'forward' }));
  proxy.counts.clear();
  const res = await releaseFrom(on);
  expect(res.status).toBe(200);
  expect(keyOf(res)).toBe(demoKey);
  expect(attempts()).toBe(1);
}

/** The first `n` release requests get `fault`, the rest reach the KMS. */
function firstRequests(n: number, fault: Fault): void {
  let seen = 0;
  proxy.fault((path) => (path === RELEASE && seen++ < n ? fault : { kind: 'forward' }));
}

/** Every release request gets `fault`; anything else (none is expected) reaches the KMS. */
function everyRequest(fault: Fault): void {
  proxy.fault((path) => (path === RELEASE ? fault : { kind: 'forward' }));
}

const kvError = (code: string, message: string) => JSON.stringify({ error: { code, message } });
const throttled: Fault = { kind: 'answer', status: 429, headers: { 'retry-after': '1' }, body: kvError('Throttled', 'slow down') };
const unavailable: Fault = { kind: 'answer', status: 503, body: kvError('ServiceUnavailable', 'try later') };
const dropped: Fault = { kind: 'drop' };

test.each<[string, Fault]>([
  ['429 with Retry-After: 1', throttled],
  ['503', unavailable],
  ['a dropped connection', dropped],
])('%s once: retried, and the caller sees only the 200 with the right key', async (_name, fault) => {
  firstRequests(1, fault);
  const res = await release();
  expect(res.status).toBe(200);
  expect(keyOf(res)).toBe(demoKey);
  expect(attempts()).toBe(2);
});

test.each<[string, number, string, Fault, RegExp]>([
  // Throttled is not broken: 503 (try later), with its own code.
  ['429 with Retry-After: 1', 503, 'upstream_throttled', throttled, /^kms: throttled \(HTTP 429\)/],
  ['503', 502, 'upstream_failed', unavailable, /^kms: HTTP 503 ServiceUnavailable: try later$/],
  ['a dropped connection', 502, 'upstream_failed', dropped, /^kms: the key service cannot be reached$/],
])('%s on every attempt: 1 + 3 attempts, then %i %s; then it recovers', async (_name, status, code, fault, message) => {
  everyRequest(fault);
  const res = await release();
  expect(res.status).toBe(status);
  expect(errorCode(res, 'sidecar')).toBe(code);
  // The message names the service and what it answered; of the upstream's body only its error
  // code and message travel, in `upstream`.
  expect(messageOf(res)).toMatch(message);
  if (fault.kind === 'answer') expect(JSON.parse(res.text).upstream).toMatchObject({ service: 'kms', status: fault.status, code: JSON.parse(fault.body!).error.code });
  expect(attempts()).toBe(4);
  await expectRecovered();
});

test('429 without Retry-After: the SDK does not guess a delay, so it is sent once; 503 upstream_throttled; then it recovers', async () => {
  everyRequest({ kind: 'answer', status: 429, body: kvError('Throttled', 'slow down') });
  const res = await release();
  expect(res.status).toBe(503);
  expect(errorCode(res, 'sidecar')).toBe('upstream_throttled');
  expect(attempts()).toBe(1);
  await expectRecovered();
});

test('a 400 from the key service is not transient: sent once, passed on as 400 upstream_rejected; then it recovers', async () => {
  everyRequest({ kind: 'answer', status: 400, body: kvError('BadParameter', 'no') });
  const res = await release();
  expect(res.status).toBe(400);
  expect(errorCode(res, 'sidecar')).toBe('upstream_rejected');
  expect(messageOf(res)).toMatch(/^kms refused the request/);
  expect(attempts()).toBe(1);
  await expectRecovered();
});

describe('a sidecar with a 3 s timeout', () => {
  const TIMEOUT_MS = 3_000;
  let impatient: RunningSidecar;

  beforeAll(async () => {
    impatient = await sidecarBehindProxy({ 'timeout-ms': String(TIMEOUT_MS) });
    // Learns the challenge, as above.
    expect((await releaseFrom(impatient)).status).toBe(200);
  });
  afterAll(async () => {
    await impatient?.close();
  });

  test('a key service slower than the timeout: 504 upstream_timeout, the call abandoned (not retried); fast again: the same key', async () => {
    everyRequest({ kind: 'forward', delayMs: TIMEOUT_MS * 2 });
    const res = await releaseFrom(impatient);
    expect(res.status).toBe(504);
    expect(errorCode(res, 'sidecar')).toBe('upstream_timeout');
    expect(attempts()).toBe(1);
    await expectRecovered(impatient);
  });

  test('Retry-After is honoured: told to wait 60 s, the SDK sends nothing more until the timeout ends the release (504)', async () => {
    // Were Retry-After ignored, the SDK would either give up at once (503 upstream_throttled
    // after 1 attempt) or back off exponentially (a second attempt within about 1 s, well
    // inside the 3 s timeout). Only waiting as told gives one attempt and a timeout.
    everyRequest({ ...throttled, headers: { 'retry-after': '60' } });
    const res = await releaseFrom(impatient);
    expect(res.status).toBe(504);
    expect(errorCode(res, 'sidecar')).toBe('upstream_timeout');
    expect(attempts()).toBe(1);
    await expectRecovered(impatient);
  });
});
