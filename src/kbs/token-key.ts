import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { readIfExists, writeFileAtomic } from '../lib/state-file';

/**
 * The P-256 key the KBS signs its attestation tokens with (ES256, as trustee's EAR broker),
 * kept as PKCS#8 PEM in a file private to its owner so tokens outlive a restart. `kid` is the
 * RFC 7638 thumbprint of the public key; the public key is published as a JWKS.
 */
export interface TokenKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public JWK with `kid`, `alg` and `use`, as published and as put in token headers. */
  jwk: JWK;
}

const generateKeyPairAsync = promisify(generateKeyPair);

export async function loadOrCreateTokenKey(path: string): Promise<TokenKey> {
  const existing = await readIfExists(path);
  let privateKey: KeyObject;
  if (existing) {
    privateKey = createPrivateKey(existing);
    if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error(`${path} is not a P-256 private key`);
  } else {
    privateKey = (await generateKeyPairAsync('ec', { namedCurve: 'P-256' })).privateKey;
    await writeFileAtomic(path, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, 0o600);
  }
  const publicKey = createPublicKey(privateKey);
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  const kid = await calculateJwkThumbprint({ kty, crv, x, y } as JWK);
  return { kid, privateKey, publicKey, jwk: { kty, crv, x, y, alg: 'ES256', use: 'sig', kid } as JWK };
}
