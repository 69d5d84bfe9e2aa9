import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { RunningStack } from '../../src/dev/stack';
import { exited } from '../kms/child';
import { startTestStack } from '../e2e/stack';
import { errorCode, postJson, startFaultProxy, type FaultProxy } from './harness';

/**
 * The managed-identity endpoint failing under the sidecar. The sidecar runs as `skr sidecar` in
 * a child process — a token cache of its own, and @azure/identity's ManagedIdentityCredential
 * exactly as in a container — and reaches the stack's identity endpoint through a fault proxy.
 * While no token can be had, a release fails with the documented status and code; once the
 * endpoint answers again, the same sidecar releases without a restart.
 */
const REGISTER = join(__dirname, '..', 'kms', 'fixtures', 'ts-register.js');
const SERVE = join(__dirname, 'fixtures', 'sidecar-serve.ts');

let stack: RunningStack;
let proxy: FaultProxy;
let child: ChildProcess;
let sidecarUrl: string;
let stderr = '';

const release = () => postJson(sidecarUrl, '/key/release', { kid: 'demo' });
const tokenRequests = () => [...proxy.counts.entries()].filter(([path]) => path.includes('/oauth2/token')).reduce((n, [, c]) => n + c, 0);

async function startSidecarProcess(): Promise<string> {
  const args = ['--port', '0', '--device', 'virtual', '--state-dir', stack.stateDir, '--user', '', '--ca-file', stack.endpoints.caCertFile,
    '--maa-endpoint', stack.endpoints.verifier, '--akv-endpoint', stack.endpoints.kms];
  child = spawn(process.execPath, ['-r', REGISTER, '-e', `require(${JSON.stringify(SERVE)})`, '--', ...args], {
    env: { ...process.env, AZURE_POD_IDENTITY_AUTHORITY_HOST: proxy.url, SKR_LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  let stdout = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (stdout.includes('\n')) resolve((JSON.parse(stdout) as { sidecar: { url: string } }).sidecar.url);
    });
    child.once('exit', (code) => reject(new Error(`skr sidecar exited ${code}: ${stderr}`)));
  });
}

beforeAll(async () => {
  ({ stack } = await startTestStack());
  proxy = await startFaultProxy();
  proxy.target = stack.identity.url;
  sidecarUrl = await startSidecarProcess();
}, 120_000);
afterAll(async () => {
  if (child) {
    child.kill('SIGTERM');
    await exited(child);
  }
  await proxy?.close();
  await stack?.close();
});

beforeEach(() => proxy.counts.clear());

const TOKEN = '/oauth2/token';
const identityFailure = (res: Awaited<ReturnType<typeof release>>) => {
  expect(res.status).toBe(502);
  expect(errorCode(res, 'sidecar')).toBe('upstream_failed');
  expect((JSON.parse(res.text) as { error: string }).error).toMatch(/^identity: /);
};

// In order: the sidecar holds no token until the third test gets one.
test('identity endpoint answering 500 every time: retried, then 502 upstream_failed naming the identity', async () => {
  proxy.fault((path) => (path.includes(TOKEN) ? { kind: 'answer', status: 500 } : { kind: 'forward' }));
  identityFailure(await release());
  expect(tokenRequests()).toBe(4);
}, 60_000);

test('identity endpoint refusing (400): not retried, 502 upstream_failed naming the identity', async () => {
  proxy.fault((path) => (path.includes(TOKEN) ? { kind: 'answer', status: 400, body: '{"error":"invalid_request","error_description":"no"}' } : { kind: 'forward' }));
  identityFailure(await release());
  expect(tokenRequests()).toBe(1);
}, 60_000);

test('identity endpoint failing twice, then answering: the same release succeeds; later ones reuse the token', async () => {
  let failures = 0;
  proxy.fault((path) => (path.includes(TOKEN) && failures++ < 2 ? { kind: 'drop' } : { kind: 'forward' }));
  expect((await release()).status).toBe(200);
  expect(tokenRequests()).toBe(3);
  proxy.counts.clear();
  expect((await release()).status).toBe(200);
  expect(tokenRequests()).toBe(0);
}, 60_000);
