import { createECDH, createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { ecdsaSign, ecdsaVerify, curveParams } from '../../../src/kms/crypto/ecdsa';
import { CURVES, type CurveName } from '../../../src/kms/keys/curves';

/** The prehash ECDSA against node:crypto (which hashes for itself) on every Key Vault curve. */
const cases = (Object.keys(CURVES) as CurveName[]).map((curve) => [curve, `sha${CURVES[curve].digestBytes * 8}`] as const);

test.each(cases)('%s: the group order is right ((n-1)·G = -G) and the generator is OpenSSL’s', (curve) => {
  const c = curveParams(curve);
  const ecdh = createECDH(CURVES[curve].openssl);
  ecdh.setPrivateKey(Buffer.from((c.n - 1n).toString(16).padStart(c.bytes * 2, '0'), 'hex'));
  const point = ecdh.getPublicKey();
  expect(BigInt(`0x${point.subarray(1, 1 + c.bytes).toString('hex')}`)).toBe(c.gx);
  expect(BigInt(`0x${point.subarray(1 + c.bytes).toString('hex')}`)).toBe(c.p - c.gy);
});

test.each(cases)('%s: our signatures verify in node:crypto and node:crypto’s verify here', (curve, hash) => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: CURVES[curve].openssl });
  for (let i = 0; i < 5; i++) {
    const message = Buffer.from(`message ${i}`);
    const digest = createHash(hash).update(message).digest();
    const ours = ecdsaSign(privateKey, curve, digest);
    expect(verify(hash, message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, ours)).toBe(true);
    const theirs = sign(hash, message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    expect(ecdsaVerify(publicKey, curve, digest, theirs)).toBe(true);
    expect(ecdsaVerify(publicKey, curve, createHash(hash).update('other').digest(), theirs)).toBe(false);
  }
});
