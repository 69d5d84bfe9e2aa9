import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import type { RunningVerifier } from '../../src/maa/service/server';
import type { RunningSidecar } from '../../src/sidecar/server';
import { startTestVerifier } from '../maa/verifier-harness';
import { startTestSidecar, virtualState } from '../sidecar/harness';
import { closedPort, errorCode, postToSidecar, startFaultProxy } from './harness';

/**
 * The verifier side of the sidecar failing: down, slow past the timeout, failing then
 * recovering, answering garbage or a forged token. Each gives its documented status and code,
 * only transient failures are retried, and the sidecar recovers without a restart.
 */
const TIMEOUT_MS = 500;
const runtime = { runtime_data: Buffer.from(JSON.stringify({ app: 'reliability' })).toString('base64') };

let state: Awaited<ReturnType<typeof virtualState>>;
let verifier: RunningVerifier;
let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
let sidecar: RunningSidecar;

/** Each test starts with a sidecar that has never talked to the verifier: no cached discovery, keys or token. */
async function freshSidecar(maa: string): Promise<RunningSidecar> {
  return startTestSidecar({ 'state-dir': state.stateDir, 'maa-endpoint': maa, 'timeout-ms': String(TIMEOUT_MS), kds: 'false' });
}

beforeAll(async () => {
  state = await virtualState();
  // The verifier is known by the proxy's URL, so its tokens name the issuer the sidecar was given.
  proxy = await startFaultProxy();
  verifier = await startTestVerifier({ trustedRoots: [state.root], issuer: proxy.url });
  proxy.target = verifier.url;
});
afterAll(async () => {
  await proxy.close();
  await verifier.close();
});
beforeEach(() => {
  proxy.counts.clear();
  proxy.fault(() => ({ kind: 'forward' }));
});
afterEach(async () => {
  await sidecar?.close();
});

const attest = (s: RunningSidecar) => postToSidecar(s.url, '/attest/maa', runtime);
const attempts = (path: string) => proxy.counts.get(path) ?? 0;

test('verifier down: 502 upstream_failed after the retries; it comes up and the same sidecar gets a token', async () => {
  const port = await closedPort();
  sidecar = await freshSidecar(`http://127.0.0.1:${port}`);
  const down = await attest(sidecar);
  expect(down.status).toBe(502);
  expect(errorCode(down, 'sidecar')).toBe('upstream_failed');
  const late = await startTestVerifier({ trustedRoots: [state.root], port });
  try {
    const up = await attest(sidecar);
    expect(up.status).toBe(200);
    expect(JSON.parse(up.text).token).toMatch(/^ey/);
  } finally {
    await late.close();
  }
});

test('verifier slower than the timeout: 504 upstream_timeout; fast again: 200 without a restart', async () => {
  sidecar = await freshSidecar(proxy.url);
  proxy.fault(() => ({ kind: 'forward', delayMs: TIMEOUT_MS * 3 }));
  const slow = await attest(sidecar);
  expect(slow.status).toBe(504);
  expect(errorCode(slow, 'sidecar')).toBe('upstream_timeout');
  // A timeout is transient: the first call (discovery) was tried 1 + 3 times.
  expect(attempts('/.well-known/openid-configuration')).toBe(4);
  proxy.fault(() => ({ kind: 'forward' }));
  expect((await attest(sidecar)).status).toBe(200);
});

test('500 twice, then healthy: retried, and the caller sees only the 200', async () => {
  sidecar = await freshSidecar(proxy.url);
  let failures = 2;
  proxy.fault((path) => (path.startsWith('/attest') && failures-- > 0 ? { kind: 'answer', status: 500 } : { kind: 'forward' }));
  const res = await attest(sidecar);
  expect(res.status).toBe(200);
  expect(attempts('/attest/SevSnpVm')).toBe(3);
});

