import { generateKeyPairSync } from 'node:crypto';
import { CompactSign, compactVerify } from 'jose';
import { CompactJwsSigner, verifyCompactJws, type JwsAlgorithm } from '../../src/lib/jws';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
const payload = Buffer.from(JSON.stringify({ hello: 'world', n: 1 }));

describe.each<JwsAlgorithm>(['RS256', 'PS256'])('%s', (alg) => {
  test('what we sign, jose verifies; what jose signs, we verify', async () => {
    const ours = await new CompactJwsSigner({ alg, kid: 'k' }, privateKey).sign(payload);
    const checked = await compactVerify(ours, publicKey, { algorithms: [alg] });
    expect(Buffer.from(checked.payload)).toEqual(payload);
    expect(checked.protectedHeader).toEqual({ alg, kid: 'k' });

    const theirs = await new CompactSign(payload).setProtectedHeader({ alg }).sign(privateKey);
    expect(verifyCompactJws(theirs, alg, publicKey)).toEqual(payload);
  });

  test('another key, another algorithm, a changed byte or a malformed JWS verify nothing', async () => {
    const jws = await new CompactJwsSigner({ alg }, privateKey).sign(payload);
    expect(verifyCompactJws(jws, alg, other)).toBeUndefined();
    expect(verifyCompactJws(jws, alg === 'RS256' ? 'PS256' : 'RS256', publicKey)).toBeUndefined();
    const [h, p, s] = jws.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ hello: 'world', n: 2 })).toString('base64url')}.${s}`;
    expect(verifyCompactJws(tampered, alg, publicKey)).toBeUndefined();
    for (const bad of [`${h}.${p}`, `${h}.${p}.${s}.x`, `${h}.${p}.${s}=`, `${h}.${p}+.${s}`, '..', '']) {
      expect(verifyCompactJws(bad, alg, publicKey)).toBeUndefined();
    }
  });
});

test('signatures made together on the thread pool each belong to their own payload (RS256 is deterministic)', async () => {
  const signer = new CompactJwsSigner({ alg: 'RS256', kid: 'k' }, privateKey);
  const payloads = Array.from({ length: 8 }, (_, n) => Buffer.from(JSON.stringify({ n })));
  const signed = await Promise.all(payloads.map((p) => signer.sign(p)));
  signed.forEach((jws, n) => expect(verifyCompactJws(jws, 'RS256', publicKey)).toEqual(payloads[n]));
  expect(await signer.sign(payloads[0]!)).toBe(signed[0]);
});

test('only an RSA private key signs: an EC key would give an ECDSA signature under an RSA header', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  expect(() => new CompactJwsSigner({ alg: 'PS256' }, ec)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  expect(() => new CompactJwsSigner({ alg: 'RS256' }, publicKey)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
});

test('an EC key cannot verify an RSA signature: nothing, not an exception', async () => {
  const jws = await new CompactJwsSigner({ alg: 'RS256' }, privateKey).sign(payload);
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  expect(verifyCompactJws(jws, 'RS256', ec)).toBeUndefined();
});
