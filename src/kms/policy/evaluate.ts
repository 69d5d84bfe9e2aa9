import { sameAuthority } from './authority';
import { describeActual, lookupClaim, matchClaim } from './claim-match';
import type { BranchExplanation, ClaimFailure, Condition, ReleaseDecision, ReleasePolicy } from './types';

/** The summary names this many failed claims; the branches carry all of them. */
const SUMMARY_FAILURES = 5;

/**
 * Decides a release: allowed exactly when some authority entry whose authority is the token's
 * issuer has its conditions met by the claims. Deny by default: an issuer the policy does not
 * name denies with `authority_not_in_policy`. Every branch is evaluated in full (no short
 * circuit) so the explanation can list each failed claim with what was expected and found.
 * The claims must come from a token already verified as issued by `issuer`.
 */
export function evaluateReleasePolicy(policy: ReleasePolicy, claims: Record<string, unknown>, issuer: string): ReleaseDecision {
  const branches: BranchExplanation[] = policy.anyOf.map((rule) => {
    if (!sameAuthority(rule.authority, issuer)) return { path: rule.path, authority: rule.authority, issuerMatches: false };
    const failed = failures(rule, claims);
    return { path: rule.path, authority: rule.authority, issuerMatches: true, satisfied: failed.length === 0, failed };
  });
  const tried = branches.filter((branch) => branch.issuerMatches);
  const winner = tried.find((branch) => branch.satisfied);
  const reason = winner ? 'policy_satisfied' : tried.length === 0 ? 'authority_not_in_policy' : 'claims_not_satisfied';
  return {
    allowed: winner !== undefined,
    reason,
    authority: (winner ?? tried[0])?.authority ?? null,
    explanation: { summary: summarize(reason, issuer, branches), issuer, branches },
  };
}

/** The claim failures that make `condition` false; none when it holds. An anyOf that holds hides its failed alternatives. */
function failures(condition: Condition, claims: Record<string, unknown>): ClaimFailure[] {
  if (condition.kind === 'claim') {
    const { path, claim, value: expected } = condition;
    const found = lookupClaim(claims, claim);
    if (!found.found) return [{ path, claim, expected, reason: 'missing' }];
    const verdict = matchClaim(found.value, condition);
    return verdict === 'holds' ? [] : [{ path, claim, expected, actual: describeActual(found.value), reason: verdict }];
  }
  const children = condition.conditions.map((child) => failures(child, claims));
  const holds = condition.kind === 'allOf' ? children.every((f) => f.length === 0) : children.some((f) => f.length === 0);
  return holds ? [] : children.flat();
}

function summarize(reason: ReleaseDecision['reason'], issuer: string, branches: BranchExplanation[]): string {
  if (reason === 'authority_not_in_policy') {
    const named = [...new Set(branches.map((branch) => branch.authority))].join(', ');
    return (
      `Release denied: the token's issuer ${JSON.stringify(issuer)} is not an authority of this policy, which names ${named}. ` +
      'Authorities match the issuer ignoring a trailing slash and the case of scheme and host.'
    );
  }
  const tried = branches.filter((branch) => branch.issuerMatches);
  if (reason === 'policy_satisfied') {
    const winner = tried.find((branch) => branch.satisfied)!;
    return `Release allowed: the token from ${issuer} meets every condition of ${winner.path} (authority ${winner.authority}).`;
  }
  const all = tried.flatMap((branch) => branch.failed!.map(describeFailure));
  const shown = all.slice(0, SUMMARY_FAILURES).join('; ');
  const more = all.length > SUMMARY_FAILURES ? `; and ${all.length - SUMMARY_FAILURES} more` : '';
  return (
    `Release denied: the issuer ${issuer} matches ${tried.length} ${tried.length === 1 ? 'branch' : 'branches'} of the policy ` +
    `(${tried.map((branch) => branch.path).join(', ')}) and none is satisfied: ${shown}${more}.`
  );
}

function describeFailure({ path, claim, expected, actual, reason }: ClaimFailure): string {
  const want = JSON.stringify(expected);
  if (reason === 'missing') return `${path}: claim ${claim} (expected ${want}) is missing from the token`;
  if (reason === 'not_scalar') return `${path}: claim ${claim} is not a single value (expected ${want}, found ${String(actual)})`;
  return `${path}: claim ${claim} is ${JSON.stringify(actual)}, expected ${want}`;
}
