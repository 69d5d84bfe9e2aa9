import { createPrivateKey, createPublicKey, KeyObject, type JsonWebKey } from 'node:crypto';
import { rsaPublicKeyFromJwk } from './public-keys';

/** An RSA key as callers hold it: a KeyObject, or a JWK (the token's `x-ms-runtime` key, a stored key). */
export type RsaKeyInput = KeyObject | JsonWebKey;

/** Returns the RSA public key, or a reason it is not one; a private key yields its public half. */
export function toRsaPublicKey(input: RsaKeyInput): KeyObject | string {
  let key: KeyObject;
  try {
    key = input instanceof KeyObject ? (input.type === 'public' ? input : createPublicKey(input)) : publicKeyOfJwk(input);
  } catch (error) {
    return `not a usable public key (${(error as Error).message})`;
  }
  return key.asymmetricKeyType === 'rsa' ? key : `a ${key.asymmetricKeyType ?? 'symmetric'} key is not an RSA key`;
}

export function toRsaPrivateKey(input: RsaKeyInput): KeyObject | string {
  if (!(input instanceof KeyObject) && input.kty !== 'RSA' && input.kty !== 'RSA-HSM') return `kty ${String(input.kty)} is not RSA`;
  let key: KeyObject;
  try {
    key = input instanceof KeyObject ? input : createPrivateKey({ key: { ...input, kty: 'RSA' }, format: 'jwk' });
  } catch (error) {
    return `not a usable private key (${(error as Error).message})`;
  }
  if (key.type !== 'private') return `a ${key.type} key cannot unwrap`;
  return key.asymmetricKeyType === 'rsa' ? key : `a ${key.asymmetricKeyType} key is not an RSA key`;
}

/** The RSA-OAEP ciphertext is exactly this long; the split point of a wrapped key. */
export function modulusBytes(key: KeyObject): number {
  return Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
}

/** Only n and e: Key Vault's `RSA-HSM` and a JWK's private members would make node refuse or misread a public JWK. */
function publicKeyOfJwk(jwk: JsonWebKey): KeyObject {
  if (jwk.kty !== 'RSA' && jwk.kty !== 'RSA-HSM') throw new Error(`kty ${String(jwk.kty)} is not RSA`);
  if (typeof jwk.n !== 'string' || typeof jwk.e !== 'string') throw new Error('n and e must be strings');
  return rsaPublicKeyFromJwk(jwk.n, jwk.e);
}
