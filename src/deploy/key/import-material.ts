import { createPrivateKey, type JsonWebKey as NodeJwk } from 'node:crypto';
import type { JsonWebKey } from '@azure/keyvault-keys';
import { InvalidArgument } from '../../errors';
import type { HsmKeyType } from './key-spec';

const FAMILY: Record<HsmKeyType, string> = { 'RSA-HSM': 'RSA', 'EC-HSM': 'EC', 'oct-HSM': 'oct' };
const BINARY_FIELDS = ['n', 'e', 'd', 'dp', 'dq', 'qi', 'p', 'q', 'k', 'x', 'y'] as const;
const PRIVATE_FIELD: Record<string, string> = { RSA: 'd', EC: 'd', oct: 'k' };

function parseMaterial(bytes: Buffer): NodeJwk {
  const text = bytes.toString('utf8').trim();
  if (text.startsWith('-----BEGIN')) {
    try {
      return createPrivateKey(text).export({ format: 'jwk' });
    } catch {
      throw new InvalidArgument('--key: the PEM is not a private key node can read (PKCS#8, PKCS#1 or SEC1)', { flag: 'key' });
    }
  }
  try {
    const jwk = JSON.parse(text) as unknown;
    if (jwk !== null && typeof jwk === 'object' && !Array.isArray(jwk)) return jwk as NodeJwk;
  } catch {
    // reported below
  }
  throw new InvalidArgument('--key must be a private JWK (JSON) or a PEM private key', { flag: 'key' });
}

/**
 * The key to import, as the SDK takes it: binary fields as bytes and `kty` set to the HSM type,
 * which (with hardwareProtected) is how Key Vault Premium and Managed HSM take plaintext
 * material into the HSM. The file must hold private material of the same family as --kty.
 */
export function importMaterial(bytes: Buffer, kty: HsmKeyType): JsonWebKey {
  const jwk = parseMaterial(bytes);
  const family = typeof jwk.kty === 'string' ? jwk.kty.replace(/-HSM$/, '') : undefined;
  if (family !== FAMILY[kty]) throw new InvalidArgument(`--key holds a ${family ?? 'untyped'} key, but --kty is ${kty}`, { flag: 'key' });
  if (typeof jwk[PRIVATE_FIELD[family]] !== 'string') throw new InvalidArgument('--key holds no private material', { flag: 'key' });

  const key: JsonWebKey = { kty };
  for (const field of BINARY_FIELDS) {
    const value = jwk[field];
    if (typeof value === 'string') key[field] = Buffer.from(value, 'base64url');
  }
  if (typeof jwk.crv === 'string') key.crv = jwk.crv;
  if (family === 'oct' && ![16, 24, 32].includes(key.k?.length ?? 0)) throw new InvalidArgument('--key: an oct key is 128, 192 or 256 bits', { flag: 'key' });
  return key;
}
