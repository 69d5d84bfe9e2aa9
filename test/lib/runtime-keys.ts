import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';

/**
 * TEE runtime keys for the tests of every place that takes one (src/lib/runtime-key.ts): the
 * ones a release must never be wrapped to, each with the reason it is refused, and good ones.
 */
const jwkOf = (type: 'rsa' | 'ec', options: { modulusLength?: number; namedCurve?: string }): JsonWebKey =>
  (type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: options.modulusLength! }) : generateKeyPairSync('ec', { namedCurve: options.namedCurve! })).publicKey.export({ format: 'jwk' });

const b64 = (bytes: Buffer) => bytes.toString('base64url');

export function goodRuntimeKeys(): Record<string, JsonWebKey> {
  return {
    'RSA-2048': jwkOf('rsa', { modulusLength: 2048 }),
    'RSA-4096': jwkOf('rsa', { modulusLength: 4096 }),
  };
}

export function goodEcRuntimeKeys(): Record<string, JsonWebKey> {
  return {
    'EC P-256': jwkOf('ec', { namedCurve: 'P-256' }),
    'EC P-384': jwkOf('ec', { namedCurve: 'P-384' }),
    'EC P-521': jwkOf('ec', { namedCurve: 'P-521' }),
  };
}

export interface UnsafeKey {
  name: string;
  jwk: JsonWebKey;
  reason: string;
}

export function unsafeRsaKeys(): UnsafeKey[] {
  const rsa2048 = jwkOf('rsa', { modulusLength: 2048 });
  const n = Buffer.from(rsa2048.n!, 'base64url');
  const even = Buffer.from(n);
  even[even.length - 1]! &= 0xfe;
  const rsa1024 = jwkOf('rsa', { modulusLength: 1024 });
  // Odd and of the right exponent; only its length (16384 bits) is wrong. Generating a real one takes minutes.
  const huge = Buffer.alloc(2048, 0xff);
  return [
    { name: 'e = 1', jwk: { ...rsa2048, e: 'AQ' }, reason: 'rsa_exponent' },
    { name: 'e = 3', jwk: { ...rsa2048, e: 'Aw' }, reason: 'rsa_exponent' },
    { name: 'e = 65539', jwk: { ...rsa2048, e: b64(Buffer.from([1, 0, 3])) }, reason: 'rsa_exponent' },
    { name: 'an even modulus', jwk: { ...rsa2048, n: b64(even) }, reason: 'rsa_modulus_even' },
    { name: 'RSA-1024', jwk: rsa1024, reason: 'rsa_modulus_size' },
    { name: 'RSA-1024 padded with zero bytes to 2048 bits', jwk: { ...rsa1024, n: b64(Buffer.concat([Buffer.alloc(128), Buffer.from(rsa1024.n!, 'base64url')])) }, reason: 'rsa_modulus_size' },
    { name: 'RSA-16384', jwk: { ...rsa2048, n: b64(huge) }, reason: 'rsa_modulus_size' },
    { name: 'a modulus that is not base64url', jwk: { ...rsa2048, n: `${rsa2048.n!}*` }, reason: 'malformed' },
  ];
}

export function unsafeEcKeys(): UnsafeKey[] {
  const p256 = jwkOf('ec', { namedCurve: 'P-256' });
  const offCurve = Buffer.from(p256.y!, 'base64url');
  offCurve[offCurve.length - 1]! ^= 1;
  return [
    { name: 'an EC point off its curve', jwk: { ...p256, y: b64(offCurve) }, reason: 'ec_point' },
    { name: 'an unknown curve (secp256k1)', jwk: jwkOf('ec', { namedCurve: 'secp256k1' }), reason: 'ec_curve' },
    { name: 'P-256 coordinates on P-384', jwk: { ...p256, crv: 'P-384' }, reason: 'malformed' },
    { name: 'an OKP key', jwk: generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }), reason: 'kty_unsupported' },
  ];
}
