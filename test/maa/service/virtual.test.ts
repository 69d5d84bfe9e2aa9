import { generateKeyPairSync } from 'node:crypto';
import { importX509, jwtVerify } from 'jose';
import request from 'supertest';
import type { RunningVerifier } from '../../../src/maa/service/server';
import type { VirtualDevice } from '../../../src/snp/device/virtual';
import { mintVek } from '../../../src/snp/virtual';
import { startTestVerifier } from '../verifier-harness';
import { attestBody, virtualGuest, virtualUvmIssuerOf } from '../virtual-evidence';
import { goodEcRuntimeKeys, goodRuntimeKeys, unsafeEcKeys, unsafeRsaKeys } from '../../lib/runtime-keys';

const ATTEST = '/attest/SevSnpVm?api-version=2022-08-01';
/** The error code the verifier at `url` refuses `body` with. */
const refusalCode = async (url: string, body: object): Promise<string> => (await request(url).post(ATTEST).send(body)).body.error.code;
const runtime = { keys: [{ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }), kid: 'k' }] };

async function tokenClaims(verifier: RunningVerifier, token: string) {
  const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
  const certs = await request(verifier.url).get('/certs');
  const jwk = certs.body.keys.find((k: { kid: string }) => k.kid === header.kid);
  const key = await importX509(`-----BEGIN CERTIFICATE-----\n${jwk.x5c[0]}\n-----END CERTIFICATE-----`, 'RS256');
  return (await jwtVerify(token, key, { issuer: verifier.issuer })).payload;
}

