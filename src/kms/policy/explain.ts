import { decodeJwt } from 'jose';
import { InvalidArgument } from '../../errors';
import { evaluateReleasePolicy } from './evaluate';
import { parseReleasePolicy } from './parse';
import type { ReleaseDecision } from './types';

export interface ReleaseExplanationReport extends ReleaseDecision {
  /** Always false: explaining reads the token's claims but does not check who signed it. */
  tokenVerified: false;
  issuer: string;
}

/**
 * What the KMS would decide for this token under this policy, for `skr policy explain`. The
 * token is decoded, NOT verified: the answer says whether the claims satisfy the policy, not
 * whether the token is genuine, and says so in `tokenVerified`.
 */
export function explainRelease({ policy, token }: { policy: string | Uint8Array | object; token: string }): ReleaseExplanationReport {
  const parsed = parseReleasePolicy(policy);
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(token.trim());
  } catch (error) {
    throw new InvalidArgument(`the token is not a compact JWT (${(error as Error).message})`);
  }
  const issuer = typeof claims.iss === 'string' ? claims.iss : '';
  return { tokenVerified: false, issuer, ...evaluateReleasePolicy(parsed, claims, issuer) };
}
