import { randomBytes } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import { MasterKeyUnavailable, SealedDataInvalid } from '../../errors';
import { IV_BYTES, TAG_BYTES, type MasterKey } from './master-key';

export interface Pkcs11MasterKeyOptions {
  /** Path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  module: string;
  /** Label of the token holding the key (slot ids change between SoftHSM runs, labels do not). */
  tokenLabel: string;
  /** User PIN of the token. */
  pin: string;
  /** Label of the AES-256 key; generated inside the token on first use. */
  keyLabel?: string;
}

export const DEFAULT_KEY_LABEL = 'skr-kms-master';

/**
 * The master key lives in a PKCS#11 token as a non-extractable, sensitive AES-256 key and
 * never leaves it: sealing and opening are CKM_AES_GCM inside the token. The key's CKA_ID
 * (random, set when it is generated) is its public identifier.
 */
export async function openPkcs11MasterKey(options: Pkcs11MasterKeyOptions): Promise<MasterKey> {
  const p11 = new pkcs11js.PKCS11();
  try {
    p11.load(options.module);
  } catch (error) {
    throw new MasterKeyUnavailable(`PKCS#11 module ${options.module} cannot be loaded: ${(error as Error).message}`, { module: options.module });
  }
  p11.C_Initialize();
  try {
    const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === options.tokenLabel);
    if (!slot) throw new MasterKeyUnavailable(`no PKCS#11 token is labelled "${options.tokenLabel}"`, { tokenLabel: options.tokenLabel });
    const session = p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      p11.C_Login(session, pkcs11js.CKU_USER, options.pin);
    } catch (error) {
      if ((error as { code?: number }).code !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) {
        throw new MasterKeyUnavailable(`PKCS#11 login to "${options.tokenLabel}" failed: ${(error as Error).message}`);
      }
    }
    const label = options.keyLabel ?? DEFAULT_KEY_LABEL;
    const key = findKey(p11, session, label) ?? generateKey(p11, session, label);
    const id = p11.C_GetAttributeValue(session, key, [{ type: pkcs11js.CKA_ID }])[0]?.value as Buffer | undefined;
    return new Pkcs11MasterKey(p11, session, key, `pkcs11:${options.tokenLabel}:${label}:${(id ?? Buffer.alloc(0)).toString('hex')}`);
  } catch (error) {
    p11.C_Finalize();
    throw error instanceof MasterKeyUnavailable ? error : new MasterKeyUnavailable(`PKCS#11: ${(error as Error).message}`);
  }
}

function findKey(p11: pkcs11js.PKCS11, session: Buffer, label: string): Buffer | undefined {
  p11.C_FindObjectsInit(session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_LABEL, value: label },
  ]);
  try {
    const found = p11.C_FindObjects(session, 2);
    if (found.length > 1) throw new MasterKeyUnavailable(`more than one AES key is labelled "${label}"; refusing to guess`);
    return found[0];
  } finally {
    p11.C_FindObjectsFinal(session);
  }
}

function generateKey(p11: pkcs11js.PKCS11, session: Buffer, label: string): Buffer {
  return p11.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
    { type: pkcs11js.CKA_LABEL, value: label },
    { type: pkcs11js.CKA_ID, value: randomBytes(16) },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_ENCRYPT, value: true },
    { type: pkcs11js.CKA_DECRYPT, value: true },
  ]);
}

class Pkcs11MasterKey implements MasterKey {
  readonly kind = 'pkcs11' as const;
  // A PKCS#11 session runs one operation at a time: calls are queued.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly p11: pkcs11js.PKCS11,
    private readonly session: Buffer,
    private readonly key: Buffer,
    readonly id: string,
  ) {}

  private exclusive<T>(run: () => Promise<T>): Promise<T> {
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private mechanism(iv: Buffer, aad: Buffer): pkcs11js.Mechanism {
    const parameter: pkcs11js.AesGCM = { type: pkcs11js.CK_PARAMS_AES_GCM, iv, aad, ivBits: IV_BYTES * 8, tagBits: TAG_BYTES * 8 };
    return { mechanism: pkcs11js.CKM_AES_GCM, parameter };
  }

  seal(plaintext: Buffer, aad: Buffer): Promise<Buffer> {
    return this.exclusive(async () => {
      const iv = randomBytes(IV_BYTES);
      this.p11.C_EncryptInit(this.session, this.mechanism(iv, aad), this.key);
      const out = await this.p11.C_EncryptAsync(this.session, plaintext, Buffer.alloc(plaintext.length + TAG_BYTES));
      return Buffer.concat([iv, out]);
    });
  }

  open(sealed: Buffer, aad: Buffer): Promise<Buffer> {
    if (sealed.length < IV_BYTES + TAG_BYTES) return Promise.reject(new SealedDataInvalid('sealed data is truncated'));
    return this.exclusive(async () => {
      this.p11.C_DecryptInit(this.session, this.mechanism(sealed.subarray(0, IV_BYTES), aad), this.key);
      try {
        return Buffer.from(await this.p11.C_DecryptAsync(this.session, sealed.subarray(IV_BYTES), Buffer.alloc(sealed.length)));
      } catch {
        throw new SealedDataInvalid('sealed data does not authenticate under this master key');
      }
    });
  }

  close(): Promise<void> {
    return this.exclusive(async () => {
      try {
        this.p11.C_CloseSession(this.session);
      } finally {
        this.p11.C_Finalize();
      }
    });
  }
}
