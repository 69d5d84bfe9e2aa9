import type { ChildProcess } from 'node:child_process';
import type { RunningStack } from '../../src/dev/stack';
import { exited } from '../kms/child';
import { postJson, type RawResponse } from '../reliability/harness';
import { spawnSidecarProcess } from '../sidecar/sidecar-process';
import { startTestStack } from './stack';

/**
 * `skr sidecar` as its own process trusting the stack's CA through NODE_EXTRA_CA_CERTS alone
 * (no --ca-file): the verifier's HTTPS and token keys, the KMS's HTTPS and the release JWS all
 * chain to that CA, so the release succeeds only if every outbound client honours it.
 */

let stack: RunningStack;
let child: ChildProcess | undefined;

const keyOf = (res: RawResponse) => (JSON.parse(res.text) as { key: { k: string } }).key.k;

function startSidecarProcess(env: NodeJS.ProcessEnv): Promise<string> {
  const args = ['--port', '0', '--device', 'virtual', '--state-dir', stack.stateDir, '--user', '', '--maa-endpoint', stack.endpoints.verifier, '--akv-endpoint', stack.endpoints.kms];
  const started = spawnSidecarProcess(args, { SKR_CA_FILE: '', AZURE_POD_IDENTITY_AUTHORITY_HOST: stack.endpoints.identity, ...env });
  child = started.child;
  return started.url;
}

beforeAll(async () => {
  ({ stack } = await startTestStack());
}, 120_000);
afterAll(async () => {
  await stack?.close();
});
afterEach(async () => {
  if (!child) return;
  child.kill('SIGTERM');
  await exited(child);
  child = undefined;
});

test('a sidecar trusting the stack CA only through NODE_EXTRA_CA_CERTS releases the key the stack’s own sidecar releases', async () => {
  const direct = await postJson(stack.endpoints.sidecar, '/key/release?format=object', { kid: 'demo' });
  expect(direct.status).toBe(200);
  const url = await startSidecarProcess({ NODE_EXTRA_CA_CERTS: stack.endpoints.caCertFile });
  const res = await postJson(url, '/key/release?format=object', { kid: 'demo' });
  expect(res.status).toBe(200);
  expect(keyOf(res)).toBe(keyOf(direct));
}, 60_000);

test('without that CA the same sidecar refuses the stack’s certificates', async () => {
  const url = await startSidecarProcess({ NODE_EXTRA_CA_CERTS: '' });
  const res = await postJson(url, '/key/release?format=object', { kid: 'demo' });
  expect(res.status).toBe(502);
}, 60_000);
