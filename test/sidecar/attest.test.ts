import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import request from 'supertest';
import type { RunningVerifier } from '../../src/maa/service/server';
import type { RunningSidecar } from '../../src/sidecar/server';
import { loadSidecarConfig } from '../../src/sidecar/config';
import { startSidecar } from '../../src/sidecar/server';
import { parseReport } from '../../src/snp/abi';
import { startTestVerifier } from '../maa/verifier-harness';
import { uvmIssuer } from '../../src/maa/uvm';
import { startTestSidecar, virtualState } from './harness';

const runtime = Buffer.from(JSON.stringify({ keys: [{ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }), kid: 'app' }] }));
const b64 = runtime.toString('base64');
const reportData = Buffer.concat([createHash('sha256').update(runtime).digest(), Buffer.alloc(32)]);

describe('sidecar attestation routes (virtual device, chosen explicitly)', () => {
  let verifier: RunningVerifier;
  let sidecar: RunningSidecar;
  let state: Awaited<ReturnType<typeof virtualState>>;
  beforeAll(async () => {
    state = await virtualState();
    verifier = await startTestVerifier({ trustedRoots: [state.root], trustedUvmIssuers: [uvmIssuer(state.uvm.issuer.did, state.uvm.issuer.feed)] });
    sidecar = await startTestSidecar({ 'state-dir': state.stateDir, 'maa-endpoint': verifier.url });
  });
  afterAll(async () => {
    await sidecar.close();
    await verifier.close();
  });

  test("GET /status: Microsoft's message plus real readiness, saying the device is virtual", async () => {
    const res = await request(sidecar.url).get('/status');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ message: 'Status OK', ready: true, device: 'virtual', virtual: true });
    expect(res.body.checks.allowedEndpoints).toEqual([verifier.url]);
  });

  test('POST /attest/raw: a 1184-byte hex report binding SHA-256(runtime_data) ‖ zeros', async () => {
    const res = await request(sidecar.url).post('/attest/raw').send({ runtime_data: b64 });
    expect(res.status).toBe(200);
    expect(res.body.report).toMatch(/^[0-9a-f]{2368}$/);
    expect(parseReport(Buffer.from(res.body.report, 'hex')).reportData).toEqual(reportData);
  });

  test("bodies are JSON whatever the Content-Type says, as Microsoft's sidecar parses them", async () => {
    const res = await request(sidecar.url)
      .post('/attest/raw')
      .set('content-type', 'text/plain')
      .send(JSON.stringify({ runtime_data: b64 }));
    expect(res.status).toBe(200);
  });

  test('POST /attest/combined: evidence, endorsements (VCEK, ASK, ARK PEM), endorsed_tcb', async () => {
    const res = await request(sidecar.url).post('/attest/combined').send({ runtime_data: b64 });
    expect(res.status).toBe(200);
    expect(parseReport(Buffer.from(res.body.evidence, 'base64')).reportData).toEqual(reportData);
    const pem = Buffer.from(res.body.endorsements, 'base64').toString();
    const subjects = pem.split(/(?=-----BEGIN CERTIFICATE-----)/).map((c) => new X509Certificate(c).subject.split('\n').find((l) => l.startsWith('CN='))!);
    expect(subjects).toEqual(['CN=SEV-VCEK', 'CN=SEV-Milan', 'CN=ARK-Milan']);
    expect(res.body.endorsed_tcb).toMatch(/^[0-9a-f]{16}$/);
    // The virtual state's security context, as ACI's reference-info-base64 (standard base64).
    expect(res.body.uvm_endorsements).toBe(state.uvm.endorsement.toString('base64'));
  });

  test('POST /attest/maa: a verified token for the runtime data; endpoint defaults to the configured one', async () => {
    const res = await request(sidecar.url).post('/attest/maa').send({ runtime_data: b64 });
    expect(res.status).toBe(200);
    const claims = JSON.parse(Buffer.from(res.body.token.split('.')[1], 'base64url').toString());
    // The verifier advertises challenges, so a fresh nonce joins the caller's runtime data.
    expect(claims['x-ms-runtime']).toEqual({ ...JSON.parse(runtime.toString()), nonce: expect.any(String) });
    expect(claims['x-skr-challenge-verified']).toBe(true);
    expect(claims['x-skr-virtual-tee']).toBe(true);
    // The sidecar sent the endorsement (Endorsements.Uvm) and the verifier, trusting this state, checked it.
    expect(claims['x-ms-compliance-status']).toBe('azure-compliant-uvm');
    expect(claims['x-ms-sevsnpvm-uvm-endorsement']).toMatchObject({ 'x-ms-sevsnpvm-guestsvn': '100' });
    const named = await request(sidecar.url)
      .post('/attest/maa')
      .send({ runtime_data: b64, maa_endpoint: verifier.url.replace('http://', '') });
    // host[:port] means https, which this plain-HTTP verifier is not: a different, unlisted origin.
    expect(named.status).toBe(403);
    expect(named.body.code).toBe('endpoint_not_allowed');
  });

  test('a sibling cannot steer the sidecar to a host of its choosing', async () => {
    for (const [path, body] of [
      ['/attest/maa', { runtime_data: b64, maa_endpoint: 'evil.example.com' }],
      ['/key/release', { kid: 'k', maa_endpoint: verifier.url, akv_endpoint: 'evil.example.com' }],
      ['/key/release', { kid: 'k', maa_endpoint: 'https://attacker.test:8443', akv_endpoint: verifier.url }],
    ] as const) {
      const res = await request(sidecar.url).post(path).send(body);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ error: expect.any(String), code: 'endpoint_not_allowed' });
    }
  });

  test.each([
    ['/attest/raw', {}, 400, 'invalid_request'],
    ['/attest/raw', { runtime_data: 42 }, 400, 'invalid_request'],
    ['/attest/raw', { runtime_data: '@@not base64@@' }, 400, 'invalid_request'],
    ['/attest/maa', { runtime_data: Buffer.from('not json').toString('base64') }, 400, 'invalid_request'],
    ['/attest/maa', { runtime_data: b64, maa_endpoint: 'https://x/path' }, 400, 'invalid_request'],
    ['/key/release', {}, 400, 'invalid_request'],
    ['/key/release', { kid: '../etc/passwd' }, 400, 'invalid_request'],
    ['/key/release', { kid: 'k', access_token: 7 }, 400, 'invalid_request'],
    ['/key/release', { kid: 'k', enc: 'RSA1_5' }, 400, 'invalid_request'],
    ['/nope', {}, 404, 'not_found'],
  ])('POST %s %j → %i %s', async (path, body, status, code) => {
    const res = await request(sidecar.url).post(path).send(body);
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
    expect(typeof res.body.error).toBe('string');
  });

  test('a body that is not JSON is 400, an array is 400, one over 64 KiB is 413', async () => {
    expect((await request(sidecar.url).post('/attest/raw').set('content-type', 'application/json').send('{oops')).status).toBe(400);
    expect((await request(sidecar.url).post('/attest/raw').send([1, 2])).status).toBe(400);
    const big = await request(sidecar.url)
      .post('/attest/raw')
      .send({ runtime_data: 'A'.repeat(70 * 1024) });
    expect(big.status).toBe(413);
    expect(big.body.code).toBe('body_too_large');
  });

  test('a verifier that is down: 502 upstream_failed, and the sidecar recovers', async () => {
    const state = await virtualState();
    const down = await startTestSidecar({ 'state-dir': state.stateDir, 'maa-endpoint': 'http://127.0.0.1:9', 'timeout-ms': '500' });
    try {
      const res = await request(down.url).post('/attest/maa').send({ runtime_data: b64 });
      expect(res.status).toBe(502);
      expect(res.body.code).toBe('upstream_failed');
      expect((await request(down.url).post('/attest/raw').send({ runtime_data: b64 })).status).toBe(200);
    } finally {
      await down.close();
    }
  });
});

