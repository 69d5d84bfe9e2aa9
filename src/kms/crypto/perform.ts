import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { KmsBadParameter } from '../../errors';
import { isCurveName } from '../keys/curves';
import type { KeyMaterial, PublicJwk } from '../model';
import { AES_ENCRYPTION, AES_WRAP, aesDecrypt, aesEncrypt, aesUnwrap, aesWrap } from './aes';
import { ecdsaSign, ecdsaVerify } from './ecdsa';
import { RSA_ENCRYPTION, RSA_SIGNATURE, rsaDecrypt, rsaEncrypt, rsaSign, rsaVerify } from './rsa';

/** The six key operations, named as in key_ops. */
export type CryptoOperation = 'encrypt' | 'decrypt' | 'wrapKey' | 'unwrapKey' | 'sign' | 'verify';

export interface CryptoInput {
  alg: string;
  /** Plaintext, ciphertext, key to wrap, wrapped key, digest (sign) or signature (verify). */
  value: Buffer;
  /** The digest a signature is verified against. */
  digest?: Buffer;
  iv?: Buffer;
  aad?: Buffer;
  tag?: Buffer;
}

export interface CryptoOutput {
  value?: Buffer;
  verified?: boolean;
  iv?: Buffer;
  tag?: Buffer;
  aad?: Buffer;
}

const EC_SIGNATURE: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521', ES256K: 'P-256K' };

/** Algorithms Key Vault accepts for each family and operation. */
function allowed(family: KeyMaterial['kind'], op: CryptoOperation): readonly string[] {
  if (family === 'RSA') return op === 'sign' || op === 'verify' ? RSA_SIGNATURE : RSA_ENCRYPTION;
  if (family === 'EC') return op === 'sign' || op === 'verify' ? Object.keys(EC_SIGNATURE) : [];
  if (op === 'encrypt' || op === 'decrypt') return AES_ENCRYPTION;
  return op === 'wrapKey' || op === 'unwrapKey' ? AES_WRAP : [];
}

const privateKeyOf = (material: Extract<KeyMaterial, { pkcs8: Buffer }>): KeyObject => createPrivateKey({ key: material.pkcs8, format: 'der', type: 'pkcs8' });

/** One cryptographic operation with a key's material; knows nothing of HTTP or storage. */
export async function performCrypto(op: CryptoOperation, material: KeyMaterial, publicJwk: PublicJwk, input: CryptoInput): Promise<CryptoOutput> {
  if (!allowed(material.kind, op).includes(input.alg)) {
    throw new KmsBadParameter(`algorithm ${input.alg} is not supported for ${op} with a ${material.kind} key`, { alg: input.alg, op });
  }
  if (material.kind === 'oct') {
    switch (op) {
      case 'encrypt':
        return aesEncrypt(material.raw, input);
      case 'decrypt':
        return { value: aesDecrypt(material.raw, input) };
      case 'wrapKey':
        return { value: aesWrap(material.raw, input.alg, input.value) };
      default:
        return { value: aesUnwrap(material.raw, input.alg, input.value) };
    }
  }
  const privateKey = privateKeyOf(material);
  if (material.kind === 'RSA') {
    switch (op) {
      case 'encrypt':
      case 'wrapKey':
        return { value: rsaEncrypt(createPublicKey(privateKey), input.alg, input.value) };
      case 'decrypt':
      case 'unwrapKey':
        return { value: await rsaDecrypt(privateKey, input.alg, input.value) };
      case 'sign':
        return { value: await rsaSign(privateKey, input.alg, input.value) };
      default:
        return { verified: rsaVerify(createPublicKey(privateKey), input.alg, requireDigest(input), input.value) };
    }
  }
  const curve = publicJwk.crv;
  if (!isCurveName(curve) || EC_SIGNATURE[input.alg] !== curve) throw new KmsBadParameter(`algorithm ${input.alg} does not match the key's curve ${curve}`);
  return op === 'sign' ? { value: ecdsaSign(privateKey, curve, input.value) } : { verified: ecdsaVerify(createPublicKey(privateKey), curve, requireDigest(input), input.value) };
}

function requireDigest(input: CryptoInput): Buffer {
  if (!input.digest) throw new KmsBadParameter('verify needs the digest');
  return input.digest;
}
