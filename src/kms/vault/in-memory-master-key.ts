import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { SealedDataInvalid } from '../../errors';
import { IV_BYTES, TAG_BYTES, type MasterKey } from './master-key';

export const MASTER_KEY_BYTES = 32;

/**
 * The id commits to the key without revealing it: a domain-separated SHA-256, prefixed by the
 * kind so that state sealed under a file key and under a released key are told apart.
 */
export function masterKeyId(kind: 'file' | 'released', secret: Buffer): string {
  return `${kind}:${createHash('sha256').update('skr-kms master key id\0').update(secret).digest('hex').slice(0, 32)}`;
}

/**
 * AES-256-GCM under a key held in this process's memory (the file key once read, the released
 * key once obtained). The buffer is owned by this object and zeroed on close.
 */
export class InMemoryMasterKey implements MasterKey {
  readonly id: string;

  constructor(
    readonly kind: 'file' | 'released',
    private readonly secret: Buffer,
  ) {
    this.id = masterKeyId(kind, secret);
  }

  async seal(plaintext: Buffer, aad: Buffer): Promise<Buffer> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.secret, iv).setAAD(aad);
    return Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  }

  async open(sealed: Buffer, aad: Buffer): Promise<Buffer> {
    if (sealed.length < IV_BYTES + TAG_BYTES) throw new SealedDataInvalid('sealed data is truncated');
    const decipher = createDecipheriv('aes-256-gcm', this.secret, sealed.subarray(0, IV_BYTES)).setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new SealedDataInvalid('sealed data does not authenticate under this master key');
    }
  }

  async close(): Promise<void> {
    this.secret.fill(0);
  }
}
