import type { JsonWebKey } from 'node:crypto';
import type { KeyClient } from '@azure/keyvault-keys';
import { goodRuntimeKeys, unsafeRsaKeys } from '../lib/runtime-keys';
import { issuerCredential, startStack, type Stack } from './harness';
import { raw } from './raw';

/** The KMS releases only to runtime keys that protect what is released (src/lib/runtime-key.ts). */
let stack: Stack;
let keys: KeyClient;

beforeAll(async () => {
  // Release is on by default, with no authority list: the key's policy names the stack's test issuer.
  stack = await startStack();
  keys = stack.client(issuerCredential(stack.issuer, stack.officer));
  const policy = { version: '1.0.0', anyOf: [{ authority: stack.issuer.url, allOf: [{ claim: 'x-ms-attestation-type', equals: 'sevsnpvm' }] }] };
  await keys.createOctKey('guarded', { hsm: true, keySize: 256, exportable: true, releasePolicy: { encodedPolicy: Buffer.from(JSON.stringify(policy)) } });
});
afterAll(() => stack?.close());

const target = (jwk: JsonWebKey) => stack.issuer.mint({ 'x-ms-attestation-type': 'sevsnpvm', 'x-ms-runtime': { keys: [{ ...jwk, kid: 'tee', key_ops: ['encrypt'] }] } });

test.each(unsafeRsaKeys().map((k) => [k.name, k] as const))('a release to a runtime key with %s is refused with 403', async (_name, { jwk, reason }) => {
  const res = await raw(stack.kms.url, stack.kms.caPem, 'POST', '/keys/guarded/release?api-version=7.4', {
    token: await stack.issuer.mint({ oid: stack.officer }),
    body: JSON.stringify({ target: await target(jwk) }),
  });
  expect(res.status).toBe(403);
  expect(res.body).toMatchObject({ error: { code: 'Forbidden', innererror: { code: 'runtime_key_refused', details: { reason } } } });
  expect(JSON.stringify(res.body)).not.toContain('key_hsm');
});

test.each(Object.entries(goodRuntimeKeys()))('a release to an %s runtime key is wrapped', async (_name, jwk) => {
  const { value } = await keys.releaseKey('guarded', await target(jwk));
  const payload = JSON.parse(Buffer.from(value.split('.')[1]!, 'base64url').toString());
  expect(typeof payload.response.key.key.key_hsm).toBe('string');
});
