import { constants, createHash, generateKeyPair, publicEncrypt, verify, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { unwrapKeyMaterial, wrapKeyMaterial } from '../../src/keywrap';
import { performCrypto } from '../../src/kms/crypto/perform';
import { rsaPrivate } from '../../src/lib/rsa-private';

const generate = promisify(generateKeyPair);
const rsa = (bits: number) => generate('rsa', { modulusLength: bits }) as Promise<{ publicKey: KeyObject; privateKey: KeyObject }>;

/**
 * How many turns the event loop made while `operation` ran: a recurring setImmediate counts
 * them until the operation settles. An operation that holds the thread settles with zero.
 */
async function loopTurnsDuring<T>(operation: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  try {
    return { result: await operation(), turns };
  } finally {
    running = false;
  }
}

describe('RSA private-key operations of 3072 bits and more leave the event loop free', () => {
  let rsa4096: { publicKey: KeyObject; privateKey: KeyObject };
  let rsa3072: { publicKey: KeyObject; privateKey: KeyObject };

  beforeAll(async () => {
    [rsa4096, rsa3072] = await Promise.all([rsa(4096), rsa(3072)]);
  });

  test.each([
    ['RSA-4096', () => rsa4096],
    ['RSA-3072', () => rsa3072],
  ])('%s OAEP decrypt: the loop turns while it runs, and the plaintext is right', async (_name, pair) => {
    const secret = Buffer.from('a 32-byte key-encryption key....');
    const ciphertext = publicEncrypt({ key: pair().publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, secret);
    const { result, turns } = await loopTurnsDuring(() => rsaPrivate({ op: 'decrypt', key: pair().privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', data: ciphertext }));
    expect(result).toEqual(secret);
    expect(turns).toBeGreaterThan(0);
  });

  test('a failure on a worker is undefined, without a reason, and the pool goes on serving', async () => {
    const garbage = Buffer.alloc(512, 0x01);
    await expect(rsaPrivate({ op: 'decrypt', key: rsa4096.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1', data: garbage })).resolves.toBeUndefined();
    const ciphertext = publicEncrypt({ key: rsa4096.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from('after'));
    await expect(rsaPrivate({ op: 'decrypt', key: rsa4096.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1', data: ciphertext })).resolves.toEqual(Buffer.from('after'));
  });

  test('more operations than workers in flight at once: each gets its own answer', async () => {
    const secrets = Array.from({ length: 12 }, (_, i) => Buffer.from(`secret number ${i}`));
    const ciphertexts = secrets.map((s) => publicEncrypt({ key: rsa4096.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, s));
    const plaintexts = await Promise.all(ciphertexts.map((data) => rsaPrivate({ op: 'decrypt', key: rsa4096.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1', data })));
    expect(plaintexts).toEqual(secrets);
  });

  test('the TEE-side unwrap of a release to an RSA-4096 key turns the loop and returns the material', async () => {
    const material = Buffer.alloc(32, 0x7e);
    const ciphertext = await wrapKeyMaterial({ publicKey: rsa4096.publicKey, material, enc: 'RSA_AES_KEY_WRAP_256' });
    const { result, turns } = await loopTurnsDuring(() => unwrapKeyMaterial({ privateKey: rsa4096.privateKey, ciphertext, enc: 'RSA_AES_KEY_WRAP_256' }));
    expect(result).toEqual(material);
    expect(turns).toBeGreaterThan(0);
  });

  describe('the KMS on an RSA-4096 key', () => {
    const material = () => ({ kind: 'RSA' as const, pkcs8: rsa4096.privateKey.export({ format: 'der', type: 'pkcs8' }) });
    const publicJwk = () => ({ ...rsa4096.publicKey.export({ format: 'jwk' }), kty: 'RSA' }) as never;
    const digest = createHash('sha256').update('a message').digest();

    test.each(['RS256', 'PS256'])('sign %s turns the loop, and the signature verifies', async (alg) => {
      const { result, turns } = await loopTurnsDuring(() => performCrypto('sign', material(), publicJwk(), { alg, value: digest }));
      const padding = alg === 'PS256' ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : { padding: constants.RSA_PKCS1_PADDING };
      expect(verify('sha256', Buffer.from('a message'), { key: rsa4096.publicKey, ...padding }, result.value!)).toBe(true);
      expect(turns).toBeGreaterThan(0);
    });

    test.each(['RSA-OAEP', 'RSA-OAEP-256', 'RSA1_5'])('decrypt %s turns the loop, and the plaintext is right', async (alg) => {
      const plaintext = Buffer.from('sixteen byte key');
      const encrypted = await performCrypto('encrypt', material(), publicJwk(), { alg, value: plaintext });
      const { result, turns } = await loopTurnsDuring(() => performCrypto('decrypt', material(), publicJwk(), { alg, value: encrypted.value! }));
      expect(result.value).toEqual(plaintext);
      expect(turns).toBeGreaterThan(0);
    });
  });
});
