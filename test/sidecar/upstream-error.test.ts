import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { RunningVerifier } from '../../src/maa/service/server';
import type { RunningSidecar } from '../../src/sidecar/server';
import { SIDECAR_OPENAPI as OPENAPI } from '../../src/sidecar/openapi';
import { startTestVerifier } from '../maa/verifier-harness';
import { startTestSidecar, virtualState } from './harness';

/**
 * A key service's own refusal reaches the caller: a local stand-in for a KMS that does not
 * implement release answers 501 in Key Vault's envelope, and the sidecar's error carries its
 * status, code and message (never a token), with an honest 502.
 */
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzaWRlY2FyIn0.c2lnbmF0dXJl';

let verifier: RunningVerifier;
let sidecar: RunningSidecar;
let kms: Server;
let kmsUrl: string;
let answer: { status: number; body: string };

beforeAll(async () => {
  const state = await virtualState();
  verifier = await startTestVerifier({ trustedRoots: [state.root] });
  kms = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (!req.headers.authorization) {
        res.writeHead(401, { 'www-authenticate': 'Bearer authorization="https://login.microsoftonline.com/t", resource="https://vault.azure.net"' }).end();
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => kms.listen(0, '127.0.0.1', resolve));
  kmsUrl = `http://127.0.0.1:${(kms.address() as AddressInfo).port}`;
  sidecar = await startTestSidecar(
    { 'state-dir': state.stateDir, 'maa-endpoint': verifier.url, 'akv-endpoint': kmsUrl },
    { credential: { getToken: async () => ({ token: TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 }) } },
  );
});
afterAll(async () => {
  await sidecar?.close();
  kms?.closeAllConnections();
  await new Promise((resolve) => kms?.close(resolve));
  await verifier?.close();
});

const release = () => request(sidecar.url).post('/key/release?format=object').send({ kid: 'demo' });
const kvError = (code: string, message: string) => JSON.stringify({ error: { code, message } });

test("a KMS's 501 NotImplemented is a 502 whose code, message and `upstream` carry the KMS's own code and message", async () => {
  answer = { status: 501, body: kvError('NotImplemented', 'this KMS was started without a release function') };
  const res = await release();
  expect(res.status).toBe(502);
  expect(res.body).toEqual({
    error: 'kms: HTTP 501 NotImplemented: this KMS was started without a release function',
    code: 'upstream_failed',
    upstream: { service: 'kms', status: 501, code: 'NotImplemented', message: 'this KMS was started without a release function' },
  });
});

test('a 400 stays the caller’s 400 and carries the KMS’s reason', async () => {
  answer = { status: 400, body: kvError('BadParameter', 'the key is not exportable') };
  const res = await release();
  expect(res.status).toBe(400);
  expect(res.body).toMatchObject({ code: 'upstream_rejected', upstream: { status: 400, code: 'BadParameter', message: 'the key is not exportable' } });
  expect(res.body.error).toContain('the key is not exportable');
});

test('a message that echoes the bearer token, or any JWT, has it removed; control characters and length are cut', async () => {
  answer = { status: 501, body: kvError('Boom', `rejected Bearer ${TOKEN} and ${TOKEN}\n\u0007${'x'.repeat(2000)}`) };
  const res = await release();
  expect(res.status).toBe(502);
  expect(res.text).not.toContain(TOKEN);
  expect(res.text).not.toContain('eyJzdWIi');
  expect(res.body.upstream.message).toMatch(/^rejected Bearer \[redacted\] and \[redacted\] x+…$/);
  expect(res.body.upstream.message.length).toBeLessThanOrEqual(501);
});

test('a body that is not an error envelope gives the status alone', async () => {
  answer = { status: 501, body: '<html>maintenance</html>' };
  const res = await release();
  expect(res.status).toBe(502);
  expect(res.body).toEqual({ error: 'kms: HTTP 501', code: 'upstream_failed', upstream: { service: 'kms', status: 501 } });
  expect(res.text).not.toContain('maintenance');
});

test('the OpenAPI error schema documents `upstream`', () => {
  expect(OPENAPI.paths['/key/release']!.post!.responses['502']).toEqual({ description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  const schema = OPENAPI.components.schemas.Error as { properties: Record<string, unknown> };
  expect(schema.properties.upstream).toMatchObject({ required: ['service', 'status'] });
});
