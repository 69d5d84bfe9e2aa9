import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SigningKey } from '../../oidc';

export interface TokenOptions {
  issuer: string;
  lifetimeSeconds: number;
  now: Date;
}

/** An RS256 attestation token, header `jku` + `kid` as MAA's. */
export async function issueToken(claims: Record<string, unknown>, key: SigningKey, options: TokenOptions): Promise<string> {
  const iat = Math.floor(options.now.getTime() / 1000);
  return (
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', jku: `${options.issuer}/certs`, kid: key.kid })
      .setIssuer(options.issuer)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + options.lifetimeSeconds)
      // MAA's jti: 64 hex characters.
      .setJti(randomBytes(32).toString('hex'))
      .sign(key.privateKey)
  );
}
