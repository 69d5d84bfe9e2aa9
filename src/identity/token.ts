import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { ResourceNotAllowed } from '../errors';
import type { SigningKey } from '../oidc';
import type { Principal } from './principals';

/** Key Vault, Managed HSM and Azure Attestation: the resources the embedded stack calls with a bearer token. */
export const DEFAULT_RESOURCES = ['https://vault.azure.net', 'https://managedhsm.azure.net', 'https://attest.azure.net'];

/**
 * The audience a requested resource maps to. Entra lets callers write the resource with a
 * trailing slash or as a v2 `/.default` scope; Key Vault checks `aud` against
 * `https://vault.azure.net`, so every spelling is reduced to the allow-list's own form.
 */
export function audienceFor(resource: string, allowed: string[]): string {
  const canonical = (r: string) =>
    r
      .trim()
      .replace(/\/\.default$/i, '')
      .replace(/\/+$/, '')
      .toLowerCase();
  const wanted = canonical(resource);
  const match = allowed.find((a) => canonical(a) === wanted);
  if (!match) throw new ResourceNotAllowed(resource, allowed);
  return match.replace(/\/+$/, '');
}

export interface IssueOptions {
  issuer: string;
  tenantId: string;
  lifetimeSeconds: number;
  now: Date;
}

/** The JSON IMDS answers with; the numbers are strings, as IMDS sends them. */
export interface TokenResponse {
  access_token: string;
  refresh_token: '';
  expires_in: string;
  expires_on: string;
  ext_expires_in: string;
  not_before: string;
  resource: string;
  token_type: 'Bearer';
  client_id: string;
}

/**
 * An RS256 access token shaped like the v1 tokens Entra issues to managed identities
 * (`oid` = `sub`, `appid`, `tid`, `xms_mirid`, `idtyp: app`), so a relying party that reads
 * Entra's claims reads ours unchanged.
 */
export async function issueAccessToken(principal: Principal, resource: string, audience: string, key: SigningKey, options: IssueOptions): Promise<TokenResponse> {
  const iat = Math.floor(options.now.getTime() / 1000);
  const exp = iat + options.lifetimeSeconds;
  const accessToken = await new SignJWT({
    oid: principal.objectId,
    appid: principal.clientId,
    appidacr: '2',
    idtyp: 'app',
    tid: options.tenantId,
    ver: '1.0',
    xms_mirid: principal.resourceId,
  })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
    .setIssuer(options.issuer)
    .setSubject(principal.objectId)
    .setAudience(audience)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(exp)
    .setJti(randomBytes(16).toString('base64url'))
    .sign(key.privateKey);
  return {
    access_token: accessToken,
    refresh_token: '',
    expires_in: String(options.lifetimeSeconds),
    expires_on: String(exp),
    ext_expires_in: String(options.lifetimeSeconds),
    not_before: String(iat),
    // IMDS echoes the resource as the caller wrote it.
    resource,
    token_type: 'Bearer',
    client_id: principal.clientId,
  };
}
