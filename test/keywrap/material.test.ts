import { createPrivateKey, createSecretKey, randomBytes } from 'node:crypto';
import { KeyUnwrapError, KeyWrapError } from '../../src/errors';
import { encodeKeyMaterial, materialToJwk } from '../../src/keywrap';
import { ecPrivateKey, rsaKeyPair, thrown } from './keys';

describe('encodeKeyMaterial: raw bytes for oct, PKCS#8 DER for RSA and EC', () => {
  test('oct JWK (oct and oct-HSM) and secret KeyObject give the raw key', () => {
    const k = randomBytes(32);
    expect(encodeKeyMaterial({ kty: 'oct', k: k.toString('base64url') })).toEqual(k);
    expect(encodeKeyMaterial({ kty: 'oct-HSM', k: k.toString('base64url'), key_ops: ['wrapKey'] })).toEqual(k);
    expect(encodeKeyMaterial(createSecretKey(k))).toEqual(k);
  });

  test('RSA-HSM and EC-HSM JWKs give PKCS#8 that node reads back as the same key', async () => {
    for (const key of [(await rsaKeyPair(2048)).privateKey, await ecPrivateKey('P-384')]) {
      const jwk = key.export({ format: 'jwk' });
      const der = encodeKeyMaterial({ ...jwk, kty: `${jwk.kty}-HSM`, kid: 'https://vault/keys/k/1' });
      expect(der).toEqual(key.export({ type: 'pkcs8', format: 'der' }));
      expect(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' })).toEqual(jwk);
    }
  });

  test("Key Vault's P-256K is node's secp256k1, both ways", async () => {
    const key = await ecPrivateKey('secp256k1');
    const jwk = key.export({ format: 'jwk' });
    const der = encodeKeyMaterial({ ...jwk, kty: 'EC-HSM', crv: 'P-256K' });
    expect(materialToJwk('EC-HSM', der, ['sign'])).toEqual({ ...jwk, crv: 'P-256K', key_ops: ['sign'] });
  });

  test.each([
    ['a public RSA JWK', async () => ({ kty: 'RSA', n: 'AQAB', e: 'AQAB' }), /no private part/],
    ['an oct JWK without k', async () => ({ kty: 'oct' }), /no k/],
    ['an oct JWK with a non-base64url k', async () => ({ kty: 'oct', k: 'a+b/' }), /no k/],
    ['an OKP key', async () => ({ kty: 'OKP', crv: 'Ed25519', d: 'AA', x: 'AA' }), /cannot be released/],
    ['a public KeyObject', async () => (await rsaKeyPair(2048)).publicKey, /cannot be released/],
    ['a corrupt RSA JWK', async () => ({ kty: 'RSA', n: 'AQAB', e: 'AQAB', d: '!!' }), /not a valid private key/],
  ])('refuses %s', async (_name, key, message) => {
    const input = await key();
    expect(() => encodeKeyMaterial(input as never)).toThrow(KeyWrapError);
    expect(() => encodeKeyMaterial(input as never)).toThrow(message);
  });
});

describe('materialToJwk: the JWK the sidecar returns', () => {
  test('oct gives {kty, k, key_ops}; the -HSM suffix is dropped as Microsoft\u2019s sidecar does', () => {
    const k = randomBytes(16);
    expect(materialToJwk('oct-HSM', k, ['encrypt', 'decrypt'])).toEqual({ kty: 'oct', k: k.toString('base64url'), key_ops: ['encrypt', 'decrypt'] });
  });

  test("without key_ops from the release, Key Vault's defaults for the type", async () => {
    expect(materialToJwk('oct', randomBytes(32)).key_ops).toEqual(['encrypt', 'decrypt', 'wrapKey', 'unwrapKey']);
    expect(materialToJwk('EC', encodeKeyMaterial(await ecPrivateKey('P-256'))).key_ops).toEqual(['sign', 'verify']);
  });

  test('RSA gives the full private JWK, EC gives crv, x, y, d', async () => {
    const rsa = materialToJwk('RSA-HSM', encodeKeyMaterial((await rsaKeyPair(2048)).privateKey), ['unwrapKey']);
    expect(Object.keys(rsa).sort()).toEqual(['d', 'dp', 'dq', 'e', 'key_ops', 'kty', 'n', 'p', 'q', 'qi']);
    const ec = materialToJwk('EC-HSM', encodeKeyMaterial(await ecPrivateKey('P-521')), ['sign']);
    expect(ec).toMatchObject({ kty: 'EC', crv: 'P-521' });
    expect(Object.keys(ec).sort()).toEqual(['crv', 'd', 'key_ops', 'kty', 'x', 'y']);
  });

  test.each([
    ['EC material under an RSA kty', 'RSA-HSM', async () => encodeKeyMaterial(await ecPrivateKey('P-256'))],
    ['RSA material under an EC kty', 'EC', async () => encodeKeyMaterial((await rsaKeyPair(2048)).privateKey)],
    ['bytes that are not PKCS#8', 'RSA', async () => randomBytes(64)],
    ['an empty oct key', 'oct', async () => Buffer.alloc(0)],
    ['an unknown kty', 'OKP', async () => randomBytes(32)],
  ])('refuses %s', async (_name, kty, material) => {
    const bytes = await material();
    const error = thrown(() => materialToJwk(kty, bytes));
    expect(error).toBeInstanceOf(KeyUnwrapError);
    expect(error).toMatchObject({ code: 'key_unwrap_failed', details: { reason: 'material_invalid' } });
  });
});
