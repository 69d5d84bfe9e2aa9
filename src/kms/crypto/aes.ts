import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KmsBadParameter } from '../../errors';

/** Key Vault's (Managed HSM's) symmetric algorithms on oct keys. */
export const AES_ENCRYPTION = ['A128GCM', 'A192GCM', 'A256GCM', 'A128CBC', 'A192CBC', 'A256CBC', 'A128CBCPAD', 'A192CBCPAD', 'A256CBCPAD'] as const;
export const AES_WRAP = ['A128KW', 'A192KW', 'A256KW', 'CKM_AES_KEY_WRAP', 'CKM_AES_KEY_WRAP_PAD'] as const;

export interface AesInput {
  alg: string;
  value: Buffer;
  iv?: Buffer;
  aad?: Buffer;
  tag?: Buffer;
}

export interface AesOutput {
  value: Buffer;
  iv?: Buffer;
  tag?: Buffer;
  aad?: Buffer;
}

const RFC3394_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');
const RFC5649_IV = Buffer.from('a65959a6', 'hex');
const GCM_IV = 12;
const BLOCK = 16;

/** The key length an algorithm names must be the key's (A256GCM needs a 256-bit key). */
function checkKeySize(alg: string, key: Buffer): number {
  const named = /^A(128|192|256)/.exec(alg);
  const bits = key.length * 8;
  if (named && Number(named[1]) !== bits) throw new KmsBadParameter(`${alg} needs a ${named[1]}-bit key; this key has ${bits} bits`);
  return bits;
}

function wrapCipher(alg: string, bits: number): { name: string; iv: Buffer } {
  return alg === 'CKM_AES_KEY_WRAP_PAD' ? { name: `id-aes${bits}-wrap-pad`, iv: RFC5649_IV } : { name: `id-aes${bits}-wrap`, iv: RFC3394_IV };
}

export function aesEncrypt(key: Buffer, input: AesInput): AesOutput {
  const bits = checkKeySize(input.alg, key);
  if (input.alg.endsWith('GCM')) {
    const iv = input.iv ?? randomBytes(GCM_IV);
    if (iv.length !== GCM_IV) throw new KmsBadParameter(`${input.alg} takes a ${GCM_IV}-byte iv`);
    const cipher = createCipheriv(`aes-${bits}-gcm` as 'aes-256-gcm', key, iv);
    if (input.aad) cipher.setAAD(input.aad);
    const value = Buffer.concat([cipher.update(input.value), cipher.final()]);
    return { value, iv, tag: cipher.getAuthTag(), ...(input.aad ? { aad: input.aad } : {}) };
  }
  const iv = input.iv ?? randomBytes(BLOCK);
  if (iv.length !== BLOCK) throw new KmsBadParameter(`${input.alg} takes a ${BLOCK}-byte iv`);
  const padded = input.alg.endsWith('PAD');
  if (!padded && input.value.length % BLOCK !== 0) throw new KmsBadParameter(`${input.alg} encrypts whole ${BLOCK}-byte blocks; use ${input.alg}PAD for other lengths`);
  const cipher = createCipheriv(`aes-${bits}-cbc`, key, iv).setAutoPadding(padded);
  return { value: Buffer.concat([cipher.update(input.value), cipher.final()]), iv };
}

export function aesDecrypt(key: Buffer, input: AesInput): Buffer {
  const bits = checkKeySize(input.alg, key);
  try {
    if (input.alg.endsWith('GCM')) {
      if (input.iv?.length !== GCM_IV || input.tag?.length !== BLOCK) throw new KmsBadParameter(`${input.alg} decryption needs the ${GCM_IV}-byte iv and the ${BLOCK}-byte tag`);
      const decipher = createDecipheriv(`aes-${bits}-gcm` as 'aes-256-gcm', key, input.iv);
      if (input.aad) decipher.setAAD(input.aad);
      decipher.setAuthTag(input.tag);
      return Buffer.concat([decipher.update(input.value), decipher.final()]);
    }
    if (input.iv?.length !== BLOCK) throw new KmsBadParameter(`${input.alg} decryption needs the ${BLOCK}-byte iv`);
    const decipher = createDecipheriv(`aes-${bits}-cbc`, key, input.iv).setAutoPadding(input.alg.endsWith('PAD'));
    return Buffer.concat([decipher.update(input.value), decipher.final()]);
  } catch (error) {
    if (error instanceof KmsBadParameter) throw error;
    throw new KmsBadParameter(`the ${input.alg} ciphertext does not decrypt with this key`);
  }
}

export function aesWrap(key: Buffer, alg: string, keyToWrap: Buffer): Buffer {
  const cipher = wrapCipher(alg, checkKeySize(alg, key));
  if (alg !== 'CKM_AES_KEY_WRAP_PAD' && (keyToWrap.length < 16 || keyToWrap.length % 8 !== 0)) {
    throw new KmsBadParameter(`${alg} wraps keys of at least 16 bytes in 8-byte multiples; use CKM_AES_KEY_WRAP_PAD for others`);
  }
  const c = createCipheriv(cipher.name, key, cipher.iv);
  return Buffer.concat([c.update(keyToWrap), c.final()]);
}

export function aesUnwrap(key: Buffer, alg: string, wrapped: Buffer): Buffer {
  const cipher = wrapCipher(alg, checkKeySize(alg, key));
  try {
    const d = createDecipheriv(cipher.name, key, cipher.iv);
    return Buffer.concat([d.update(wrapped), d.final()]);
  } catch {
    throw new KmsBadParameter(`the ${alg} wrapped key does not unwrap with this key`);
  }
}
