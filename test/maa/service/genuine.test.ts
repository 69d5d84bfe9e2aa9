import { createHash } from 'node:crypto';
import { importX509, jwtVerify } from 'jose';
import request from 'supertest';
import { parseHclReport } from '../../../src/snp/abi';
import { encodeAttestRequest } from '../../../src/maa/request';
import type { RunningVerifier } from '../../../src/maa/service/server';
import { fixture, VECTOR_TIME } from '../../snp/vectors';
import { startTestVerifier } from '../verifier-harness';
import { demoPolicy } from '../../../src/dev/demo-keys';
import { createReleasePolicy } from '../../../src/deploy';
import { evaluateReleasePolicy, parseReleasePolicy } from '../../../src/kms/policy';

/**
 * The genuine Azure CVM vector: its HCL report carries the runtime JSON whose SHA-256 is in
 * REPORT_DATA, so the real report can be attested with its real runtime data.
 */
const hcl = parseHclReport(fixture('snp', 'genoa-v3-azure-hcl', 'hcl-report.bin'));
const vekPem = `-----BEGIN CERTIFICATE-----\n${fixture('snp', 'genoa-v3-azure-hcl', 'vek.der').toString('base64')}\n-----END CERTIFICATE-----\n`;
const chainPem = vekPem + fixture('amd-roots', 'genoa_cert_chain.pem').toString('latin1');

function body(runtime: Buffer, extra: Record<string, unknown> = {}) {
  return { ...encodeAttestRequest({ report: hcl.report, vcekCertChain: chainPem, runtimeData: { data: runtime, dataType: 'JSON' } }), ...extra };
}

