import { createHash, createPublicKey } from 'node:crypto';
import { RuntimeKeyUnsafe } from '../errors';
import { decodeBase64Url } from './base64url';
import { BoundedMap } from './bounded-map';
import { weakModulusReason, type WeakModulusReason } from './rsa-modulus';

/**
 * Whether a TEE's runtime key (a JWK in `x-ms-runtime.keys`) protects what is wrapped to it. The
 * verifier refuses evidence carrying a key that does not, and the KMS refuses to release to one:
 * an RSA key with e = 1 makes RSA-OAEP the identity, a small or even modulus factors, and an EC
 * point off its curve leaks the private scalar to whoever does ECDH with it.
 *
 * RSA: e = 65537 exactly and an odd modulus of RSA_MIN_BITS..RSA_MAX_BITS bits, counted from
 * the decoded modulus (leading zero bytes do not add length), that no one can factor from the
 * public key alone (rsa-modulus.ts: not prime, no small factor, not a square, factors not
 * close). EC: a named curve of
 * EC_CURVES with coordinates of the curve's exact length and a point on the curve (node:crypto
 * refuses off-curve JWK points when it imports them).
 */
export const RSA_MIN_BITS = 2048;
export const RSA_MAX_BITS = 8192;
export const RSA_EXPONENT = 65537n;
/** Coordinate length in bytes of each accepted curve. */
export const EC_CURVES: Readonly<Record<string, number>> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };

/** base64url of an RSA_MAX_BITS modulus with some leading zeros, at most: longer is refused before decoding. */
const MAX_MEMBER_CHARS = 2 * Math.ceil(((RSA_MAX_BITS / 8) * 4) / 3);

function member(jwk: Record<string, unknown>, name: string): Buffer {
  const text = jwk[name];
  const bytes = typeof text === 'string' && text.length <= MAX_MEMBER_CHARS ? decodeBase64Url(text) : undefined;
  if (!bytes || bytes.length === 0) throw new RuntimeKeyUnsafe('malformed', `the runtime key's ${name} is not base64url`, { member: name });
  return bytes;
}

function bitLength(bytes: Buffer): number {
  const first = bytes.findIndex((b) => b !== 0);
  if (first < 0) return 0;
  return (bytes.length - first - 1) * 8 + (32 - Math.clz32(bytes[first]!));
}

const WEAK_MODULUS_MESSAGES: Record<WeakModulusReason, string> = {
  rsa_modulus_prime: "the runtime key's RSA modulus is prime",
  rsa_modulus_small_factor: "the runtime key's RSA modulus has a small factor",
  rsa_modulus_square: "the runtime key's RSA modulus is a perfect square",
  rsa_modulus_close_factors: "the runtime key's RSA modulus has factors close enough to find",
};

/**
 * Verdicts by SHA-256 of the modulus: a TEE presents the same runtime key on every attest and
 * release, and the primality test is the one costly step.
 */
const MAX_VERDICTS = 1024;
const verdicts = new BoundedMap<string, WeakModulusReason | null>(MAX_VERDICTS);

async function checkModulus(n: Buffer): Promise<void> {
  const id = createHash('sha256')
    .update(n.subarray(n.findIndex((b) => b !== 0)))
    .digest('base64url');
  let verdict = verdicts.get(id);
  if (verdict === undefined) {
    verdict = (await weakModulusReason(BigInt(`0x${n.toString('hex')}`))) ?? null;
    verdicts.set(id, verdict);
  }
  if (verdict !== null) throw new RuntimeKeyUnsafe(verdict, WEAK_MODULUS_MESSAGES[verdict]);
}

async function checkRsa(jwk: Record<string, unknown>): Promise<void> {
  const e = BigInt(`0x${member(jwk, 'e').toString('hex')}`);
  if (e !== RSA_EXPONENT) throw new RuntimeKeyUnsafe('rsa_exponent', `the runtime key's RSA exponent must be ${RSA_EXPONENT}`);
  const n = member(jwk, 'n');
  if ((n[n.length - 1]! & 1) === 0) throw new RuntimeKeyUnsafe('rsa_modulus_even', "the runtime key's RSA modulus is even");
  const bits = bitLength(n);
  if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
    throw new RuntimeKeyUnsafe('rsa_modulus_size', `the runtime key's RSA modulus has ${bits} bits; ${RSA_MIN_BITS} to ${RSA_MAX_BITS} are accepted`, { modulusBits: bits });
  }
  await checkModulus(n);
}

function checkEc(jwk: Record<string, unknown>): void {
  const crv = jwk.crv;
  const size = typeof crv === 'string' && Object.hasOwn(EC_CURVES, crv) ? EC_CURVES[crv] : undefined;
  if (size === undefined) throw new RuntimeKeyUnsafe('ec_curve', `the runtime key's curve must be one of ${Object.keys(EC_CURVES).join(', ')}`);
  if (member(jwk, 'x').length !== size || member(jwk, 'y').length !== size) {
    throw new RuntimeKeyUnsafe('malformed', `the runtime key's coordinates must be ${size} bytes each on ${String(crv)}`);
  }
  try {
    createPublicKey({ key: { kty: 'EC', crv: crv as string, x: jwk.x as string, y: jwk.y as string }, format: 'jwk' });
  } catch {
    throw new RuntimeKeyUnsafe('ec_point', "the runtime key's point is not on its curve");
  }
}

/** Rejects with RuntimeKeyUnsafe unless `jwk` is an RSA or EC public key that protects what is wrapped to it. */
export async function checkRuntimeKey(jwk: unknown): Promise<void> {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new RuntimeKeyUnsafe('malformed', 'a runtime key must be a JWK object');
  const key = jwk as Record<string, unknown>;
  if (key.kty === 'RSA') return checkRsa(key);
  if (key.kty === 'EC') return checkEc(key);
  throw new RuntimeKeyUnsafe('kty_unsupported', 'a runtime key must be RSA or EC', { kty: typeof key.kty === 'string' ? key.kty.slice(0, 16) : undefined });
}

/**
 * Checks every JWK (an object with `kty`) in JSON runtime data's `keys`, the JWKS a TEE
 * publishes. Entries without `kty` are not keys any relying party can wrap to, and runtime data
 * is free-form JSON otherwise (MAA passes it through), so those are left alone.
 */
export async function checkRuntimeKeys(runtime: unknown): Promise<void> {
  const keys = typeof runtime === 'object' && runtime !== null ? (runtime as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys)) return;
  for (const key of keys) {
    if (typeof key === 'object' && key !== null && 'kty' in key) await checkRuntimeKey(key);
  }
}
