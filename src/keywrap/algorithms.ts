/**
 * The `enc` values of a Key Vault release. Each names the RSA-OAEP hash, which is also the
 * MGF1 hash (label empty); the material itself is always under RFC 5649 AES-256 key wrap
 * with padding, keyed by a fresh KEK.
 */
export const KEY_WRAP_ALGORITHMS = ['CKM_RSA_AES_KEY_WRAP', 'RSA_AES_KEY_WRAP_256', 'RSA_AES_KEY_WRAP_384'] as const;

export type KeyWrapAlgorithm = (typeof KEY_WRAP_ALGORITHMS)[number];

/** What Key Vault uses when a release request names no `enc`. */
export const DEFAULT_KEY_WRAP: KeyWrapAlgorithm = 'CKM_RSA_AES_KEY_WRAP';

/** OpenSSL's digest names. */
const OAEP_HASH: Record<KeyWrapAlgorithm, 'sha1' | 'sha256' | 'sha384'> = {
  CKM_RSA_AES_KEY_WRAP: 'sha1',
  RSA_AES_KEY_WRAP_256: 'sha256',
  RSA_AES_KEY_WRAP_384: 'sha384',
};

export function isKeyWrapAlgorithm(value: unknown): value is KeyWrapAlgorithm {
  return typeof value === 'string' && (KEY_WRAP_ALGORITHMS as readonly string[]).includes(value);
}

export function oaepHash(enc: KeyWrapAlgorithm): 'sha1' | 'sha256' | 'sha384' {
  return OAEP_HASH[enc];
}

/** OpenSSL's RFC 5649 mode; the IV is the alternative initial value, the cipher adds the length indicator. */
export const KWP_CIPHER = 'id-aes256-wrap-pad';
export const KWP_IV = Buffer.from('a65959a6', 'hex');
export const KEK_BYTES = 32;
/** The smallest RFC 5649 output: the 8-byte integrity block and one padded 8-byte block. */
export const KWP_MIN_BYTES = 16;