describe('verifier on the genuine Genoa HCL vector', () => {
  let verifier: RunningVerifier;
  beforeAll(async () => {
    verifier = await startTestVerifier({ now: () => VECTOR_TIME });
  });
  afterAll(() => verifier.close());

  test('issues an RS256 token whose claims match the report, verifiable with jose against /certs', async () => {
    const res = await request(verifier.url)
      .post('/attest/SevSnpVM?api-version=2020-10-01')
      .send(body(hcl.runtimeData, { nonce: 1234567 }));
    expect(res.status).toBe(200);
    const token = res.body.token as string;
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
    expect(header).toMatchObject({ alg: 'RS256', typ: 'JWT', jku: `${verifier.issuer}/certs` });

    const certs = await request(verifier.url).get('/certs');
    const jwk = certs.body.keys.find((k: { kid: string }) => k.kid === header.kid);
    const key = await importX509(`-----BEGIN CERTIFICATE-----\n${jwk.x5c[0]}\n-----END CERTIFICATE-----`, 'RS256');
    const { payload } = await jwtVerify(token, key, { issuer: verifier.issuer, currentDate: VECTOR_TIME });

    const expectedReportData = createHash('sha256').update(hcl.runtimeData).digest('hex') + '00'.repeat(32);
    expect(payload).toMatchObject({
      'x-ms-attestation-type': 'sevsnpvm',
      'x-ms-compliance-status': 'skr-unendorsed',
      'x-ms-sevsnpvm-reportdata': expectedReportData,
      'x-ms-sevsnpvm-launchmeasurement': 'f57dc09a507c6ecd82369bffb600f0003792f4d99bc26e985ec0c266fc34faf3706faf814c9e61065768a6ff917c89ae',
      'x-ms-sevsnpvm-hostdata': '00'.repeat(32),
      'x-ms-sevsnpvm-vmpl': 0,
      'x-ms-sevsnpvm-guestsvn': 65547,
      'x-ms-sevsnpvm-bootloader-svn': 10,
      'x-ms-sevsnpvm-tee-svn': 0,
      'x-ms-sevsnpvm-snpfw-svn': 23,
      'x-ms-sevsnpvm-microcode-svn': 84,
      'x-ms-sevsnpvm-is-debuggable': false,
      'x-ms-sevsnpvm-smt-allowed': true,
      'x-ms-sevsnpvm-migration-allowed': false,
      'x-skr-sevsnpvm-genuine-amd': true,
      'x-skr-sevsnpvm-product': 'Genoa',
      nonce: '1234567',
    });
    expect(payload['x-skr-virtual-tee']).toBeUndefined();
    expect((payload['x-ms-runtime'] as { keys: { kid: string }[] }).keys[0]!.kid).toBe('HCLAkPub');
    expect(payload.exp! - payload.iat!).toBe(8 * 3600);
    expect(payload.jti).toMatch(/^[0-9a-f]{64}$/);
  });

  test('a genuine report no UVM endorsement backs is not azure-compliant-uvm, so it satisfies neither the demo policy nor a `skr policy create` policy', async () => {
    const kmsSample = JSON.parse(fixture('uvm', 'kms-snp.json').toString('utf8')) as { uvm_endorsements: string };
    // Without an endorsement, and with a genuine endorsement of another UVM.
    for (const uvm of [undefined, [Buffer.from(kmsSample.uvm_endorsements, 'base64')]]) {
      const sent = encodeAttestRequest({ report: hcl.report, vcekCertChain: chainPem, uvmEndorsements: uvm, runtimeData: { data: hcl.runtimeData, dataType: 'JSON' } });
      const res = await request(verifier.url).post('/attest/SevSnpVm?api-version=2022-08-01').send(sent);
      expect(res.status).toBe(200);
      const claims = JSON.parse(Buffer.from((res.body.token as string).split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
      expect(claims['x-ms-compliance-status']).toBe('skr-unendorsed');
      expect(claims['x-ms-sevsnpvm-uvm-endorsement']).toBeUndefined();
      expect(claims['x-skr-uvm-endorsement-refused']).toEqual(uvm ? ['uvm_endorsement_measurement_mismatch'] : undefined);
      const zeros = '00'.repeat(32);
      const policies = {
        demo: demoPolicy(verifier.issuer, zeros, claims['x-skr-sevsnpvm-ark-sha256'] as string),
        created: createReleasePolicy(verifier.issuer, [zeros]),
      };
      for (const [name, policy] of Object.entries(policies)) {
        expect([name, evaluateReleasePolicy(parseReleasePolicy(policy), claims, verifier.issuer).allowed]).toEqual([name, false]);
      }
    }
  });

  test('one character changed inside a JSON string of the runtime data: 400 runtime_data_mismatch', async () => {
    const text = hcl.runtimeData.toString('utf8');
    const at = text.indexOf('HCLAkPub') + 1;
    const tampered = Buffer.from(text.slice(0, at) + (text[at] === 'C' ? 'D' : 'C') + text.slice(at + 1));
    const res = await request(verifier.url).post('/attest/SevSnpVm?api-version=2022-08-01').send(body(tampered));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('runtime_data_mismatch');
  });

  test('base64url without padding is accepted too', async () => {
    const b = body(hcl.runtimeData) as { report: string; runtimeData: { data: string } };
    b.report = b.report.replace(/=+$/, '');
    b.runtimeData.data = b.runtimeData.data.replace(/=+$/, '');
    const res = await request(verifier.url).post('/attest/sevsnpvm?api-version=2022-08-01').send(b);
    expect(res.status).toBe(200);
  });

  test('init-time data must hash to HOST_DATA (empty counts as absent)', async () => {
    const empty = await request(verifier.url)
      .post('/attest/SevSnpVm?api-version=2022-08-01')
      .send(body(hcl.runtimeData, { initTimeData: { data: '', dataType: '' } }));
    expect(empty.status).toBe(200);
    const wrong = await request(verifier.url)
      .post('/attest/SevSnpVm?api-version=2022-08-01')
      .send(body(hcl.runtimeData, { initTimeData: { data: Buffer.from('policy').toString('base64url'), dataType: 'Binary' } }));
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.code).toBe('init_time_data_mismatch');
  });

  test('an expired VCEK is refused with vek_expired', async () => {
    const later = await startTestVerifier({ now: () => new Date('2033-01-01') });
    try {
      const res = await request(later.url).post('/attest/SevSnpVm?api-version=2022-08-01').send(body(hcl.runtimeData));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('vek_expired');
    } finally {
      await later.close();
    }
  });

  test.each([
    ['a missing api-version', '/attest/SevSnpVm', {}, 'invalid_request'],
    ['an unknown attestation type', '/attest/SgxEnclave?api-version=2022-08-01', {}, 'invalid_request'],
    ['a report that is not base64url', '/attest/SevSnpVm?api-version=2022-08-01', { report: '***' }, 'invalid_request'],
    ['a report field that is not JSON', '/attest/SevSnpVm?api-version=2022-08-01', { report: Buffer.from('x').toString('base64url') }, 'invalid_request'],
  ])('%s: 400 in the MAA envelope', async (_name, path, payload, code) => {
    const res = await request(verifier.url).post(path).send(payload);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
  });

  test('a body that is not JSON, and one too large', async () => {
    const bad = await request(verifier.url).post('/attest/SevSnpVm?api-version=2022-08-01').set('content-type', 'text/plain').send('{not json');
    expect(bad.status).toBe(400);
    const big = await request(verifier.url)
      .post('/attest/SevSnpVm?api-version=2022-08-01')
      .send({ report: 'A'.repeat(300 * 1024) });
    expect(big.status).toBe(413);
  });

  test('discovery names the JWKS and the challenge endpoint', async () => {
    const res = await request(verifier.url).get('/.well-known/openid-configuration');
    expect(res.body).toMatchObject({ issuer: verifier.issuer, jwks_uri: `${verifier.issuer}/certs`, challenge_endpoint: `${verifier.issuer}/challenge` });
  });
});
