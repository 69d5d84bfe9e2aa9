import { constants, createCipheriv, publicEncrypt, randomBytes } from 'node:crypto';
import { KeyWrapError } from '../errors';
import { DEFAULT_KEY_WRAP, isKeyWrapAlgorithm, KEK_BYTES, KWP_CIPHER, KWP_IV, oaepHash, type KeyWrapAlgorithm } from './algorithms';
import { toRsaPublicKey, type RsaKeyInput } from './rsa';

/** Below this a wrapping key is refused: the released key would be only as strong as it. */
export const MIN_WRAPPING_KEY_BITS = 2048;

export interface WrapKeyMaterialInput {
  /** The TEE's RSA encryption key (from the token's `x-ms-runtime.keys`). */
  publicKey: RsaKeyInput;
  /** Raw bytes for oct keys, PKCS#8 DER for RSA and EC keys (`encodeKeyMaterial`). */
  material: Uint8Array;
  enc?: KeyWrapAlgorithm;
}

/**
 * CKM_RSA_AES_KEY_WRAP and its SHA-256/384 variants: RSA-OAEP of a fresh AES-256 KEK, followed
 * by the RFC 5649 wrap of the material under that KEK. The result is what `key_hsm.ciphertext` holds.
 */
export async function wrapKeyMaterial({ publicKey, material, enc = DEFAULT_KEY_WRAP }: WrapKeyMaterialInput): Promise<Buffer> {
  if (!isKeyWrapAlgorithm(enc)) throw new KeyWrapError(`enc ${String(enc)} is not supported`, { enc });
  if (material.length === 0) throw new KeyWrapError('there is no key material to wrap');
  const key = toRsaPublicKey(publicKey);
  if (typeof key === 'string') throw new KeyWrapError(`wrapping key: ${key}`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_WRAPPING_KEY_BITS) throw new KeyWrapError(`wrapping key is RSA-${bits}; at least RSA-${MIN_WRAPPING_KEY_BITS} is required`, { modulusBits: bits });

  const kek = randomBytes(KEK_BYTES);
  try {
    let wrappedKek: Buffer;
    try {
      // Synchronous: an RSA public operation takes microseconds, less than a hop to the thread pool.
      wrappedKek = publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHash(enc) }, kek);
    } catch (error) {
      throw new KeyWrapError(`wrapping key cannot be used for RSA-OAEP (${(error as Error).message})`);
    }
    const cipher = createCipheriv(KWP_CIPHER, kek, KWP_IV);
    return Buffer.concat([wrappedKek, cipher.update(material), cipher.final()]);
  } finally {
    kek.fill(0);
  }
}
