import { ReleasePolicyNotSatisfied, type ErrorDetails } from '../../errors';
import type { ReleaseDecision } from './types';

/** The 403 a denied decision becomes, carrying the explanation for the KMS envelope, the audit log and the CLI. */
export function releaseDenied(decision: ReleaseDecision, extra?: ErrorDetails): ReleasePolicyNotSatisfied {
  return new ReleasePolicyNotSatisfied(decision.explanation.summary, {
    ...extra,
    reason: decision.reason,
    authority: decision.authority,
    explanation: decision.explanation,
  });
}
