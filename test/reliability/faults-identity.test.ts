import type { ChildProcess } from 'node:child_process';
import type { RunningStack } from '../../src/dev/stack';
import { exited } from '../kms/child';
import { startTestStack } from '../e2e/stack';
import { spawnSidecarProcess } from '../sidecar/sidecar-process';
import { errorCode, postToSidecar, startFaultProxy, type Fault, type FaultProxy, type RawResponse } from './harness';

/**
 * The managed-identity endpoint failing under the sidecar, and coming back.
 *
 * Why a child process per test: @azure/identity 4.13.1 hands ManagedIdentityCredential to
 * MSAL's ManagedIdentityApplication, whose token cache and chosen identity source are static —
 * one per process. The source, and with it the endpoint from AZURE_POD_IDENTITY_AUTHORITY_HOST,
 * is fixed at the first token request and kept; startDevStack has already made that request in
 * this process, for the identity endpoint itself. So each test starts `skr sidecar` (the
 * container's entrypoint, credential and all) in a process of its own, with no token, pointed at
 * a fault proxy in front of the stack's identity endpoint.
 *
 * What the credential does (read from its sources, asserted below): MSAL's own retries are off;
 * the credential's pipeline retries 5xx, 408 and dropped connections 3 times with exponential
 * backoff (404/410 have a policy of their own), and a 400 not at all. A failure is not cached:
 * the next getToken asks again. The Key Vault SDK does not retry a credential failure (it is not
 * an HTTP error), so one release makes 1 + 3 token requests at most. MSAL gets no abort signal,
 * so the sidecar bounds the token by the release's deadline itself (src/sidecar/key-clients.ts).
 */
const TOKEN = '/metadata/identity/oauth2/token';
/** MSAL asks for the path with a trailing slash (it normalises the pod-identity URL); IMDS answers either. */
const isToken = (path: string) => path.replace(/\/$/, '') === TOKEN;

let stack: RunningStack;
let proxy: FaultProxy;
let child: ChildProcess | undefined;
let sidecarUrl: string;
/** The demo key's material as the stack's own sidecar releases it. */
let demoKey: string;

const releaseFrom = (url: string) => postToSidecar(url, '/key/release?format=object', { kid: 'demo' });
const release = () => releaseFrom(sidecarUrl);
const keyOf = (res: RawResponse) => (JSON.parse(res.text) as { key: { k: string } }).key.k;
/** Token requests that reached the proxy since the last call; the counter restarts. */
function tokenRequests(): number {
  const n = [...proxy.counts].reduce((sum, [path, count]) => sum + (isToken(path) ? count : 0), 0);
  proxy.counts.clear();
  return n;
}

/** `skr sidecar` in its own process, its identity endpoint the proxy; resolves to its URL. */
async function startSidecarProcess(): Promise<string> {
  const args = [
    '--port',
    '0',
    '--device',
    'virtual',
    '--state-dir',
    stack.stateDir,
    '--user',
    '',
    '--ca-file',
    stack.endpoints.caCertFile,
    '--maa-endpoint',
    stack.endpoints.verifier,
    '--akv-endpoint',
    stack.endpoints.kms,
  ];
  const started = spawnSidecarProcess(args, { AZURE_POD_IDENTITY_AUTHORITY_HOST: proxy.url });
  child = started.child;
  return started.url;
}

beforeAll(async () => {
  ({ stack } = await startTestStack());
  proxy = await startFaultProxy();
  proxy.target = stack.identity.url;
  const direct = await releaseFrom(stack.endpoints.sidecar);
  expect(direct.status).toBe(200);
  demoKey = keyOf(direct);
}, 120_000);
afterAll(async () => {
  await proxy?.close();
  await stack?.close();
});
beforeEach(async () => {
  proxy.fault(() => ({ kind: 'forward' }));
  sidecarUrl = await startSidecarProcess();
  // A production sidecar asks for no token until a release needs one.
  expect(tokenRequests()).toBe(0);
}, 60_000);
afterEach(async () => {
  if (!child) return;
  child.kill('SIGTERM');
  await exited(child);
  child = undefined;
});

/** The first `n` token requests get `fault`; later ones reach the identity endpoint. */
function firstTokenRequests(n: number, fault: Fault): void {
  let seen = 0;
  proxy.fault((path) => (isToken(path) && seen++ < n ? fault : { kind: 'forward' }));
}

/** The documented answer to a release that could not get a token: the identity's failure, not the key service's. */
function expectIdentityFailure(res: RawResponse): void {
  expect(res.status).toBe(502);
  expect(errorCode(res, 'sidecar')).toBe('upstream_failed');
  expect((JSON.parse(res.text) as { error: string }).error).toBe('identity: no access token for the key service could be obtained');
}

async function expectReleased(): Promise<void> {
  const res = await release();
  expect(res.status).toBe(200);
  expect(keyOf(res)).toBe(demoKey);
}

test('500 for the first 8 token requests: two releases fail (1 + 3 token requests each), the third succeeds in the same process, the fourth reuses its token', async () => {
  firstTokenRequests(8, { kind: 'answer', status: 500, body: '{"error":"unknown_error","error_description":"injected"}' });
  expectIdentityFailure(await release());
  expect(tokenRequests()).toBe(4);
  // A failure is not remembered: the next release asks again, and fails the same way.
  expectIdentityFailure(await release());
  expect(tokenRequests()).toBe(4);
  await expectReleased();
  expect(tokenRequests()).toBe(1);
  await expectReleased();
  expect(tokenRequests()).toBe(0);
}, 90_000);

test('connections dropped for the first 2 token requests: retried by the credential, the caller sees only the 200', async () => {
  firstTokenRequests(2, { kind: 'drop' });
  await expectReleased();
  expect(tokenRequests()).toBe(3);
}, 60_000);

test('the identity endpoint refusing (400): not retried, 502 naming the identity; once it answers, the next release succeeds', async () => {
  firstTokenRequests(1, { kind: 'answer', status: 400, body: '{"error":"invalid_request","error_description":"injected"}' });
  expectIdentityFailure(await release());
  expect(tokenRequests()).toBe(1);
  await expectReleased();
  expect(tokenRequests()).toBe(1);
}, 60_000);

test('an identity endpoint that does not answer: the release ends at the sidecar timeout, 504 naming the identity; then it recovers', async () => {
  // Far beyond the 10 s default timeout: without a bound the release would wait for it.
  firstTokenRequests(1, { kind: 'forward', delayMs: 60_000 });
  const res = await release();
  expect(res.status).toBe(504);
  expect(errorCode(res, 'sidecar')).toBe('upstream_timeout');
  expect((JSON.parse(res.text) as { error: string }).error).toBe('identity: the identity endpoint did not answer in time');
  expect(tokenRequests()).toBe(1);
  // The held request is still unanswered: the next release asks again and gets a token.
  await expectReleased();
  expect(tokenRequests()).toBe(1);
}, 60_000);
