import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { RunningStack } from '../../src/dev/stack';
import { exited } from '../kms/child';
import { postJson, type RawResponse } from '../reliability/harness';
import { startTestStack } from './stack';

/**
 * `skr sidecar` as its own process trusting the stack's CA through NODE_EXTRA_CA_CERTS alone
 * (no --ca-file): the verifier's HTTPS and token keys, the KMS's HTTPS and the release JWS all
 * chain to that CA, so the release succeeds only if every outbound client honours it.
 */
const REGISTER = join(__dirname, '..', 'kms', 'fixtures', 'ts-register.js');
const SERVE = join(__dirname, '..', 'reliability', 'fixtures', 'sidecar-serve.ts');

let stack: RunningStack;
let child: ChildProcess | undefined;

const keyOf = (res: RawResponse) => (JSON.parse(res.text) as { key: { k: string } }).key.k;

function startSidecarProcess(env: NodeJS.ProcessEnv): Promise<string> {
  const args = ['--port', '0', '--device', 'virtual', '--state-dir', stack.stateDir, '--user', '',
    '--maa-endpoint', stack.endpoints.verifier, '--akv-endpoint', stack.endpoints.kms];
  const started = spawn(process.execPath, ['-r', REGISTER, '-e', `require(${JSON.stringify(SERVE)})`, '--', ...args], {
    env: { ...process.env, SKR_CA_FILE: '', AZURE_POD_IDENTITY_AUTHORITY_HOST: stack.endpoints.identity, SKR_LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = started;
  let stdout = '';
  let stderr = '';
  started.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    started.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (stdout.includes('\n')) resolve((JSON.parse(stdout) as { sidecar: { url: string } }).sidecar.url);
    });
    started.once('exit', (code) => reject(new Error(`skr sidecar exited ${code}: ${stderr}`)));
  });
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
