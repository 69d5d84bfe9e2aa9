import { TokenInvalid } from '../../errors';
import type { TokenVerifier } from '../../oidc';
import { trimSlash } from '../../oidc';

/** The audiences Key Vault and Managed HSM tokens carry. */
export const DEFAULT_AUDIENCES = ['https://vault.azure.net', 'https://managedhsm.azure.net'];

export interface Caller {
  /** Object id of the caller (`oid`, else `sub`): what role assignments name. */
  principal: string;
  issuer: string;
}

/**
 * Verifies a bearer access token: signature, issuer allow-list, algorithm allow-list and
 * exp/nbf through the TokenVerifier, then the audience (which the verifier leaves to the
 * relying party) and a principal id.
 */
export async function authenticate(token: string, verifier: TokenVerifier, audiences: string[]): Promise<Caller> {
  const payload = await verifier.verify(token);
  // jose checks exp only when present; an access token without one would never expire.
  if (typeof payload.exp !== 'number') throw new TokenInvalid('the token has no expiry (exp)');
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const accepted = audiences.map(trimSlash);
  if (!aud.some((a) => typeof a === 'string' && accepted.includes(trimSlash(a)))) {
    throw new TokenInvalid('AKV10022: Invalid audience', { expected: accepted, actual: payload.aud });
  }
  const principal = typeof payload.oid === 'string' && payload.oid ? payload.oid : payload.sub;
  if (typeof principal !== 'string' || !principal) throw new TokenInvalid('the token names no principal (oid or sub)');
  return { principal, issuer: trimSlash(String(payload.iss)) };
}
