import type { VerifiedReport } from '../../snp';
import { appraiseUvmEndorsements, type UvmIssuer } from '..';
import type { AppraisalPolicy } from './appraisal-policy';

export interface UvmClaims {
  /** A trusted endorsement of this report's launch measurement verified. */
  endorsed: boolean;
  claims: Record<string, unknown>;
}

/**
 * The claims a verified UVM endorsement backs: MAA's `x-ms-sevsnpvm-uvm-endorsement` (the
 * payload's fields). When endorsements were sent but none verified, `x-skr-uvm-endorsement-refused`
 * lists why, so an operator can tell a missing endorsement from a refused one.
 */
export function uvmEndorsementClaims(endorsements: Buffer[], verified: VerifiedReport, policy: AppraisalPolicy, extraIssuers: UvmIssuer[], now: Date): UvmClaims {
  const { endorsement, refusals } = appraiseUvmEndorsements(endorsements, {
    trusted: [...policy.trustedUvmIssuers, ...extraIssuers],
    measurement: verified.report.measurement,
    minimumSvn: policy.minimumUvmSvn,
    now,
  });
  if (endorsement) return { endorsed: true, claims: { 'x-ms-sevsnpvm-uvm-endorsement': endorsement.claim } };
  return { endorsed: false, claims: refusals.length > 0 ? { 'x-skr-uvm-endorsement-refused': refusals } : {} };
}
