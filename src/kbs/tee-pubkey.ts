import { createPublicKey, type KeyObject } from 'node:crypto';
import { KbsTeePubkeyUnsupported } from '../errors';

/**
 * The TEE's public key from runtime-data, as kbs-types' TeePubKey (tagged by `kty`): only the
 * members trustee parses, in the order guest-components writes them. Unknown members are
 * dropped, as trustee drops them, so the REPORT_DATA hash is over the same object on both
 * sides. Only the key-management algorithms a response can be wrapped with are accepted.
 */
export type TeePubkey = { kty: 'EC'; crv: 'P-256' | 'P-521'; alg: 'ECDH-ES+A256KW'; x: string; y: string } | { kty: 'RSA'; alg: 'RSA-OAEP-256' | 'RSA1_5'; n: string; e: string };

const EC_COORDINATE_BYTES = { 'P-256': 32, 'P-521': 66 } as const;
const RSA_MIN_BITS = 2048;
const RSA_MAX_BITS = 8192;
const B64URL = /^[A-Za-z0-9_-]+$/;

function b64url(value: unknown, name: string): string {
  if (typeof value !== 'string' || !B64URL.test(value) || value.length > 2048) throw new KbsTeePubkeyUnsupported(`${name} is unpadded base64url`);
  return value;
}

export function parseTeePubkey(value: unknown): TeePubkey {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new KbsTeePubkeyUnsupported('not a JWK object');
  const jwk = value as Record<string, unknown>;
  const own = (name: string) => (Object.hasOwn(jwk, name) ? jwk[name] : undefined);
  const kty = own('kty');
  const alg = own('alg');
  if (kty === 'EC') {
    const crv = own('crv');
    if (crv !== 'P-256' && crv !== 'P-521') throw new KbsTeePubkeyUnsupported('crv must be P-256 or P-521');
    if (alg !== 'ECDH-ES+A256KW') throw new KbsTeePubkeyUnsupported('an EC tee-pubkey has alg ECDH-ES+A256KW');
    const x = b64url(own('x'), 'x');
    const y = b64url(own('y'), 'y');
    const size = EC_COORDINATE_BYTES[crv];
    if (Buffer.from(x, 'base64url').length !== size || Buffer.from(y, 'base64url').length !== size) throw new KbsTeePubkeyUnsupported(`${crv} coordinates are ${size} bytes`);
    const key: TeePubkey = { kty, crv, alg, x, y };
    toKeyObject(key);
    return key;
  }
  if (kty === 'RSA') {
    if (alg !== 'RSA-OAEP-256' && alg !== 'RSA1_5') throw new KbsTeePubkeyUnsupported('an RSA tee-pubkey has alg RSA-OAEP-256 or RSA1_5');
    const key: TeePubkey = { kty, alg, n: b64url(own('n'), 'n'), e: b64url(own('e'), 'e') };
    const bits = toKeyObject(key).asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) throw new KbsTeePubkeyUnsupported(`RSA modulus must be ${RSA_MIN_BITS}..${RSA_MAX_BITS} bits`);
    return key;
  }
  throw new KbsTeePubkeyUnsupported('kty must be EC or RSA');
}

/** The key as node:crypto holds it; an EC point off its curve is refused here. */
export function toKeyObject(key: TeePubkey): KeyObject {
  try {
    return key.kty === 'EC' ? createPublicKey({ key: { kty: 'EC', crv: key.crv, x: key.x, y: key.y }, format: 'jwk' }) : createPublicKey({ key: { kty: 'RSA', n: key.n, e: key.e }, format: 'jwk' });
  } catch {
    throw new KbsTeePubkeyUnsupported('not a valid public key');
  }
}

/** The public half of a key pair in TeePubKey form, members in guest-components' order. */
export function teePubkeyOf(publicKey: KeyObject, alg: TeePubkey['alg']): TeePubkey {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty === 'EC' && (jwk.crv === 'P-256' || jwk.crv === 'P-521') && alg === 'ECDH-ES+A256KW') return { kty: 'EC', crv: jwk.crv, alg, x: jwk.x!, y: jwk.y! };
  if (jwk.kty === 'RSA' && (alg === 'RSA-OAEP-256' || alg === 'RSA1_5')) return { kty: 'RSA', alg, n: jwk.n!, e: jwk.e! };
  throw new KbsTeePubkeyUnsupported(`a ${String(jwk.kty)} key cannot be used with ${alg}`);
}
