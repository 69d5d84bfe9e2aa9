import { constants, createHash, createHmac, publicDecrypt, publicEncrypt, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { InternalError, KmsBadParameter } from '../../errors';
import { rsaPrivate } from '../../lib/rsa-private';

/**
 * RSA as Key Vault offers it. Encryption values and signature inputs arrive already hashed
 * (Key Vault signs digests), which node:crypto's sign() cannot take, so the PKCS#1 v1.5
 * DigestInfo and the PSS encoding are built here around the raw RSA operation. Private-key
 * operations go through rsaPrivate, which keeps those of RSA-3072 and larger off the event loop.
 */
export const RSA_ENCRYPTION = ['RSA-OAEP', 'RSA-OAEP-256', 'RSA1_5'] as const;
export const RSA_SIGNATURE = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;

const HASHES = { 256: 'sha256', 384: 'sha384', 512: 'sha512' } as const;
// DER of DigestInfo up to the digest octets (RFC 8017 §9.2, note 1).
const DIGEST_INFO: Record<string, string> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

function hashOf(alg: string): { name: 'sha256' | 'sha384' | 'sha512'; bytes: number } {
  const bits = Number(alg.slice(2)) as 256 | 384 | 512;
  return { name: HASHES[bits], bytes: bits / 8 };
}

function modulusBytes(key: KeyObject): number {
  return Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
}

export function rsaEncrypt(publicKey: KeyObject, alg: string, plaintext: Buffer): Buffer {
  try {
    if (alg === 'RSA1_5') return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, plaintext);
    return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: alg === 'RSA-OAEP-256' ? 'sha256' : 'sha1' }, plaintext);
  } catch {
    throw new KmsBadParameter(`the value is too long for ${alg} with this key`);
  }
}

export async function rsaDecrypt(privateKey: KeyObject, alg: string, ciphertext: Buffer): Promise<Buffer> {
  if (ciphertext.length !== modulusBytes(privateKey)) throw new KmsBadParameter(`the ${alg} ciphertext must be ${modulusBytes(privateKey)} bytes`);
  if (alg === 'RSA1_5') return pkcs1v15Decrypt(privateKey, ciphertext);
  const plaintext = await rsaPrivate({ op: 'decrypt', key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: alg === 'RSA-OAEP-256' ? 'sha256' : 'sha1', data: ciphertext });
  if (!plaintext) throw new KmsBadParameter(`the ${alg} ciphertext cannot be decrypted with this key`);
  return plaintext;
}

/**
 * RSAES-PKCS1-v1_5 with implicit rejection: a malformed padding yields a pseudo-random
 * message derived from the key and the ciphertext instead of an error, so callers cannot use
 * the service as a Bleichenbacher padding oracle (node:crypto refuses this padding for
 * decryption for that reason). The check runs over the whole block without early exit.
 */
async function pkcs1v15Decrypt(privateKey: KeyObject, ciphertext: Buffer): Promise<Buffer> {
  const em = await rsaPrivate({ op: 'decrypt', key: privateKey, padding: constants.RSA_NO_PADDING, data: ciphertext });
  // Only a block numerically not below the modulus fails here: the modulus is public, so
  // saying so tells a padding oracle nothing.
  if (!em) throw new KmsBadParameter('the RSA1_5 ciphertext is not below the modulus of this key');
  let bad = em[0]! | (em[1]! ^ 0x02);
  let separator = 0;
  for (let i = 2; i < em.length; i++) {
    const isZero = em[i] === 0 ? 1 : 0;
    const first = isZero & (separator === 0 ? 1 : 0);
    separator = first ? i : separator;
  }
  bad |= separator === 0 ? 1 : 0;
  bad |= separator < 10 ? 1 : 0;
  const synthetic = syntheticMessage(privateKey, ciphertext, em.length);
  return bad ? synthetic : em.subarray(separator + 1);
}

function syntheticMessage(privateKey: KeyObject, ciphertext: Buffer, k: number): Buffer {
  const kdk = createHmac(
    'sha256',
    createHash('sha256')
      .update(privateKey.export({ format: 'der', type: 'pkcs8' }))
      .digest(),
  )
    .update(ciphertext)
    .digest();
  const length = createHmac('sha256', kdk).update('length').digest().readUInt16BE(0) % (k - 10);
  const blocks: Buffer[] = [];
  for (let i = 0; blocks.length * 32 < length; i++) blocks.push(createHmac('sha256', kdk).update(`message${i}`).digest());
  return Buffer.concat(blocks).subarray(0, length);
}

