import { constants, createCipheriv, createDecipheriv, createHash, createPublicKey, diffieHellman, generateKeyPair, privateDecrypt, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { InvalidRequest } from '../errors';
import { toKeyObject, type TeePubkey } from './tee-pubkey';

/**
 * The KBS's resource response: a flattened JWE JSON (RFC 7516 §7.2.2) as trustee's
 * `kbs/src/jwe` writes it (trustee-kbs.md §2.4 and pitfall 3). Content is always A256GCM with a
 * fresh 32-byte CEK and 12-byte IV; the CEK goes to the tee-pubkey with the key's `alg`. The
 * protected header is compact JSON in trustee's member order (`alg`, `enc`, then `epk` with
 * `crv`, `kty`, `x`, `y`), because guest-components recomputes the AAD by re-serialising the
 * header it parsed rather than using the string received; every member is unpadded base64url
 * and no `aad` member is emitted. The GCM AAD is the ASCII of the `protected` string.
 */
export interface FlattenedJwe {
  protected: string;
  encrypted_key: string;
  iv: string;
  ciphertext: string;
  tag: string;
}

const generateKeyPairAsync = promisify(generateKeyPair);
const KW_ALG = 'ECDH-ES+A256KW';
/** RFC 3394's default initial value, which A256KW uses. */
const AES_KW_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function lengthPrefixed(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/**
 * NIST SP 800-56A Concat KDF as RFC 7518 §4.6.2 uses it for ECDH-ES+A256KW: one SHA-256 round
 * over counter 1, Z and OtherInfo (AlgorithmID "ECDH-ES+A256KW", empty PartyUInfo and
 * PartyVInfo, keydatalen 256).
 */
export function concatKdf(z: Buffer): Buffer {
  const keyDataLen = Buffer.alloc(4);
  keyDataLen.writeUInt32BE(256);
  const otherInfo = Buffer.concat([lengthPrefixed(Buffer.from(KW_ALG, 'ascii')), lengthPrefixed(Buffer.alloc(0)), lengthPrefixed(Buffer.alloc(0)), keyDataLen]);
  return createHash('sha256')
    .update(Buffer.from([0, 0, 0, 1]))
    .update(z)
    .update(otherInfo)
    .digest();
}

async function wrapCek(cek: Buffer, key: TeePubkey): Promise<{ header: Record<string, unknown>; encryptedKey: Buffer }> {
  const publicKey = toKeyObject(key);
  if (key.kty === 'RSA') {
    const padding = key.alg === 'RSA-OAEP-256' ? constants.RSA_PKCS1_OAEP_PADDING : constants.RSA_PKCS1_PADDING;
    const encryptedKey = publicEncrypt({ key: publicKey, padding, ...(key.alg === 'RSA-OAEP-256' ? { oaepHash: 'sha256' } : {}) }, cek);
    return { header: { alg: key.alg, enc: 'A256GCM' }, encryptedKey };
  }
  const ephemeral = await generateKeyPairAsync('ec', { namedCurve: key.crv });
  const kek = concatKdf(diffieHellman({ privateKey: ephemeral.privateKey, publicKey }));
  const wrap = createCipheriv('id-aes256-wrap', kek, AES_KW_IV);
  const encryptedKey = Buffer.concat([wrap.update(cek), wrap.final()]);
  const epk = ephemeral.publicKey.export({ format: 'jwk' });
  return { header: { alg: KW_ALG, enc: 'A256GCM', epk: { crv: epk.crv, kty: 'EC', x: epk.x, y: epk.y } }, encryptedKey };
}

/** Encrypts `plaintext` to the TEE's key. */
export async function encryptToTee(plaintext: Uint8Array, key: TeePubkey): Promise<FlattenedJwe> {
  const cek = randomBytes(32);
  const { header, encryptedKey } = await wrapCek(cek, key);
  const protectedHeader = b64(Buffer.from(JSON.stringify(header), 'utf8'));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', cek, iv);
  cipher.setAAD(Buffer.from(protectedHeader, 'ascii'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { protected: protectedHeader, encrypted_key: b64(encryptedKey), iv: b64(iv), ciphertext: b64(ciphertext), tag: b64(cipher.getAuthTag()) };
}

const B64URL = /^[A-Za-z0-9_-]*$/;

function member(jwe: Record<string, unknown>, name: string): Buffer {
  const value = Object.hasOwn(jwe, name) ? jwe[name] : undefined;
  if (typeof value !== 'string' || !B64URL.test(value)) throw new InvalidRequest(`the JWE's ${name} is not unpadded base64url`, { field: name });
  return Buffer.from(value, 'base64url');
}

function unwrapCek(header: Record<string, unknown>, encryptedKey: Buffer, privateKey: KeyObject): Buffer {
  const alg = header.alg;
  const kind = privateKey.asymmetricKeyType;
  if (alg === 'RSA-OAEP-256' && kind === 'rsa') return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, encryptedKey);
  if (alg === KW_ALG && kind === 'ec') {
    const epk = header.epk as Record<string, unknown> | undefined;
    const curve = privateKey.export({ format: 'jwk' }).crv;
    if (typeof epk !== 'object' || epk === null || epk.kty !== 'EC' || epk.crv !== curve) throw new InvalidRequest("the JWE epk is not a key on the TEE key's curve");
    const ephemeral = createPublicKey({ key: { kty: 'EC', crv: curve, x: String(epk.x), y: String(epk.y) }, format: 'jwk' });
    const kek = concatKdf(diffieHellman({ privateKey, publicKey: ephemeral }));
    const unwrap = createDecipheriv('id-aes256-wrap', kek, AES_KW_IV);
    return Buffer.concat([unwrap.update(encryptedKey), unwrap.final()]);
  }
  throw new InvalidRequest(`the JWE's alg ${String(alg)} does not fit the TEE key`);
}

/**
 * Decrypts a response with the TEE's private key (the client's side). The AAD is the
 * `protected` string as received, as RFC 7516 says; trustee's output satisfies both readings.
 * The client never asks for RSA1_5 (Node refuses PKCS#1 v1.5 decryption, CVE-2023-46809), so
 * only its own key kinds are opened.
 */
export function decryptFromKbs(jwe: unknown, privateKey: KeyObject): Buffer {
  if (typeof jwe !== 'object' || jwe === null || Array.isArray(jwe)) throw new InvalidRequest('the response is not a flattened JWE');
  const body = jwe as Record<string, unknown>;
  const protectedText = body.protected;
  if (typeof protectedText !== 'string' || !B64URL.test(protectedText)) throw new InvalidRequest('the JWE has no protected header');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(protectedText, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new InvalidRequest('the JWE protected header is not JSON');
  }
  if (header.enc !== 'A256GCM') throw new InvalidRequest('the JWE enc is not A256GCM');
  const cek = unwrapCek(header, member(body, 'encrypted_key'), privateKey);
  if (cek.length !== 32) throw new InvalidRequest('the JWE content key is not 32 bytes');
  const decipher = createDecipheriv('aes-256-gcm', cek, member(body, 'iv'));
  decipher.setAAD(Buffer.from(protectedText, 'ascii'));
  decipher.setAuthTag(member(body, 'tag'));
  return Buffer.concat([decipher.update(member(body, 'ciphertext')), decipher.final()]);
}
