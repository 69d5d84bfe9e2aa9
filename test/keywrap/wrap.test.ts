import { constants, createDecipheriv, createCipheriv, privateDecrypt, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { KeyWrapError } from '../../src/errors';
import { encodeKeyMaterial, materialToJwk, MIN_WRAPPING_KEY_BITS, unwrapKeyMaterial, wrapKeyMaterial } from '../../src/keywrap';
import { ecPrivateKey, ENCS, OAEP_HASH, rsaKeyPair } from './keys';

const AIV = Buffer.from('a65959a6', 'hex');

/** Opens a ciphertext without src/keywrap: RSA-OAEP by node's privateDecrypt, then the RFC 5649 unwrap. */
function independentUnwrap(privateKey: KeyObject, ciphertext: Buffer, enc: keyof typeof OAEP_HASH): Buffer {
  const split = privateKey.asymmetricKeyDetails!.modulusLength! / 8;
  const kek = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP_HASH[enc] }, ciphertext.subarray(0, split));
  expect(kek).toHaveLength(32);
  const decipher = createDecipheriv('id-aes256-wrap-pad', kek, AIV);
  return Buffer.concat([decipher.update(ciphertext.subarray(split)), decipher.final()]);
}

function independentWrap(publicKey: KeyObject, material: Buffer, enc: keyof typeof OAEP_HASH): Buffer {
  const kek = randomBytes(32);
  const cipher = createCipheriv('id-aes256-wrap-pad', kek, AIV);
  const head = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP_HASH[enc] }, kek);
  return Buffer.concat([head, cipher.update(material), cipher.final()]);
}

const WRAPPING_BITS = [2048, 3072, 4096];
const wrapping = new Map<number, { publicKey: KeyObject; privateKey: KeyObject }>();
const materials = new Map<string, { kty: string; bytes: Buffer; source: KeyObject | Buffer }>();

beforeAll(async () => {
  const pairs = await Promise.all(WRAPPING_BITS.map((bits) => rsaKeyPair(bits)));
  WRAPPING_BITS.forEach((bits, i) => wrapping.set(bits, pairs[i]!));
  for (const bits of [128, 192, 256]) {
    const k = randomBytes(bits / 8);
    materials.set(`oct-${bits}`, { kty: 'oct-HSM', bytes: k, source: k });
  }
  const rsa = await Promise.all([2048, 3072, 4096].map((bits) => rsaKeyPair(bits)));
  [2048, 3072, 4096].forEach((bits, i) => {
    const key = rsa[i]!.privateKey;
    materials.set(`RSA-${bits}`, { kty: 'RSA-HSM', bytes: encodeKeyMaterial(key), source: key });
  });
  for (const crv of ['P-256', 'P-384', 'P-521']) {
    const key = await ecPrivateKey(crv);
    materials.set(`EC-${crv}`, { kty: 'EC-HSM', bytes: encodeKeyMaterial(key), source: key });
  }
});

const MATERIALS = ['oct-128', 'oct-192', 'oct-256', 'RSA-2048', 'RSA-3072', 'RSA-4096', 'EC-P-256', 'EC-P-384', 'EC-P-521'];
const MATRIX = ENCS.flatMap((enc) => MATERIALS.flatMap((material) => WRAPPING_BITS.map((bits) => ({ enc, material, bits }))));