describe('verifier with virtual evidence', () => {
  let guest: VirtualDevice;
  let other: VirtualDevice;
  let trusting: RunningVerifier;
  let untrusting: RunningVerifier;

  beforeAll(async () => {
    [guest, other] = await Promise.all([virtualGuest(), virtualGuest()]);
    trusting = await startTestVerifier({ trustedRoots: [guest.pki.root], trustedUvmIssuers: [virtualUvmIssuerOf(guest)] });
    untrusting = await startTestVerifier();
  });
  afterAll(async () => {
    await trusting.close();
    await untrusting.close();
  });

  test('end to end: a token that says the evidence is virtual', async () => {
    const res = await request(trusting.url)
      .post(ATTEST)
      .send(await attestBody(guest, runtime));
    expect(res.status).toBe(200);
    const claims = await tokenClaims(trusting, res.body.token);
    expect(claims).toMatchObject({
      'x-skr-virtual-tee': true,
      'x-skr-sevsnpvm-genuine-amd': false,
      'x-ms-runtime': runtime,
      'x-ms-sevsnpvm-launchmeasurement': guest.pki.config.guest.measurement.toString('hex'),
      'x-ms-compliance-status': 'azure-compliant-uvm',
      'x-ms-sevsnpvm-uvm-endorsement': {
        'x-ms-sevsnpvm-guestsvn': '100',
        'x-ms-sevsnpvm-guestsvn-int': 100,
        'x-ms-sevsnpvm-launchmeasurement': guest.pki.config.guest.measurement.toString('hex'),
      },
    });
  });

  test("azure-compliant-uvm needs a verified endorsement: none, another state's, or one the verifier does not trust gives skr-unendorsed", async () => {
    const cases: [string, RunningVerifier, Buffer[], string[] | undefined][] = [
      ['no endorsement', trusting, [], undefined],
      ['another virtual state signed it', trusting, [other.pki.uvm.endorsement], ['uvm_endorsement_untrusted_issuer']],
      ['a garbage endorsement', trusting, [Buffer.from('not cbor')], ['uvm_endorsement_malformed']],
    ];
    for (const [what, verifier, uvm, refused] of cases) {
      const res = await request(verifier.url)
        .post(ATTEST)
        .send(await attestBody(guest, runtime, { uvm }));
      expect([what, res.status]).toEqual([what, 200]);
      const claims = await tokenClaims(verifier, res.body.token);
      expect([what, claims['x-ms-compliance-status'], claims['x-skr-uvm-endorsement-refused']]).toEqual([what, 'skr-unendorsed', refused]);
      expect(claims['x-ms-sevsnpvm-uvm-endorsement']).toBeUndefined();
    }
    // A verifier that trusts the virtual ARK but not the state's UVM signer.
    const arkOnly = await startTestVerifier({ trustedRoots: [guest.pki.root] });
    try {
      const res = await request(arkOnly.url)
        .post(ATTEST)
        .send(await attestBody(guest, runtime));
      const claims = await tokenClaims(arkOnly, res.body.token);
      expect(claims).toMatchObject({ 'x-ms-compliance-status': 'skr-unendorsed', 'x-skr-uvm-endorsement-refused': ['uvm_endorsement_untrusted_issuer'] });
    } finally {
      await arkOnly.close();
    }
  });

  test('the virtual root is trusted only where configured: ark_not_trusted', async () => {
    const res = await request(untrusting.url)
      .post(ATTEST)
      .send(await attestBody(guest, runtime));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('ark_not_trusted');
  });

  test('a foreign chain (another virtual machine) is refused', async () => {
    const res = await request(trusting.url)
      .post(ATTEST)
      .send(await attestBody(other, runtime));
    expect(res.body.error.code).toBe('ark_not_trusted');
    // Without its ARK: the ASK that signed the VCEK is not signed by a trusted ARK.
    const noArk = await request(trusting.url)
      .post(ATTEST)
      .send(await attestBody(other, runtime, { chain: other.pki.vcek.pem + other.pki.ask.pem }));
    expect(noArk.status).toBe(400);
    expect(noArk.body.error.code).toBe('ask_signature_invalid');
  });

  test.each([...unsafeRsaKeys(), ...unsafeEcKeys()].map((k) => [k.name, k] as const))('runtime data carrying a runtime key with %s: 400 runtime_key_unsafe', async (_name, { jwk }) => {
    const res = await request(trusting.url)
      .post(ATTEST)
      .send(await attestBody(guest, { keys: [runtime.keys[0], { ...jwk, kid: 'weak' }] }));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'runtime_key_unsafe' } });
  });

  test('runtime data carrying RSA-2048, RSA-4096 and EC keys on the named curves is attested', async () => {
    const keys = Object.values({ ...goodRuntimeKeys(), ...goodEcRuntimeKeys() });
    const res = await request(trusting.url)
      .post(ATTEST)
      .send(await attestBody(guest, { keys }));
    expect(res.status).toBe(200);
    expect((await tokenClaims(trusting, res.body.token))['x-ms-runtime']).toEqual({ keys });
  });

  test('a tampered report: report_signature_invalid', async () => {
    const res = await request(trusting.url)
      .post(ATTEST)
      .send(await attestBody(guest, runtime, { mutate: (r) => (r[0x90]! ^= 1) }));
    expect(res.body.error.code).toBe('report_signature_invalid');
  });

  test('an expired VEK: vek_expired', async () => {
    const expired = await mintVek(guest.pki, { notBefore: new Date('2015-01-01'), notAfter: new Date('2016-01-01') });
    const body = await attestBody(guest, runtime, { chain: expired.pem + guest.pki.ask.pem + guest.pki.ark.pem });
    const res = await request(trusting.url).post(ATTEST).send(body);
    expect(res.body.error.code).toBe('vek_expired');
  });

  test('a forged VEK with the same chip and TCB but another key: report_signature_invalid', async () => {
    const forged = await mintVek(guest.pki, { key: 'generate' });
    const res = await request(trusting.url)
      .post(ATTEST)
      .send(await attestBody(guest, runtime, { chain: forged.pem + guest.pki.ask.pem + guest.pki.ark.pem }));
    expect(res.body.error.code).toBe('report_signature_invalid');
  });

  test('the chain in the body must be PEM', async () => {
    const res = await request(trusting.url)
      .post(ATTEST)
      .send(await attestBody(guest, runtime, { chain: 'garbage' }));
    expect(res.body.error.code).toBe('invalid_request');
  });
});

