import { constants, createDecipheriv, generateKeyPairSync, privateDecrypt, type KeyObject } from 'node:crypto';
import { FlattenedEncrypt, flattenedDecrypt } from 'jose';
import { decryptFromKbs, encryptToTee } from '../../src/kbs/jwe';
import { teePubkeyOf, type TeePubkey } from '../../src/kbs/tee-pubkey';

const CASES: { name: string; alg: TeePubkey['alg']; pair: () => ReturnType<typeof generateKeyPairSync> }[] = [
  { name: 'RSA-OAEP-256', alg: 'RSA-OAEP-256', pair: () => generateKeyPairSync('rsa', { modulusLength: 2048 }) },
  { name: 'RSA1_5', alg: 'RSA1_5', pair: () => generateKeyPairSync('rsa', { modulusLength: 2048 }) },
  { name: 'ECDH-ES+A256KW P-256', alg: 'ECDH-ES+A256KW', pair: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }) },
  { name: 'ECDH-ES+A256KW P-521', alg: 'ECDH-ES+A256KW', pair: () => generateKeyPairSync('ec', { namedCurve: 'P-521' }) },
];
/** RFC 7516 decryption for RSA1_5 by hand: raw RSA, the PKCS#1 v1.5 type-2 padding stripped, then A256GCM. */
function openRsa15(jwe: Record<string, string>, privateKey: KeyObject): Buffer {
  const block = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, Buffer.from(jwe.encrypted_key!, 'base64url'));
  expect(block.subarray(0, 2)).toEqual(Buffer.from([0, 2]));
  const cek = block.subarray(block.indexOf(0, 2) + 1);
  expect(cek).toHaveLength(32);
  const decipher = createDecipheriv('aes-256-gcm', cek, Buffer.from(jwe.iv!, 'base64url'));
  decipher.setAAD(Buffer.from(jwe.protected!, 'ascii'));
  decipher.setAuthTag(Buffer.from(jwe.tag!, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(jwe.ciphertext!, 'base64url')), decipher.final()]);
}

const SECRET = Buffer.from('resource bytes \u0000\u00ff', 'latin1');

describe('the resource JWE', () => {
  test.each(CASES)('$name: jose decrypts what the KBS encrypts, with the AAD being the protected string', async ({ alg, pair }) => {
    const { publicKey, privateKey } = pair();
    const jwe = await encryptToTee(SECRET, teePubkeyOf(publicKey, alg));
    if (alg === 'RSA1_5') {
      // Node refuses PKCS#1 v1.5 decryption (CVE-2023-46809), jose with it: open it by hand.
      expect(openRsa15(jwe as unknown as Record<string, string>, privateKey)).toEqual(SECRET);
      return;
    }
    const { plaintext, protectedHeader } = await flattenedDecrypt(jwe, privateKey);
    expect(Buffer.from(plaintext)).toEqual(SECRET);
    expect(protectedHeader).toMatchObject({ alg, enc: 'A256GCM' });
  });

  test.each(CASES.filter((c) => c.alg !== 'RSA1_5'))('$name: the client decrypts what jose encrypts', async ({ alg, pair }) => {
    const { publicKey, privateKey } = pair();
    const jwe = await new FlattenedEncrypt(SECRET).setProtectedHeader({ alg, enc: 'A256GCM' }).encrypt(publicKey);
    expect(decryptFromKbs(jwe, privateKey)).toEqual(SECRET);
  });

  test.each(CASES)("$name: members are unpadded base64url, no aad, header members in trustee's order", async ({ alg, pair }) => {
    const { publicKey } = pair();
    const jwe = await encryptToTee(SECRET, teePubkeyOf(publicKey, alg));
    expect(Object.keys(jwe)).toEqual(['protected', 'encrypted_key', 'iv', 'ciphertext', 'tag']);
    for (const value of Object.values(jwe)) expect(value).toMatch(/^[A-Za-z0-9_-]+$/);
    const header = Buffer.from(jwe.protected, 'base64url').toString('utf8');
    if (alg === 'ECDH-ES+A256KW') {
      expect(header).toMatch(/^\{"alg":"ECDH-ES\+A256KW","enc":"A256GCM","epk":\{"crv":"P-(256|521)","kty":"EC","x":"[A-Za-z0-9_-]+","y":"[A-Za-z0-9_-]+"\}\}$/);
      expect(Buffer.from(jwe.encrypted_key, 'base64url')).toHaveLength(40);
    } else {
      expect(header).toBe(`{"alg":"${alg}","enc":"A256GCM"}`);
    }
    expect(Buffer.from(jwe.iv, 'base64url')).toHaveLength(12);
    expect(Buffer.from(jwe.tag, 'base64url')).toHaveLength(16);
  });

  test('a tampered header fails authentication', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwe = await encryptToTee(SECRET, teePubkeyOf(publicKey, 'ECDH-ES+A256KW'));
    const header = JSON.parse(Buffer.from(jwe.protected, 'base64url').toString('utf8'));
    const reordered = Buffer.from(JSON.stringify({ enc: header.enc, alg: header.alg, epk: header.epk })).toString('base64url');
    expect(() => decryptFromKbs({ ...jwe, protected: reordered }, privateKey)).toThrow();
  });

  test("the reference's AAD vector: the protected string of {alg:fakealg, enc:fakeenc}", () => {
    expect(Buffer.from(JSON.stringify({ alg: 'fakealg', enc: 'fakeenc' })).toString('base64url')).toBe('eyJhbGciOiJmYWtlYWxnIiwiZW5jIjoiZmFrZWVuYyJ9');
  });
});