function checkDigest(alg: string, digest: Buffer): ReturnType<typeof hashOf> {
  const hash = hashOf(alg);
  if (digest.length !== hash.bytes) throw new KmsBadParameter(`${alg} signs a ${hash.bytes}-byte digest; the value is ${digest.length} bytes`);
  return hash;
}

export async function rsaSign(privateKey: KeyObject, alg: string, digest: Buffer): Promise<Buffer> {
  const hash = checkDigest(alg, digest);
  let signature: Buffer | undefined;
  if (alg.startsWith('RS')) {
    signature = await rsaPrivate({ op: 'encrypt', key: privateKey, padding: constants.RSA_PKCS1_PADDING, data: Buffer.concat([Buffer.from(DIGEST_INFO[hash.name]!, 'hex'), digest]) });
  } else {
    const k = modulusBytes(privateKey);
    const em = pssEncode(digest, hash.name, (privateKey.asymmetricKeyDetails?.modulusLength ?? 0) - 1);
    signature = await rsaPrivate({ op: 'encrypt', key: privateKey, padding: constants.RSA_NO_PADDING, data: Buffer.concat([Buffer.alloc(k - em.length), em]) });
  }
  // Both inputs are built here to fit the key; a failure is not the caller's.
  if (!signature) throw new InternalError(`${alg} signing failed`);
  return signature;
}

export function rsaVerify(publicKey: KeyObject, alg: string, digest: Buffer, signature: Buffer): boolean {
  const hash = checkDigest(alg, digest);
  const k = modulusBytes(publicKey);
  if (signature.length !== k) return false;
  try {
    if (alg.startsWith('RS')) {
      const expected = Buffer.concat([Buffer.from(DIGEST_INFO[hash.name]!, 'hex'), digest]);
      const recovered = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
      return recovered.length === expected.length && timingSafeEqual(recovered, expected);
    }
    const emBits = (publicKey.asymmetricKeyDetails?.modulusLength ?? 0) - 1;
    const block = publicDecrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, signature);
    return pssVerify(digest, block.subarray(block.length - Math.ceil(emBits / 8)), hash.name, emBits, block);
  } catch {
    return false;
  }
}

function mgf1(seed: Buffer, length: number, hash: string): Buffer {
  const blocks: Buffer[] = [];
  for (let counter = 0; blocks.length * createHash(hash).digest().length < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    blocks.push(createHash(hash).update(seed).update(c).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with MGF1 over the same hash and a salt as long as the digest, as Key Vault's PS* use. */
function pssEncode(mHash: Buffer, hash: string, emBits: number): Buffer {
  const hLen = mHash.length;
  const emLen = Math.ceil(emBits / 8);
  const salt = randomBytes(hLen);
  const h = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - 2 * hLen - 2), Buffer.from([1]), salt]);
  const mask = mgf1(h, emLen - hLen - 1, hash);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  return Buffer.concat([db, h, Buffer.from([0xbc])]);
}

/** EMSA-PSS-VERIFY (RFC 8017 §9.1.2); `block` is the full k-byte RSA output whose leading bytes must be zero. */
function pssVerify(mHash: Buffer, em: Buffer, hash: string, emBits: number, block: Buffer): boolean {
  const hLen = mHash.length;
  const emLen = em.length;
  if (block.subarray(0, block.length - emLen).some((b) => b !== 0)) return false;
  if (emLen < 2 * hLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const masked = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  if ((masked[0]! & ~(0xff >> (8 * emLen - emBits)) & 0xff) !== 0) return false;
  const mask = mgf1(h, masked.length, hash);
  const db = Buffer.from(masked.map((b, i) => b ^ mask[i]!));
  db[0]! &= 0xff >> (8 * emLen - emBits);
  const psLen = emLen - 2 * hLen - 2;
  if (db.subarray(0, psLen).some((b) => b !== 0) || db[psLen] !== 1) return false;
  const salt = db.subarray(db.length - hLen);
  const expected = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  return timingSafeEqual(expected, h);
}
