import { constants, createDecipheriv } from 'node:crypto';
import { KeyUnwrapError } from '../errors';
import { rsaPrivate } from '../lib/rsa-private';
import { DEFAULT_KEY_WRAP, isKeyWrapAlgorithm, KEK_BYTES, KWP_CIPHER, KWP_IV, KWP_MIN_BYTES, oaepHash, type KeyWrapAlgorithm } from './algorithms';
import { modulusBytes, toRsaPrivateKey, type RsaKeyInput } from './rsa';

export interface UnwrapKeyMaterialInput {
  /** The private half of the wrapping key the release named. */
  privateKey: RsaKeyInput;
  /** `key_hsm.ciphertext`: RSA-OAEP(KEK) ‖ RFC 5649 wrap of the material. */
  ciphertext: Uint8Array;
  /** From the release's `payload.request.enc` (Key Vault's default when it was omitted). */
  enc?: KeyWrapAlgorithm;
}

/**
 * Opens a CKM_RSA_AES_KEY_WRAP (or _256/_384) ciphertext. The RSA part is as long as the
 * wrapping key's modulus, whatever its size: Microsoft's sidecar assumes 256 bytes, which
 * breaks with any key other than RSA-2048.
 */
export async function unwrapKeyMaterial({ privateKey, ciphertext, enc = DEFAULT_KEY_WRAP }: UnwrapKeyMaterialInput): Promise<Buffer> {
  if (!isKeyWrapAlgorithm(enc)) throw new KeyUnwrapError('enc_unsupported', `enc ${String(enc)} is not supported`, { enc });
  const key = toRsaPrivateKey(privateKey);
  if (typeof key === 'string') throw new KeyUnwrapError('key_invalid', `unwrapping key: ${key}`);
  const split = modulusBytes(key);
  const bytes = Buffer.from(ciphertext.buffer, ciphertext.byteOffset, ciphertext.byteLength);
  if (bytes.length < split + KWP_MIN_BYTES || (bytes.length - split) % 8 !== 0) {
    throw new KeyUnwrapError('ciphertext_length', `ciphertext of ${bytes.length} bytes does not fit RSA-${split * 8} followed by an RFC 5649 wrap`, {
      length: bytes.length,
      modulusBytes: split,
    });
  }

  // Inline for RSA-2048 (a fraction of a millisecond); a worker thread from RSA-3072 up.
  const kek = await rsaPrivate({ op: 'decrypt', key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHash(enc), data: bytes.subarray(0, split) });
  // One message for every OAEP failure: the caller learns nothing about the padding.
  if (!kek) throw new KeyUnwrapError('rsa_oaep', `the wrapped KEK does not decrypt under this key with ${enc}`, { enc });
  try {
    if (kek.length !== KEK_BYTES) throw new KeyUnwrapError('rsa_oaep', `the KEK is ${kek.length} bytes, not ${KEK_BYTES}`, { enc });
    const decipher = createDecipheriv(KWP_CIPHER, kek, KWP_IV);
    return Buffer.concat([decipher.update(bytes.subarray(split)), decipher.final()]);
  } catch (error) {
    if (error instanceof KeyUnwrapError) throw error;
    throw new KeyUnwrapError('aes_kwp', 'the RFC 5649 integrity check failed: the wrapped material was altered');
  } finally {
    kek.fill(0);
  }
}
