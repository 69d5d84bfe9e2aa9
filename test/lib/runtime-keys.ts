import { checkPrimeSync, generateKeyPairSync, generatePrimeSync, randomBytes, type JsonWebKey } from 'node:crypto';

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

const toBytes = (n: bigint) => Buffer.from(n.toString(16).padStart(Math.ceil(n.toString(16).length / 2) * 2, '0'), 'hex');

function nextPrime(from: bigint): bigint {
  let candidate = from | 1n;
  while (!checkPrimeSync(candidate)) candidate += 2n;
  return candidate;
}

/**
 * Moduli of the right shape (odd, 2048–2050 bits) that anyone can factor from the public key:
 * a prime, a multiple of a small prime, a square, and p·q with q − p ≈ 2^517, which Fermat's
 * method reaches in about a hundred steps from ⌈√n⌉ (not the first, so the walk is exercised).
 */
function weakModuli(): { name: string; n: bigint; reason: string }[] {
  const prime = generatePrimeSync(2048, { bigint: true });
  const odd = BigInt(`0x${randomBytes(254).toString('hex')}`) | (1n << 2031n) | 1n;
  const p = generatePrimeSync(1025, { bigint: true });
  return [
    { name: 'a prime modulus', n: prime, reason: 'rsa_modulus_prime' },
    { name: 'a modulus with the factor 65521', n: 65521n * odd, reason: 'rsa_modulus_small_factor' },
    { name: 'a square modulus', n: p * p, reason: 'rsa_modulus_square' },
    { name: 'a modulus whose factors are close', n: p * nextPrime(p + (1n << 517n)), reason: 'rsa_modulus_close_factors' },
  ];
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
    ...weakModuli().map(({ name, n, reason }) => ({ name, jwk: { ...rsa2048, n: b64(toBytes(n)) }, reason })),
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
