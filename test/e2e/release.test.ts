import { createPublicKey } from 'node:crypto';
import type { KeyClient } from '@azure/keyvault-keys';
import request from 'supertest';
import { demoPolicy } from '../../src/dev/demo-keys';
import type { RunningStack } from '../../src/dev/stack';
import { startTestStack } from './stack';

const ENCS = ['CKM_RSA_AES_KEY_WRAP', 'RSA_AES_KEY_WRAP_256', 'RSA_AES_KEY_WRAP_384'] as const;

describe('end to end: sidecar → verifier → KMS over real sockets', () => {
  let stack: RunningStack;
  let keys: KeyClient;
  let policy: { encodedPolicy: Uint8Array; contentType: string };

  beforeAll(async () => {
    ({ stack, keys } = await startTestStack());
    policy = { encodedPolicy: Buffer.from(JSON.stringify(demoPolicy(stack.verifier.issuer, stack.hostData, stack.arkSha256))), contentType: 'application/json; charset=utf-8' };
    await keys.createRsaKey('e2e-rsa', { hsm: true, keySize: 2048, exportable: true, releasePolicy: policy });
    await keys.createEcKey('e2e-ec', { hsm: true, curve: 'P-384', exportable: true, releasePolicy: policy });
  });
  afterAll(() => stack?.close());

  const release = (body: Record<string, unknown>, query = '') => request(stack.endpoints.sidecar).post(`/key/release${query}`).send(body);

  test('the demo key: 200 {"key": "<JWK>"}, oct with a 32-byte k, the same key every time', async () => {
    const first = await release({ kid: 'demo' });
    expect(first.status).toBe(200);
    const jwk = JSON.parse(first.body.key);
    expect(jwk.kty).toBe('oct');
    expect(Buffer.from(jwk.k, 'base64url')).toHaveLength(32);
    for (const enc of ENCS) {
      const again = await release({ kid: 'demo', enc }, '?format=object');
      expect(again.body.key.k).toBe(jwk.k);
    }
  });

  test.each(ENCS)('RSA and EC keys released with %s match the KMS public keys', async (enc) => {
    const rsa = (await release({ kid: 'e2e-rsa', enc }, '?format=object')).body.key;
    const rsaPublic = (await keys.getKey('e2e-rsa')).key!;
    expect(Buffer.from(rsa.n, 'base64url')).toEqual(Buffer.from(rsaPublic.n!));
    expect(createPublicKey({ key: rsa, format: 'jwk' }).asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(rsa.d).toEqual(expect.any(String));
    const ec = (await release({ kid: 'e2e-ec', enc }, '?format=object')).body.key;
    const ecPublic = (await keys.getKey('e2e-ec')).key!;
    expect(ec.crv).toBe('P-384');
    expect(Buffer.from(ec.x, 'base64url')).toEqual(Buffer.from(ecPublic.x!));
    expect(ec.d).toEqual(expect.any(String));
  });

  test('demo-denied: 403 naming x-ms-sevsnpvm-hostdata with the expected and actual values', async () => {
    const res = await release({ kid: 'demo-denied' });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('release_denied');
    expect(res.body.error).toContain('x-ms-sevsnpvm-hostdata');
    expect(res.body.error).toContain('f'.repeat(64));
    expect(res.body.error).toContain(stack.hostData);
    const failed = res.body.details.explanation.branches[0].failed[0];
    expect(failed).toMatchObject({ claim: 'x-ms-sevsnpvm-hostdata', expected: 'f'.repeat(64), actual: stack.hostData });
  });

  test("Microsoft's request shapes: endpoints given explicitly, a specific version, the caller's access_token", async () => {
    const version = (await keys.getKey('demo')).properties.version!;
    const explicit = await release({ kid: `demo/${version}`, maa_endpoint: stack.endpoints.verifier, akv_endpoint: stack.endpoints.kms });
    expect(explicit.status).toBe(200);
    const { ManagedIdentityCredential } = await import('@azure/identity');
    const token = (await new ManagedIdentityCredential().getToken('https://vault.azure.net/.default'))!.token;
    const withToken = await release({ kid: 'demo', access_token: token });
    expect(withToken.status).toBe(200);
    const badToken = await release({ kid: 'demo', access_token: 'not-a-token' });
    expect(badToken.status).toBe(502);
    expect(badToken.body.code).toBe('upstream_failed');
  });

  test('an unknown key is 404 key_not_found', async () => {
    const res = await release({ kid: 'no-such-key' });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('key_not_found');
  });

  test('many releases cost one TEE keygen and one attestation; released keys are never cached', async () => {
    const collect = stack.sidecar.context.evidence.collect.bind(stack.sidecar.context.evidence);
    let attestations = 0;
    stack.sidecar.context.evidence.collect = (...args) => {
      attestations++;
      return collect(...args);
    };
    const kids = new Set<string>();
    const tee = stack.sidecar.context.teeKeys;
    for (let i = 0; i < 10; i++) {
      expect((await release({ kid: 'demo' })).status).toBe(200);
      kids.add((await tee.get()).kid);
    }
    expect(kids.size).toBe(1);
    expect(attestations).toBe(0); // the token from the first releases is still fresh
  });

  test('a policy changed between two releases takes effect at once', async () => {
    const strict = { encodedPolicy: Buffer.from(JSON.stringify(demoPolicy(stack.verifier.issuer, 'ab'.repeat(32), stack.arkSha256))), contentType: 'application/json; charset=utf-8' };
    await keys.updateKeyProperties('e2e-rsa', { releasePolicy: strict });
    expect((await release({ kid: 'e2e-rsa' })).status).toBe(403);
    await keys.updateKeyProperties('e2e-rsa', { releasePolicy: policy });
    expect((await release({ kid: 'e2e-rsa' })).status).toBe(200);
  });

  test('attest routes on the stack: raw and combined (evidence + VCEK, ASK, ARK endorsements)', async () => {
    const raw = await request(stack.endpoints.sidecar)
      .post('/attest/raw')
      .send({ runtime_data: Buffer.from('hello').toString('base64') });
    expect(raw.body.report).toHaveLength(2368);
    const combined = await request(stack.endpoints.sidecar).post('/attest/combined').send({ runtime_data: 'aGVsbG8=' });
    expect(Buffer.from(combined.body.evidence, 'base64')).toHaveLength(1184);
    expect(
      Buffer.from(combined.body.endorsements, 'base64')
        .toString()
        .match(/BEGIN CERTIFICATE/g),
    ).toHaveLength(3);
  });
});
