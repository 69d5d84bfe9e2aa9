import { createPrivateKey, KeyObject, type JsonWebKey } from 'node:crypto';
import { KeyUnwrapError, KeyWrapError } from '../errors';
import { decodeBase64Url, encodeBase64Url } from '../lib/base64url';

/** Key Vault key types that can be released; the -HSM forms carry the same material. */
export type ReleasableKeyType = 'oct' | 'oct-HSM' | 'RSA' | 'RSA-HSM' | 'EC' | 'EC-HSM';

type Family = 'oct' | 'RSA' | 'EC';

/** Key Vault's default operations for a new key of each family, used when the release names none. */
const DEFAULT_KEY_OPS: Record<Family, string[]> = {
  oct: ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'],
  RSA: ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'],
  EC: ['sign', 'verify'],
};

// Key Vault names secp256k1 P-256K; node's JWK codec calls it secp256k1.
const toNodeCurve = (crv: unknown) => (crv === 'P-256K' ? 'secp256k1' : crv);
const toVaultCurve = (crv: unknown) => (crv === 'secp256k1' ? 'P-256K' : crv);

function family(kty: unknown): Family | undefined {
  if (typeof kty !== 'string') return undefined;
  const bare = kty.replace(/-HSM$/, '');
  return bare === 'oct' || bare === 'RSA' || bare === 'EC' ? bare : undefined;
}

/**
 * The bytes Key Vault wraps for a key: the raw secret of an oct key, PKCS#8 DER of an RSA or
 * EC private key (what Go's ParsePKCS8PrivateKey and node's createPrivateKey read back).
 */
export function encodeKeyMaterial(key: JsonWebKey | KeyObject): Buffer {
  if (key instanceof KeyObject) {
    if (key.type === 'secret') return key.export();
    if (key.type === 'private' && (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'ec')) return key.export({ type: 'pkcs8', format: 'der' });
    throw new KeyWrapError(`a ${[key.type, key.asymmetricKeyType].filter(Boolean).join(' ')} key cannot be released`);
  }
  const kind = family(key.kty);
  if (kind === undefined) throw new KeyWrapError(`kty ${String(key.kty)} cannot be released`, { kty: key.kty });
  if (kind === 'oct') {
    const secret = typeof key.k === 'string' ? decodeBase64Url(key.k) : undefined;
    if (!secret || secret.length === 0) throw new KeyWrapError('oct key has no k (base64url)', { kty: key.kty });
    return secret;
  }
  if (typeof key.d !== 'string') throw new KeyWrapError(`${key.kty} key has no private part`, { kty: key.kty });
  try {
    return createPrivateKey({ key: { ...key, kty: kind, crv: toNodeCurve(key.crv) } as JsonWebKey, format: 'jwk' }).export({ type: 'pkcs8', format: 'der' });
  } catch (error) {
    throw new KeyWrapError(`${key.kty} key is not a valid private key (${(error as Error).message})`, { kty: key.kty });
  }
}

/**
 * The released key as the sidecar hands it to callers (Microsoft's shape): oct → `{kty, k}`,
 * RSA → the full private JWK, EC → `{kty, crv, x, y, d}`, each with the release's `key_ops`.
 * The material must be what the type promises: an RSA kty with EC material is refused.
 */
export function materialToJwk(kty: string, material: Uint8Array, keyOps?: readonly string[]): JsonWebKey {
  const kind = family(kty);
  if (kind === undefined) throw new KeyUnwrapError('material_invalid', `kty ${kty} cannot be released`, { kty });
  const key_ops = [...(keyOps ?? DEFAULT_KEY_OPS[kind])];
  if (kind === 'oct') {
    if (material.length === 0) throw new KeyUnwrapError('material_invalid', 'the released oct key is empty', { kty });
    return { kty: 'oct', k: encodeBase64Url(material), key_ops };
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(material), format: 'der', type: 'pkcs8' });
  } catch {
    throw new KeyUnwrapError('material_invalid', `the released ${kty} key is not PKCS#8 DER`, { kty });
  }
  const expected = kind === 'RSA' ? 'rsa' : 'ec';
  if (key.asymmetricKeyType !== expected) {
    throw new KeyUnwrapError('material_invalid', `the released ${kty} key holds ${key.asymmetricKeyType} material`, { kty, actual: key.asymmetricKeyType });
  }
  const jwk = key.export({ format: 'jwk' });
  return kind === 'EC' ? { ...jwk, crv: toVaultCurve(jwk.crv) as string, key_ops } : { ...jwk, key_ops };
}
