/** The values a claim condition may require: JSON scalars (the grammar has no objects or arrays). */
export type ClaimValue = string | number | boolean;

/** `{claim, equals}` (or the preview `{claim, condition:"equals", value}`), normalised. */
export interface ClaimCondition {
  kind: 'claim';
  /** Where the node sits in the policy document, e.g. `$.anyOf[0].allOf[2]`. */
  path: string;
  claim: string;
  equals: ClaimValue;
}

export interface ConditionGroup {
  kind: 'allOf' | 'anyOf';
  path: string;
  conditions: Condition[];
}

export type Condition = ClaimCondition | ConditionGroup;

/** One entry of the top-level `anyOf`: the conditions a token from `authority` must meet. */
export interface AuthorityRule extends ConditionGroup {
  authority: string;
}

export interface ReleasePolicy {
  /** `1.0.0`, the legacy `0.2`, or absent in the preview form. */
  version?: string;
  anyOf: AuthorityRule[];
}

export interface ClaimFailure {
  path: string;
  claim: string;
  expected: ClaimValue;
  /** The token's value, long strings and objects cut short; absent when the claim is missing. */
  actual?: unknown;
  reason: 'missing' | 'mismatch' | 'not_scalar';
}

export interface BranchExplanation {
  path: string;
  authority: string;
  issuerMatches: boolean;
  /** Present for branches whose authority is the token's issuer: those are the ones evaluated. */
  satisfied?: boolean;
  failed?: ClaimFailure[];
}

export type ReleaseReason = 'policy_satisfied' | 'authority_not_in_policy' | 'claims_not_satisfied';

export interface ReleaseExplanation {
  /** One human-readable paragraph. */
  summary: string;
  issuer: string;
  branches: BranchExplanation[];
}

export interface ReleaseDecision {
  allowed: boolean;
  reason: ReleaseReason;
  /** The authority (as the policy spells it) of the branch that allowed, or else of the first branch tried. */
  authority: string | null;
  explanation: ReleaseExplanation;
}
