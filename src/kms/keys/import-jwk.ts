import { createECDH, createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { KmsBadParameter } from '../../errors';
import { decodeBase64Url, encodeBase64Url } from '../../lib/base64url';
import type { KeyFamily, KeyMaterial } from '../model';
import { CURVES, isCurveName, type CurveName } from './curves';

export const RSA_SIZES = [2048, 3072, 4096];
export const OCT_SIZES = [128, 192, 256];

const RSA_PRIVATE = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const;

/** A JWK member as canonical unpadded base64url; padded input is accepted (the sidecar pads). */
function member(jwk: Record<string, unknown>, name: string): string {
  const value = jwk[name];
  const bytes = typeof value === 'string' ? decodeBase64Url(value) : undefined;
  if (!bytes || bytes.length === 0) throw new KmsBadParameter(`JSON Web Key: ${name} must be a non-empty base64url string`);
  return encodeBase64Url(bytes);
}

function privateKey(jwk: JsonWebKey, family: string): KeyObject {
  try {
    return createPrivateKey({ key: jwk, format: 'jwk' });
  } catch {
    throw new KmsBadParameter(`JSON Web Key: not a valid ${family} private key`);
  }
}

function pointOf(curve: CurveName, d: string): { x: string; y: string } {
  const ecdh = createECDH(CURVES[curve].openssl);
  try {
    ecdh.setPrivateKey(Buffer.from(d, 'base64url'));
  } catch {
    throw new KmsBadParameter(`JSON Web Key: d is not a valid ${curve} private key`);
  }
  const publicKey = ecdh.getPublicKey();
  const size = (publicKey.length - 1) / 2;
  return { x: encodeBase64Url(publicKey.subarray(1, 1 + size)), y: encodeBase64Url(publicKey.subarray(1 + size)) };
}

/**
 * Private material from an imported JWK (Key Vault's `key` member). Public-only keys and BYOK
 * `key_hsm` blobs are refused; the public members, when given, must match the private key.
 */
export function materialFromJwk(jwk: unknown): { family: KeyFamily; material: KeyMaterial } {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new KmsBadParameter('key must be a JSON Web Key object');
  const key = jwk as Record<string, unknown>;
  if (key.key_hsm !== undefined) throw new KmsBadParameter('JSON Web Key: BYOK transfer blobs (key_hsm) are not supported; import the key itself');
  const family = typeof key.kty === 'string' ? key.kty.replace(/-HSM$/, '') : undefined;
  switch (family) {
    case 'oct': {
      const k = decodeBase64Url(member(key, 'k'))!;
      if (!OCT_SIZES.includes(k.length * 8)) throw new KmsBadParameter(`JSON Web Key: k of an oct key must be ${OCT_SIZES.join(', ')} bits`);
      return { family, material: { kind: 'oct', raw: k } };
    }
    case 'RSA': {
      const parts = Object.fromEntries(RSA_PRIVATE.map((name) => [name, member(key, name)]));
      const big = (name: string) => BigInt(`0x${decodeBase64Url(parts[name]!)!.toString('hex')}`);
      // OpenSSL loads a JWK whose primes do not multiply to n; such a key must not be stored.
      if (big('p') * big('q') !== big('n')) throw new KmsBadParameter('JSON Web Key: p and q do not match n');
      // Nor one whose e does not belong to d: its signatures would never verify, and it could
      // not decrypt what is encrypted to its public half. e·d ≡ 1 modulo p−1 and q−1 (so modulo
      // their lcm), and the CRT exponents OpenSSL signs with must agree.
      const [e, d, p1, q1] = [big('e'), big('d'), big('p') - 1n, big('q') - 1n];
      if ((e * d) % p1 !== 1n || (e * d) % q1 !== 1n || (e * big('dp')) % p1 !== 1n || (e * big('dq')) % q1 !== 1n) {
        throw new KmsBadParameter('JSON Web Key: e does not match d, p and q');
      }
      const object = privateKey({ kty: 'RSA', ...parts }, 'RSA');
      const bits = object.asymmetricKeyDetails?.modulusLength ?? 0;
      if (!RSA_SIZES.includes(bits)) throw new KmsBadParameter(`JSON Web Key: RSA keys must be ${RSA_SIZES.join(', ')} bits, not ${bits}`);
      return { family, material: { kind: 'RSA', pkcs8: object.export({ format: 'der', type: 'pkcs8' }) } };
    }
    case 'EC': {
      if (!isCurveName(key.crv)) throw new KmsBadParameter(`JSON Web Key: crv must be one of ${Object.keys(CURVES).join(', ')}`);
      const [x, y, d] = ['x', 'y', 'd'].map((name) => member(key, name));
      // node:crypto keeps whatever x/y it is given next to d; the point is recomputed from d so
      // that an inconsistent key is refused rather than stored.
      const point = pointOf(key.crv, d!);
      if (point.x !== x || point.y !== y) throw new KmsBadParameter('JSON Web Key: x and y do not match d');
      const object = privateKey({ kty: 'EC', crv: CURVES[key.crv].jwk, ...point, d }, 'EC');
      return { family, material: { kind: 'EC', pkcs8: object.export({ format: 'der', type: 'pkcs8' }) } };
    }
    default:
      throw new KmsBadParameter('JSON Web Key: kty must be RSA, RSA-HSM, EC, EC-HSM, oct or oct-HSM');
  }
}
