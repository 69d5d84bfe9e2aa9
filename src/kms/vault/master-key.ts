/**
 * The one key that protects everything at rest. Implementations keep it where it cannot be
 * read back (a PKCS#11 token), in memory only once released to the TEE by secure key release,
 * or, for the embedded default, in a 0600 file. Sealing is
 * AES-256-GCM with a fresh 96-bit IV; the sealed form is `iv ‖ ciphertext ‖ tag`.
 */
export interface MasterKey {
  /** Stable, non-secret identifier: a backup names the master key it was sealed under. */
  readonly id: string;
  readonly kind: 'file' | 'pkcs11' | 'released';
  seal(plaintext: Buffer, aad: Buffer): Promise<Buffer>;
  /** Throws SealedDataInvalid when the data was not sealed by this key with this AAD. */
  open(sealed: Buffer, aad: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}

export const IV_BYTES = 12;
export const TAG_BYTES = 16;