describe('wrapKeyMaterial / unwrapKeyMaterial round trips', () => {
  test.each(MATRIX)('$enc, $material under RSA-$bits', async ({ enc, material, bits }) => {
    const { publicKey, privateKey } = wrapping.get(bits)!;
    const { kty, bytes, source } = materials.get(material)!;
    const ciphertext = await wrapKeyMaterial({ publicKey, material: bytes, enc });
    expect(ciphertext).toHaveLength(bits / 8 + 8 * Math.ceil(bytes.length / 8) + 8);

    expect(await unwrapKeyMaterial({ privateKey, ciphertext, enc })).toEqual(bytes);
    expect(independentUnwrap(privateKey, ciphertext, enc)).toEqual(bytes);
    expect(await unwrapKeyMaterial({ privateKey, ciphertext: independentWrap(publicKey, bytes, enc), enc })).toEqual(bytes);

    // Back to the JWK the sidecar hands out: the same key as the one stored.
    const jwk = materialToJwk(kty, bytes, ['unwrapKey']);
    expect(jwk.key_ops).toEqual(['unwrapKey']);
    if (Buffer.isBuffer(source)) expect(Buffer.from(jwk.k!, 'base64url')).toEqual(source);
    else expect(jwk).toEqual({ ...source.export({ format: 'jwk' }), key_ops: ['unwrapKey'] });
  });

  test('each wrap uses a fresh KEK: equal inputs give different ciphertexts', async () => {
    const { publicKey } = wrapping.get(2048)!;
    const material = materials.get('oct-256')!.bytes;
    const [a, b] = await Promise.all([wrapKeyMaterial({ publicKey, material }), wrapKeyMaterial({ publicKey, material })]);
    expect(a.subarray(256).equals(b.subarray(256))).toBe(false);
  });

  test('enc defaults to CKM_RSA_AES_KEY_WRAP (OAEP with SHA-1)', async () => {
    const { publicKey, privateKey } = wrapping.get(2048)!;
    const material = materials.get('oct-128')!.bytes;
    const ciphertext = await wrapKeyMaterial({ publicKey, material });
    expect(independentUnwrap(privateKey, ciphertext, 'CKM_RSA_AES_KEY_WRAP')).toEqual(material);
  });

  test('the wrapping key may be the public JWK from x-ms-runtime (kty RSA or RSA-HSM, extra members ignored)', async () => {
    const { publicKey, privateKey } = wrapping.get(3072)!;
    const { n, e } = publicKey.export({ format: 'jwk' });
    const material = materials.get('oct-256')!.bytes;
    for (const jwk of [
      { kty: 'RSA', n, e, key_ops: ['encrypt'], kid: 'k1' },
      { kty: 'RSA-HSM', n, e },
    ]) {
      const ciphertext = await wrapKeyMaterial({ publicKey: jwk, material, enc: 'RSA_AES_KEY_WRAP_256' });
      expect(await unwrapKeyMaterial({ privateKey: privateKey.export({ format: 'jwk' }), ciphertext, enc: 'RSA_AES_KEY_WRAP_256' })).toEqual(material);
    }
  });
});

describe('wrapKeyMaterial refuses what it cannot wrap safely', () => {
  const material = Buffer.alloc(32, 1);

  test.each([
    ['an RSA-1024 key', async () => (await rsaKeyPair(1024)).publicKey, /at least RSA-2048/],
    ['an EC key', async () => ecPrivateKey('P-256'), /not an RSA key/],
    ['an EC JWK', async () => (await ecPrivateKey('P-256')).export({ format: 'jwk' }), /not RSA/],
    ['a JWK without n', async () => ({ kty: 'RSA', e: 'AQAB' }), /not a usable public key/],
  ])('%s', async (_name, key, message) => {
    const publicKey = await key();
    await expect(wrapKeyMaterial({ publicKey, material })).rejects.toThrow(KeyWrapError);
    await expect(wrapKeyMaterial({ publicKey, material })).rejects.toThrow(message);
  });

  test('an unknown enc and empty material', async () => {
    const { publicKey } = wrapping.get(2048)!;
    await expect(wrapKeyMaterial({ publicKey, material, enc: 'RSA_AES_KEY_WRAP_512' as never })).rejects.toMatchObject({ code: 'key_wrap_failed', details: { enc: 'RSA_AES_KEY_WRAP_512' } });
    await expect(wrapKeyMaterial({ publicKey, material: Buffer.alloc(0) })).rejects.toThrow(KeyWrapError);
  });

  test(`MIN_WRAPPING_KEY_BITS is ${MIN_WRAPPING_KEY_BITS}`, () => expect(MIN_WRAPPING_KEY_BITS).toBe(2048));
});
