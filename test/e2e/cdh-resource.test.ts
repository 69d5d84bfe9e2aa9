import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKbs, type RunningKbs } from '../../src/kbs';
import { loadSidecarConfig } from '../../src/sidecar';
import type { RunningSidecar } from '../../src/sidecar/server';
import { parseAppraisalPolicy } from '../../src/maa/service';
import { admin, virtualTeePolicy } from '../kbs/harness';
import { startTestSidecar, virtualState } from '../sidecar/harness';

const SECRET = Buffer.from([0x00, 0xff, 0x10, 0x0a, 0x7b, 0x22]);
const HOSTDATA = 'submods.cpu0.ear.veraison.annotated-evidence.snp.x-ms-sevsnpvm-hostdata';

interface AuditLine {
  action: string;
  outcome: string;
  principal?: string;
  resource?: string;
}

const resourceGets = (kbs: RunningKbs): AuditLine[] =>
  readFileSync(kbs.auditFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditLine)
    .filter((entry) => entry.action === 'resource.get');

describe("the sidecar as the KBS's attester: /cdh/resource over real sockets with the virtual device", () => {
  let kbs: RunningKbs;
  let sidecar: RunningSidecar;
  let bare: RunningSidecar;
  let stranger: RunningKbs;
  let refused: RunningSidecar;

  beforeAll(async () => {
    const state = await virtualState();
    kbs = await startKbs({ stateDir: mkdtempSync(join(tmpdir(), 'skr-cdh-kbs-')), verifier: { policy: parseAppraisalPolicy('{}'), trustedRoots: [state.root] } });
    sidecar = await startTestSidecar({ 'state-dir': state.stateDir, 'kbs-url': kbs.url });
    bare = await startTestSidecar({ 'state-dir': (await virtualState()).stateDir });
    // A KBS that trusts another virtual device's ARK, not this sidecar's.
    const other = await virtualState();
    stranger = await startKbs({ stateDir: mkdtempSync(join(tmpdir(), 'skr-cdh-kbs-')), verifier: { policy: parseAppraisalPolicy('{}'), trustedRoots: [other.root] } });
    refused = await startTestSidecar({ 'state-dir': state.stateDir, 'kbs-url': stranger.url });
    const hostData = (await sidecar.context.evidence.device.getReport({ reportData: Buffer.alloc(64) })).report.subarray(0xc0, 0xe0).toString('hex');
    expect((await admin(kbs, 'POST', '/kbs/v0/resource/default/demo/secret', SECRET)).status).toBe(200);
    expect((await admin(kbs, 'POST', '/kbs/v0/resource/default/demo/denied', Buffer.from('never'))).status).toBe(200);
    expect((await admin(kbs, 'POST', '/kbs/v0/resource/default/demo-x/secret', Buffer.from('outside'))).status).toBe(200);
    // The sidecar's own host_data is allowed; the denied one asks for one it never has.
    expect((await admin(kbs, 'PUT', '/kbs/v0/resource-policy/default/demo/secret', virtualTeePolicy(kbs, HOSTDATA, hostData))).status).toBe(200);
    expect((await admin(kbs, 'PUT', '/kbs/v0/resource-policy/default/demo/denied', virtualTeePolicy(kbs, HOSTDATA, 'ff'.repeat(32)))).status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await sidecar?.close();
    await bare?.close();
    await refused?.close();
    await stranger?.close();
    await kbs?.close();
  });

  const get = (base: RunningSidecar, path: string) => fetch(`${base.url}/cdh/resource/${path}`);

  test("the resource's raw bytes as application/octet-stream, cold and then on the reused token", async () => {
    const before = resourceGets(kbs).length;
    const cold = await get(sidecar, 'default/demo/secret');
    expect(cold.status).toBe(200);
    expect(cold.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await cold.arrayBuffer())).toEqual(SECRET);
    const warm = await get(sidecar, 'default/demo/secret');
    expect(warm.status).toBe(200);
    expect(Buffer.from(await warm.arrayBuffer())).toEqual(SECRET);
    // Both releases were made on one attestation token.
    const gets = resourceGets(kbs).slice(before);
    expect(gets.map((g) => g.outcome)).toEqual(['allowed', 'allowed']);
    expect(gets[0]!.principal).toMatch(/^token:/);
    expect(gets[1]!.principal).toBe(gets[0]!.principal);
  });

  test("a denied resource is 403 in the sidecar's envelope with the KBS policy's explanation", async () => {
    const response = await get(sidecar, 'default/demo/denied');
    expect(response.status).toBe(403);
    const body = (await response.json()) as { code: string; error: string; details: { reason: string; resource: string; explanation: { summary: string } } };
    expect(body.code).toBe('release_denied');
    expect(body.details.reason).toBe('claims_not_satisfied');
    expect(body.details.resource).toBe('default/demo/denied');
    expect(body.details.explanation.summary).toEqual(expect.any(String));
    expect(JSON.stringify(body)).not.toContain('never');
  });

  test('a path outside every policy prefix (default/demo-x is not under default/demo) is denied by default', async () => {
    const outside = await get(sidecar, 'default/demo-x/secret');
    expect(outside.status).toBe(403);
    expect(((await outside.json()) as { details: { reason: string } }).details.reason).toBe('no_policy');
  });

  test("a KBS refusing this TEE's evidence is the KBS's failure (502 with its status), not a 401 to the sibling", async () => {
    const response = await get(refused, 'default/demo/secret');
    expect(response.status).toBe(502);
    const body = (await response.json()) as { code: string; error: string };
    expect(body.code).toBe('upstream_failed');
    expect(body.error).toMatch(/^kbs: /);
  });

  test('a malformed segment is 400 and a fourth segment 404, before any KBS request', async () => {
    const before = resourceGets(kbs).length;
    expect((await get(sidecar, 'default/demo/.hidden')).status).toBe(400);
    expect((await get(sidecar, 'default/demo/secret/more')).status).toBe(404);
    expect(resourceGets(kbs).length).toBe(before);
  });

  test('no caller-chosen KBS: the route has no endpoint parameter and a sidecar without --kbs-url refuses', async () => {
    const response = await get(bare, 'default/demo/secret');
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 'kbs_not_configured' });
  });

  test.each([
    ['http://kbs.example.com', 'must use https'],
    ['https://kbs.example.com/kbs/v0', 'must not carry a path'],
    ['https://user:pw@kbs.example.com', 'must not carry credentials'],
  ])('a KBS URL outside the endpoint rules (%s) stops the sidecar at start', (url, message) => {
    expect(() => loadSidecarConfig({ flags: { 'kbs-url': url }, env: {} })).toThrow(message);
    expect(() => loadSidecarConfig({ flags: {}, env: { SKR_KBS_URL: url } })).toThrow(message);
  });

  test('the KBS URL is not added to the allow-list a caller may name for the verifier or key service', () => {
    const config = loadSidecarConfig({ flags: { 'kbs-url': 'https://kbs.example.com' }, env: {} });
    expect(config.kbsEndpoint).toBe('https://kbs.example.com');
    expect(config.allowedEndpoints.has('https://kbs.example.com')).toBe(false);
  });
});
