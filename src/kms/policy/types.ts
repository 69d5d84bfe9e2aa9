import type { ReleasePolicyInvalid } from '../../errors';

/** The values a claim condition may require: JSON scalars (the grammar has no objects or arrays). */
export type ClaimValue = string | number | boolean;

/**
 * The claim operators the KMS implements. Key Vault's grammar names more (parse.ts) but
 * implements only `equals`. Adding one touches this union (and ClaimFailure if its explanation
 * needs the operator), parse.ts (its spelling and value), claim-match.ts (its comparison and
 * what it pins) and evaluate.ts (the words of its explanation); nothing outside this folder.
 */
export type ClaimOperator = 'equals';

/** `{claim, <operator>: value}` (or the preview `{claim, condition:"<operator>", value}`), normalised. */
export interface ClaimCondition {
  kind: 'claim';
  /** Where the node sits in the policy document, e.g. `$.anyOf[0].allOf[2]`. */
  path: string;
  claim: string;
  operator: ClaimOperator;
  /** What the operator compares the claim's value with. */
  value: ClaimValue;
  /** Written in the preview `{condition, value}` form, which linting asks to modernise. */
  preview?: true;
}

/**
 * A claim condition with an operator Key Vault's grammar names but does not implement
 * (`exists`, `notEquals`, the orderings). Only a draft holds these: the KMS refuses them.
 */
export interface UnsupportedClaimCondition {
  kind: 'unsupported_claim';
  path: string;
  claim: string;
  operator: string;
  /** What the KMS answers for this node (its path is where the operator is written). */
  refusal: ReleasePolicyInvalid;
}

/** `Extra` is what a draft may hold beyond the grammar the KMS accepts; a policy holds nothing more. */
export interface ConditionGroup<Extra = never> {
  kind: 'allOf' | 'anyOf';
  path: string;
  conditions: Condition<Extra>[];
}

export type Condition<Extra = never> = ClaimCondition | ConditionGroup<Extra> | Extra;

/** One entry of the top-level `anyOf`: the conditions a token from `authority` must meet. */
export interface AuthorityRule<Extra = never> extends ConditionGroup<Extra> {
  authority: string;
}

export interface ReleasePolicy<Extra = never> {
  /** `1.0.0`, the legacy `0.2`, or absent in the preview form (in a draft: any string). */
  version?: string;
  anyOf: AuthorityRule<Extra>[];
}

/**
 * A policy as written, for linting: the grammar's structure holds, but the version may be one
 * the KMS does not accept, an authority may not be an issuer URL, and claim conditions may use
 * operators Key Vault does not implement. The KMS only ever sees a `ReleasePolicy`.
 */
export type ReleasePolicyDraft = ReleasePolicy<UnsupportedClaimCondition>;

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
