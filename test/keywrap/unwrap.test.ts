import { createPrivateKey, type KeyObject } from 'node:crypto';
import { KeyUnwrapError } from '../../src/errors';
import { unwrapKeyMaterial, wrapKeyMaterial, type KeyWrapAlgorithm } from '../../src/keywrap';
import KNOWN from './known-answer.json';
import { ENCS, rsaKeyPair } from './keys';

const keys = Object.fromEntries(Object.entries(KNOWN.wrappingKeys).map(([name, pem]) => [name, createPrivateKey(pem)])) as Record<string, KeyObject>;

describe('unwrapKeyMaterial known answers (ciphertexts made without src/keywrap)', () => {
  test.each(KNOWN.cases)('$kty, $enc under $wrappingKey', async ({ wrappingKey, enc, material, ciphertext }) => {
    const unwrapped = await unwrapKeyMaterial({ privateKey: keys[wrappingKey]!, ciphertext: Buffer.from(ciphertext, 'base64'), enc: enc as KeyWrapAlgorithm });
    expect(unwrapped.toString('base64')).toBe(material);
  });
});

describe('unwrapKeyMaterial refuses with a typed reason', () => {
  const material = Buffer.alloc(32, 0x5a);
  let a: { publicKey: KeyObject; privateKey: KeyObject };
  let b: { publicKey: KeyObject; privateKey: KeyObject };
  let c3072: { publicKey: KeyObject; privateKey: KeyObject };
  let ciphertext: Buffer;

  beforeAll(async () => {
    [a, b, c3072] = await Promise.all([rsaKeyPair(2048), rsaKeyPair(2048), rsaKeyPair(3072)]);
    ciphertext = await wrapKeyMaterial({ publicKey: a.publicKey, material, enc: 'RSA_AES_KEY_WRAP_256' });
  });

  const reasonOf = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KeyUnwrapError);
    expect((error as KeyUnwrapError).code).toBe('key_unwrap_failed');
    return (error as KeyUnwrapError).details?.reason;
  };

  test('a changed byte in the RSA-OAEP part', async () => {
    for (const at of [0, 100, 255]) {
      const bad = Buffer.from(ciphertext);
      bad[at]! ^= 0x01;
      expect(await reasonOf(unwrapKeyMaterial({ privateKey: a.privateKey, ciphertext: bad, enc: 'RSA_AES_KEY_WRAP_256' }))).toBe('rsa_oaep');
    }
  });

  test('a changed byte in the RFC 5649 part', async () => {
    for (let at = 256; at < ciphertext.length; at += 7) {
      const bad = Buffer.from(ciphertext);
      bad[at]! ^= 0x80;
      expect(await reasonOf(unwrapKeyMaterial({ privateKey: a.privateKey, ciphertext: bad, enc: 'RSA_AES_KEY_WRAP_256' }))).toBe('aes_kwp');
    }
  });

  test('another key of the same size', async () => {
    expect(await reasonOf(unwrapKeyMaterial({ privateKey: b.privateKey, ciphertext, enc: 'RSA_AES_KEY_WRAP_256' }))).toBe('rsa_oaep');
  });

  test('a key of another size: the split no longer fits', async () => {
    expect(await reasonOf(unwrapKeyMaterial({ privateKey: c3072.privateKey, ciphertext, enc: 'RSA_AES_KEY_WRAP_256' }))).toBe('ciphertext_length');
  });

  test.each(ENCS.filter((enc) => enc !== 'RSA_AES_KEY_WRAP_256'))('the wrong enc (%s)', async (enc) => {
    expect(await reasonOf(unwrapKeyMaterial({ privateKey: a.privateKey, ciphertext, enc }))).toBe('rsa_oaep');
  });

  test('truncated, extended or misaligned ciphertexts', async () => {
    for (const bad of [ciphertext.subarray(0, 256), ciphertext.subarray(0, 256 + 8), ciphertext.subarray(0, ciphertext.length - 1), Buffer.concat([ciphertext, Buffer.alloc(3)])]) {
      expect(await reasonOf(unwrapKeyMaterial({ privateKey: a.privateKey, ciphertext: bad, enc: 'RSA_AES_KEY_WRAP_256' }))).toBe('ciphertext_length');
    }
    const extended = Buffer.concat([ciphertext, Buffer.alloc(8)]);
    expect(await reasonOf(unwrapKeyMaterial({ privateKey: a.privateKey, ciphertext: extended, enc: 'RSA_AES_KEY_WRAP_256' }))).toBe('aes_kwp');
  });

  test('a public key, an EC key, an unknown enc', async () => {
    expect(await reasonOf(unwrapKeyMaterial({ privateKey: a.publicKey, ciphertext }))).toBe('key_invalid');
    expect(await reasonOf(unwrapKeyMaterial({ privateKey: { kty: 'EC', crv: 'P-256' }, ciphertext }))).toBe('key_invalid');
    expect(await reasonOf(unwrapKeyMaterial({ privateKey: a.privateKey, ciphertext, enc: 'A256KW' as never }))).toBe('enc_unsupported');
  });

  test('the ciphertext may be a view into a larger buffer', async () => {
    const backing = Buffer.concat([Buffer.alloc(13, 0xff), ciphertext, Buffer.alloc(5, 0xff)]);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 13, ciphertext.length);
    expect(await unwrapKeyMaterial({ privateKey: a.privateKey, ciphertext: view, enc: 'RSA_AES_KEY_WRAP_256' })).toEqual(material);
  });
});
