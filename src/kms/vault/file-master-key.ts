import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { MasterKeyUnavailable, SealedDataInvalid } from '../../errors';
import { readIfExists, writeFileAtomic } from '../../lib/state-file';
import { IV_BYTES, TAG_BYTES, type MasterKey } from './master-key';

const KEY_BYTES = 32;

/**
 * The embedded default: 32 random bytes in a 0600 file, generated on first start. Refuses a
 * file that group or others can read — a copied or carelessly restored key file must not be
 * used silently.
 */
export async function openFileMasterKey(path: string): Promise<MasterKey> {
  let key = await readIfExists(path);
  if (!key) {
    await writeFileAtomic(path, randomBytes(KEY_BYTES), 0o600);
    key = await readIfExists(path);
  }
  const mode = (await stat(path)).mode & 0o777;
  if (mode & 0o077) throw new MasterKeyUnavailable(`master key file ${path} has mode ${mode.toString(8)}; it must be 0600`, { path });
  if (!key || key.length !== KEY_BYTES) throw new MasterKeyUnavailable(`master key file ${path} does not hold ${KEY_BYTES} bytes`, { path });
  const secret = Buffer.from(key);
  key.fill(0);
  // The id commits to the key without revealing it (a domain-separated hash).
  const id = `file:${createHash('sha256').update('skr-kms master key id\0').update(secret).digest('hex').slice(0, 32)}`;
  return new FileMasterKey(secret, id);
}

class FileMasterKey implements MasterKey {
  readonly kind = 'file' as const;

  constructor(
    private readonly secret: Buffer,
    readonly id: string,
  ) {}

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