describe('appraisal policy and reference values', () => {
  test('debug forbidden, VMPL 0 required, TCB minimum: each refused with its own code', async () => {
    const debugGuest = await virtualGuest({ policy: 0xb0000n });
    const verifier = await startTestVerifier({
      trustedRoots: [debugGuest.pki.root],
      policyText: JSON.stringify({ forbidDebug: true }),
    });
    const vmplVerifier = await startTestVerifier({ trustedRoots: [debugGuest.pki.root], policyText: JSON.stringify({ vmpl: 0 }) });
    const tcbVerifier = await startTestVerifier({ trustedRoots: [debugGuest.pki.root], policyText: JSON.stringify({ minimumTcb: { snp: 250 } }) });
    try {
      expect(await refusalCode(verifier.url, await attestBody(debugGuest, runtime))).toBe('policy_debug_allowed');
      expect(await refusalCode(vmplVerifier.url, await attestBody(debugGuest, runtime, { vmpl: 1 }))).toBe('vmpl_mismatch');
      expect(
        (
          await request(vmplVerifier.url)
            .post(ATTEST)
            .send(await attestBody(debugGuest, runtime, { vmpl: 0 }))
        ).status,
      ).toBe(200);
      expect(await refusalCode(tcbVerifier.url, await attestBody(debugGuest, runtime))).toBe('reported_tcb_too_low');
    } finally {
      await Promise.all([verifier.close(), vmplVerifier.close(), tcbVerifier.close()]);
    }
  });

  test('a policy with an unknown key is refused when loaded', async () => {
    await expect(startTestVerifier({ policyText: '{"forbidDebugg": true}' })).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  test('reference measurements through the authenticated admin API; report-only enforcement marks tokens non-compliant', async () => {
    const guest = await virtualGuest();
    const deny = await startTestVerifier({ trustedRoots: [guest.pki.root] });
    const report = await startTestVerifier({ trustedRoots: [guest.pki.root], policyText: '{"enforcement":"report"}' });
    try {
      const other = 'ab'.repeat(48);
      const mine = guest.pki.config.guest.measurement.toString('hex');
      expect((await request(deny.url).post('/admin/refs').send({ kind: 'measurement', value: other })).status).toBe(401);
      const auth = { authorization: `Bearer ${deny.adminToken}` };
      expect((await request(deny.url).post('/admin/refs').set(auth).send({ kind: 'measurement', value: other })).status).toBe(201);
      expect((await request(deny.url).post('/admin/refs').set(auth).send({ kind: 'measurement', value: 'zz' })).status).toBe(400);
      expect(await refusalCode(deny.url, await attestBody(guest, runtime))).toBe('measurement_not_allowed');
      expect((await request(deny.url).post('/admin/refs').set(auth).send({ kind: 'measurement', value: mine })).status).toBe(201);
      expect(
        (
          await request(deny.url)
            .post(ATTEST)
            .send(await attestBody(guest, runtime))
        ).status,
      ).toBe(200);
      expect((await request(deny.url).get('/admin/refs').set(auth)).body.references).toHaveLength(2);
      expect((await request(deny.url).delete(`/admin/refs/measurement/${mine}`).set(auth)).status).toBe(204);
      expect((await request(deny.url).delete(`/admin/refs/measurement/${mine}`).set(auth)).status).toBe(404);
      expect(await refusalCode(deny.url, await attestBody(guest, runtime))).toBe('measurement_not_allowed');

      const reportAuth = { authorization: `Bearer ${report.adminToken}` };
      await request(report.url)
        .post('/admin/refs')
        .set(reportAuth)
        .send({ kind: 'host-data', value: 'cd'.repeat(32) });
      const res = await request(report.url)
        .post(ATTEST)
        .send(await attestBody(guest, runtime));
      expect(res.status).toBe(200);
      const claims = await tokenClaims(report, res.body.token);
      expect(claims['x-ms-compliance-status']).toBe('not-compliant');
      expect(claims['x-skr-compliance-failures']).toEqual(['host_data_not_allowed']);
    } finally {
      await Promise.all([deny.close(), report.close()]);
    }
  });

  test('reference values persist across restarts of the verifier', async () => {
    const guest = await virtualGuest();
    const first = await startTestVerifier({ trustedRoots: [guest.pki.root] });
    const stateDir = first.context.references;
    await request(first.url)
      .post('/admin/refs')
      .set({ authorization: `Bearer ${first.adminToken}` })
      .send({ kind: 'measurement', value: 'ef'.repeat(48) });
    await first.close();
    expect(await stateDir.list()).toEqual([expect.objectContaining({ kind: 'measurement', value: 'ef'.repeat(48) })]);
  });
});

describe('challenge-response freshness', () => {
  let guest: VirtualDevice;
  let clock: number;
  let verifier: RunningVerifier;
  beforeAll(async () => {
    guest = await virtualGuest();
    clock = Date.now();
    verifier = await startTestVerifier({
      trustedRoots: [guest.pki.root],
      policyText: '{"requireFreshness": true}',
      challengeTtlSeconds: 60,
      now: () => new Date(clock),
    });
  });
  afterAll(() => verifier.close());

  const challenge = async () => (await request(verifier.url).post('/challenge')).body.nonce as string;

  test('a live nonce yields a token; the same nonce again is a replay', async () => {
    const nonce = await challenge();
    const body = await attestBody(guest, { ...runtime, nonce });
    const ok = await request(verifier.url).post(ATTEST).send(body);
    expect(ok.status).toBe(200);
    const claims = await tokenClaims(verifier, ok.body.token);
    expect((claims['x-ms-runtime'] as { nonce: string }).nonce).toBe(nonce);
    expect(claims['x-skr-challenge-verified']).toBe(true);
    expect(await refusalCode(verifier.url, body)).toBe('nonce_replayed');
  });

  test('no nonce, an unknown one and an expired one are refused', async () => {
    expect(await refusalCode(verifier.url, await attestBody(guest, runtime))).toBe('nonce_required');
    expect(await refusalCode(verifier.url, await attestBody(guest, { ...runtime, nonce: 'made-up' }))).toBe('nonce_unknown');
    const nonce = await challenge();
    clock += 61_000;
    expect(await refusalCode(verifier.url, await attestBody(guest, { ...runtime, nonce }))).toBe('nonce_expired');
  });
});

describe('signing key rotation', () => {
  test('the previous key stays published until its tokens expire', async () => {
    const guest = await virtualGuest();
    let clock = Date.now();
    const verifier = await startTestVerifier({ trustedRoots: [guest.pki.root], tokenLifetimeSeconds: 600, now: () => new Date(clock) });
    try {
      const before = (
        await request(verifier.url)
          .post(ATTEST)
          .send(await attestBody(guest, runtime))
      ).body.token as string;
      const rotated = await request(verifier.url)
        .post('/admin/signing-keys/rotate')
        .set({ authorization: `Bearer ${verifier.adminToken}` });
      expect(rotated.status).toBe(200);
      expect((await request(verifier.url).get('/certs')).body.keys).toHaveLength(2);
      const after = (
        await request(verifier.url)
          .post(ATTEST)
          .send(await attestBody(guest, runtime))
      ).body.token as string;
      expect(JSON.parse(Buffer.from(after.split('.')[0]!, 'base64url').toString()).kid).toBe(rotated.body.kid);
      await expect(tokenClaims(verifier, before)).resolves.toBeDefined();
      clock += 601_000;
      expect((await request(verifier.url).get('/certs')).body.keys).toHaveLength(1);
    } finally {
      await verifier.close();
    }
  });
});
