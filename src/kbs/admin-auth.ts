import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, jwtVerify, type JWK } from 'jose';
import { KbsAdminUnauthorized } from '../errors';
import { readIfExists, writeFileAtomic } from '../lib/state-file';

/**
 * Admin requests carry trustee's admin token: `Authorization: Bearer <JWT>` signed EdDSA
 * (Ed25519) by a key whose public half the KBS is configured with (trustee-kbs.md §6.3). Chosen
 * over skr's KMS RBAC because trustee's own `kbs-client config` then works against skr kbs
 * unchanged, and because the KBS holds only public keys: nothing on the server can mint an admin
 * token. `exp` is required (60 s leeway) and an `iat` later than now (past the same leeway) is
 * refused: such a token was minted ahead of time to be used later, which `exp` alone would not
 * catch. The principal recorded in the audit log is the token's `sub`, else the thumbprint of
 * the key that verified it.
 */
export interface AdminKey {
  publicKey: KeyObject;
  thumbprint: string;
}

const CLOCK_TOLERANCE_SECONDS = 60;
const generateKeyPairAsync = promisify(generateKeyPair);

export async function adminKeyOf(publicKeyPem: string | Buffer): Promise<AdminKey> {
  const publicKey = createPublicKey(publicKeyPem);
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new KbsAdminUnauthorized('admin keys are Ed25519 public keys');
  const { kty, crv, x } = publicKey.export({ format: 'jwk' });
  return { publicKey, thumbprint: await calculateJwkThumbprint({ kty, crv, x } as JWK) };
}

/**
 * The admin key pair kept in the state directory when no admin key is configured: the private
 * key (0600) is for the operator's tooling on this host, the KBS itself uses only the public key.
 */
export async function loadOrCreateAdminKey(privateKeyPath: string): Promise<AdminKey> {
  const existing = await readIfExists(privateKeyPath);
  let privateKey: KeyObject;
  if (existing) privateKey = createPrivateKey(existing);
  else {
    privateKey = (await generateKeyPairAsync('ed25519')).privateKey;
    await writeFileAtomic(privateKeyPath, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, 0o600);
  }
  return adminKeyOf(createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }) as string);
}

/** The principal of a valid admin token, or KbsAdminUnauthorized. */
export async function authorizeAdmin(authorization: string | undefined, keys: readonly AdminKey[], now: Date): Promise<string> {
  const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(authorization ?? '');
  if (!match) throw new KbsAdminUnauthorized('no bearer token');
  for (const key of keys) {
    try {
      const { payload } = await jwtVerify(match[1]!, key.publicKey, { algorithms: ['EdDSA'], requiredClaims: ['exp'], clockTolerance: CLOCK_TOLERANCE_SECONDS, currentDate: now });
      if (typeof payload.iat === 'number' && payload.iat > now.getTime() / 1000 + CLOCK_TOLERANCE_SECONDS) throw new KbsAdminUnauthorized('the token is issued in the future');
      return typeof payload.sub === 'string' ? payload.sub.slice(0, 128) : `key:${key.thumbprint}`;
    } catch (error) {
      // A token that verified under this key but is issued in the future is refused as such; otherwise try the next configured key.
      if (error instanceof KbsAdminUnauthorized) throw error;
    }
  }
  throw new KbsAdminUnauthorized('the token does not verify under any admin key, or has expired');
}
