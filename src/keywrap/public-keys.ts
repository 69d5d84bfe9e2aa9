import { createPublicKey, type KeyObject } from 'node:crypto';
import { BoundedMap } from '../lib/bounded-map';

/**
 * Public keys met as JWKs (a token's `x-ms-runtime` key), kept by modulus and exponent: one TEE
 * key serves every release until it rotates, and importing it costs more than using it. The
 * oldest is dropped past the bound.
 */
const MAX_PUBLIC_KEYS = 256;
const publicKeys = new BoundedMap<string, KeyObject>(MAX_PUBLIC_KEYS);

export function rsaPublicKeyFromJwk(n: string, e: string): KeyObject {
  const id = `${n}.${e}`;
  let key = publicKeys.get(id);
  if (!key) {
    key = createPublicKey({ key: { kty: 'RSA', n, e }, format: 'jwk' });
    publicKeys.set(id, key);
  }
  return key;
}
