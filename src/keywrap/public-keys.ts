import { createPublicKey, type KeyObject } from 'node:crypto';

/**
 * Public keys met as JWKs (a token's `x-ms-runtime` key), kept by modulus and exponent: one TEE
 * key serves every release until it rotates, and importing it costs more than using it. The
 * oldest is dropped past the bound.
 */
const MAX_PUBLIC_KEYS = 256;
const publicKeys = new Map<string, KeyObject>();

export function rsaPublicKeyFromJwk(n: string, e: string): KeyObject {
  const id = `${n}.${e}`;
  let key = publicKeys.get(id);
  if (!key) {
    key = createPublicKey({ key: { kty: 'RSA', n, e }, format: 'jwk' });
    if (publicKeys.size >= MAX_PUBLIC_KEYS) publicKeys.delete(publicKeys.keys().next().value!);
    publicKeys.set(id, key);
  }
  return key;
}
