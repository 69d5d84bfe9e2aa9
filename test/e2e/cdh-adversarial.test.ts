import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKbs, type RunningKbs } from '../../src/kbs';
import type { RunningSidecar } from '../../src/sidecar/server';
import { parseAppraisalPolicy } from '../../src/maa/service';
import { admin, virtualTeePolicy } from '../kbs/harness';
import { startTestSidecar, virtualState } from '../sidecar/harness';

/**
 * A sibling container that can reach the sidecar's port and uses /cdh/resource to make the
 * sidecar (the attested deputy) fetch or spend what the sibling chose.
 */
const LONG = 'L'.repeat(40);

interface AuditLine {
  action: string;
  outcome: string;
  resource?: string;
  code?: string;
}

let kbs: RunningKbs;
let sidecar: RunningSidecar;

const resourceGets = (): AuditLine[] =>
  readFileSync(kbs.auditFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditLine)
    .filter((entry) => entry.action === 'resource.get');

/** A request with the path sent exactly as written. */
function raw(method: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(sidecar.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  const state = await virtualState();
  kbs = await startKbs({ stateDir: mkdtempSync(join(tmpdir(), 'skr-cdh-adv-')), verifier: { policy: parseAppraisalPolicy('{}'), trustedRoots: [state.root] } });
  sidecar = await startTestSidecar({ 'state-dir': state.stateDir, 'kbs-url': kbs.url });
  expect((await admin(kbs, 'POST', '/kbs/v0/resource/default/demo/secret', Buffer.from('s3cret'))).status).toBe(200);
  expect((await admin(kbs, 'PUT', '/kbs/v0/resource-policy/default', virtualTeePolicy(kbs))).status).toBe(200);
  expect((await admin(kbs, 'PUT', `/kbs/v0/resource-policy/${LONG}`, virtualTeePolicy(kbs))).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await sidecar?.close();
  await kbs?.close();
});

test('HEAD on /cdh/resource makes the sidecar release nothing at the KBS', async () => {
  const before = resourceGets().length;
  const head = await raw('HEAD', '/cdh/resource/default/demo/secret');
  expect(head.status).toBe(404);
  expect(resourceGets().length).toBe(before);
  // The same path by GET does release (the HEAD was not refused for its path).
  expect((await raw('GET', '/cdh/resource/default/demo/secret')).status).toBe(200);
  expect(resourceGets().length).toBe(before + 1);
});

test('a path the policy allows but no secret name can hold is 400 to the sibling (its input), audited by the KBS', async () => {
  const response = await raw('GET', `/cdh/resource/${LONG}/${LONG}/${LONG}`);
  expect(response.status).toBe(400);
  expect(JSON.parse(response.body)).toMatchObject({ code: 'kbs_resource_name_unmappable' });
  expect(resourceGets().at(-1)).toMatchObject({ resource: `${LONG}/${LONG}/${LONG}`, outcome: 'failed', code: 'kbs_resource_name_unmappable' });
});

test('a segment at the KBS limit (127 characters) passes the sidecar: the KBS judges it', async () => {
  const before = resourceGets().length;
  const response = await raw('GET', `/cdh/resource/default/demo/${'a'.repeat(127)}`);
  expect(JSON.parse(response.body)).not.toMatchObject({ code: 'invalid_request' });
  expect(resourceGets().length).toBe(before + 1);
});

test.each([
  ['encoded dot-dot', '/cdh/resource/default/demo/%2e%2e'],
  ['encoded slash into another repository', '/cdh/resource/default%2fdemo/secret/x'],
  ['an encoded backslash', '/cdh/resource/default/demo/..%5csecret'],
  ['a malformed escape', '/cdh/resource/default/demo/%zz'],
  ['a NUL byte', '/cdh/resource/default/demo/secret%00'],
  ['a non-ASCII lookalike', '/cdh/resource/d%D0%B5fault/demo/secret'],
  ['a segment longer than trustee allows', `/cdh/resource/default/demo/${'a'.repeat(200)}`],
  ['a segment one character past the KBS limit (128)', `/cdh/resource/default/demo/${'a'.repeat(128)}`],
])('%s is 400 at the sidecar and never reaches the KBS', async (_name, path) => {
  const before = resourceGets().length;
  const response = await raw('GET', path);
  expect(response.status).toBe(400);
  expect(JSON.parse(response.body)).toMatchObject({ code: expect.stringMatching(/^(invalid_request|kbs_resource_path_invalid)$/) });
  expect(resourceGets().length).toBe(before);
});