test('without a TEE device the sidecar does not start, and never serves a fake report', async () => {
  const config = loadSidecarConfig({ flags: { port: '0' }, env: {} });
  await expect(startSidecar(config, { keepPrivileges: true, credential: { getToken: async () => null } }, {})).rejects.toMatchObject({ code: 'no_tee_device' });
});

test('configuration is validated at start', () => {
  expect(() => loadSidecarConfig({ flags: { device: 'fake' }, env: {} })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  expect(() => loadSidecarConfig({ flags: { 'maa-endpoint': 'http://maa.example.com' }, env: {} })).toThrow(/https/);
  expect(() => loadSidecarConfig({ flags: {}, env: { SkrSideCarArgs: 'not-json' } })).toThrow(/SkrSideCarArgs/);
  const c = loadSidecarConfig({
    flags: {},
    env: {
      SKR_MAA_ENDPOINT: 'sharedeus2.eus2.attest.azure.net',
      SKR_AKV_ENDPOINT: 'myvault.vault.azure.net',
      SKR_ALLOWED_ENDPOINTS: 'other.vault.azure.net, https://x.managedhsm.azure.net',
      SkrSideCarArgs: Buffer.from(JSON.stringify({ identity: { client_id: 'cid' }, certcache: { endpoint_type: 'LocalTHIM', endpoint: '169.254.169.254/metadata/THIM/amd/certification' } })).toString(
        'base64',
      ),
    },
  });
  expect([...c.allowedEndpoints]).toEqual(['https://sharedeus2.eus2.attest.azure.net', 'https://myvault.vault.azure.net', 'https://other.vault.azure.net', 'https://x.managedhsm.azure.net']);
  expect(c).toMatchObject({ identityClientId: 'cid', thimUrl: 'http://169.254.169.254/metadata/THIM/amd/certification', host: '127.0.0.1', port: 8080 });
});

describe('observability', () => {
  let verifier: RunningVerifier;
  let sidecar: RunningSidecar;
  beforeAll(async () => {
    const state = await virtualState();
    verifier = await startTestVerifier({ trustedRoots: [state.root] });
    sidecar = await startTestSidecar({ 'state-dir': state.stateDir, 'maa-endpoint': verifier.url });
  });
  afterAll(async () => {
    await sidecar.close();
    await verifier.close();
  });

  test('/metrics counts requests by route and outcome, and never names a secret', async () => {
    await request(sidecar.url).post('/attest/raw').send({ runtime_data: b64 });
    await request(sidecar.url).post('/key/release').send({ kid: 'k', akv_endpoint: 'evil.example.com' });
    const text = (await request(sidecar.url).get('/metrics')).text;
    expect(text).toMatch(/skr_http_requests_total\{route="\/attest\/raw",method="POST",status="200"\} 1/);
    expect(text).toMatch(/skr_key_releases_total\{decision="denied"\} 1/);
    expect(text).toContain('skr_http_request_duration_seconds_bucket');
  });
});