test('500 on every attempt: 502 upstream_failed after 1 + 3 attempts; then it recovers', async () => {
  sidecar = await freshSidecar(proxy.url);
  proxy.fault((path) => (path.startsWith('/attest') ? { kind: 'answer', status: 500 } : { kind: 'forward' }));
  const res = await attest(sidecar);
  expect(res.status).toBe(502);
  expect(errorCode(res, 'sidecar')).toBe('upstream_failed');
  expect(attempts('/attest/SevSnpVm')).toBe(4);
  proxy.fault(() => ({ kind: 'forward' }));
  expect((await attest(sidecar)).status).toBe(200);
});

test('429 with Retry-After is transient: honoured and retried', async () => {
  sidecar = await freshSidecar(proxy.url);
  let throttled = 1;
  proxy.fault((path) => (path.startsWith('/attest') && throttled-- > 0 ? { kind: 'answer', status: 429, headers: { 'retry-after': '1' } } : { kind: 'forward' }));
  const started = Date.now();
  expect((await attest(sidecar)).status).toBe(200);
  expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  expect(attempts('/attest/SevSnpVm')).toBe(2);
});

test('a 400 from the verifier is not transient: sent once, and passed on as upstream_rejected', async () => {
  sidecar = await freshSidecar(proxy.url);
  proxy.fault((path) => (path.startsWith('/attest') ? { kind: 'answer', status: 400, body: JSON.stringify({ error: { code: 'report_signature_invalid', message: 'no' } }) } : { kind: 'forward' }));
  const res = await attest(sidecar);
  expect(attempts('/attest/SevSnpVm')).toBe(1);
  expect(res.status).toBeLessThan(500);
  expect(errorCode(res, 'sidecar')).toBe('upstream_rejected');
});

test('connections dropped: retried as transport failures, then 502 upstream_failed', async () => {
  sidecar = await freshSidecar(proxy.url);
  proxy.fault((path) => (path.startsWith('/attest') ? { kind: 'drop' } : { kind: 'forward' }));
  const res = await attest(sidecar);
  expect(res.status).toBe(502);
  expect(errorCode(res, 'sidecar')).toBe('upstream_failed');
  expect(attempts('/attest/SevSnpVm')).toBe(4);
});

describe('a verifier answering with something that is not its token: 502, and the token is never passed on', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const forge = async (issuer: string) =>
    new SignJWT({ 'x-ms-attestation-type': 'sevsnpvm' }).setProtectedHeader({ alg: 'RS256', kid: 'forged' }).setIssuer(issuer).setExpirationTime('1h').sign(privateKey);
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

  test.each<[string, (real: string, issuer: string) => Promise<string>]>([
    ['signed by another key', async (_real, issuer) => forge(issuer)],
    ['alg none', async (_real, issuer) => `${b64({ alg: 'none' })}.${b64({ iss: issuer, exp: 9e9 })}.`],
    ['HS256 keyed with nothing', async (real) => `${b64({ alg: 'HS256', kid: JSON.parse(Buffer.from(real.split('.')[0]!, 'base64url').toString()).kid })}.${real.split('.')[1]}.AAAA`],
    ['payload swapped under the real signature', async (real) => `${real.split('.')[0]}.${b64({ iss: 'x', exp: 9e9 })}.${real.split('.')[2]}`],
    ['not a JWT', async () => 'not-a-token'],
  ])('%s', async (_name, tamper) => {
    const forged = await tamper(await realToken(), verifier.issuer);
    sidecar = await freshSidecar(proxy.url);
    proxy.fault((path) => (path.startsWith('/attest') ? { kind: 'forward', rewrite: () => JSON.stringify({ token: forged }) } : { kind: 'forward' }));
    const res = await attest(sidecar);
    expect(res.text).not.toContain(forged);
    // The caller did nothing wrong: the upstream answered badly, which is a 502.
    expect(res.status).toBe(502);
    expect(errorCode(res, 'sidecar')).toMatch(/^(upstream_failed|token_invalid)$/);
  });
});

/** A genuine token of this verifier, for tampering: attested through a throwaway sidecar. */
async function realToken(): Promise<string> {
  const s = await freshSidecar(proxy.url);
  try {
    return (JSON.parse((await attest(s)).text) as { token: string }).token;
  } finally {
    await s.close();
  }
}
