/** Key Vault release policies: the grammar, the decision, and the explanation of a denial. */
export { DOCUMENTED_POLICY_VERSION, parseReleasePolicy, parseReleasePolicyDraft, POLICY_LIMITS, POLICY_VERSIONS } from './parse';
export { evaluateReleasePolicy } from './evaluate';
export { explainRelease, type ReleaseExplanationReport } from './explain';
export { releaseDenied } from './denied';
export { canonicalAuthority, sameAuthority } from './authority';
export { pinnedValue } from './claim-match';
export type {
  AuthorityRule,
  BranchExplanation,
  ClaimCondition,
  ClaimOperator,
  ClaimFailure,
  ClaimValue,
  Condition,
  ConditionGroup,
  ReleaseDecision,
  ReleaseExplanation,
  ReleasePolicy,
  ReleasePolicyDraft,
  ReleaseReason,
  UnsupportedClaimCondition,
} from './types';
