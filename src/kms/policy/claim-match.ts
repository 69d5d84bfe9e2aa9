import type { ClaimCondition, ClaimOperator, ClaimValue } from './types';

/** Actual values in explanations are cut to this many characters: enough to compare, not a dump of the token. */
export const MAX_ACTUAL_CHARS = 128;

type Lookup = { found: true; value: unknown } | { found: false };

/**
 * Resolves a claim name against the token's claims. A dot navigates into nested objects
 * (`x-ms-isolation-tee.x-ms-attestation-type`), but at each level the longest run of segments
 * that is itself a key wins, so a literal key containing dots takes precedence. The walk is
 * greedy, never backtracking: token claims can carry caller-chosen data (`x-ms-runtime`), and
 * trying every split would be exponential. Only own properties count, never prototype ones.
 */
export function lookupClaim(claims: Record<string, unknown>, name: string): Lookup {
  const segments = name.split('.');
  let node: unknown = claims;
  let at = 0;
  while (at < segments.length) {
    if (!isPlainObject(node)) return { found: false };
    let next = -1;
    for (let end = segments.length; end > at; end--) {
      if (Object.hasOwn(node, segments.slice(at, end).join('.'))) {
        next = end;
        break;
      }
    }
    if (next < 0) return { found: false };
    node = node[segments.slice(at, next).join('.')];
    at = next;
  }
  return { found: true, value: node };
}

/**
 * Each operator's test of a claim's scalar value against the condition's. Key Vault compares
 * type-leniently: production policies say `"equals":"false"` for a boolean claim and
 * `"equals":"0"` for a number, so scalars compare by their JSON-scalar text, exactly (case and
 * whitespace matter).
 */
const OPERATORS: Record<ClaimOperator, { holds(actual: ClaimValue, value: ClaimValue): boolean; pins: boolean }> = {
  equals: { holds: (actual, value) => String(actual) === String(value), pins: true },
};

/** Whether the claim's value meets the condition; objects, arrays and null meet none (`not_scalar`). */
export function matchClaim(actual: unknown, condition: ClaimCondition): 'holds' | 'mismatch' | 'not_scalar' {
  if (!isScalar(actual)) return 'not_scalar';
  return OPERATORS[condition.operator].holds(actual, condition.value) ? 'holds' : 'mismatch';
}

/**
 * The one value (as the text claims compare by) a claim must have for the condition to hold, or
 * undefined when the operator admits several: what a linter reads as the condition pinning.
 */
export function pinnedValue(condition: ClaimCondition): string | undefined {
  return OPERATORS[condition.operator].pins ? String(condition.value) : undefined;
}

/** A bounded rendering of a claim value for an explanation. */
export function describeActual(value: unknown): unknown {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > MAX_ACTUAL_CHARS ? `${text.slice(0, MAX_ACTUAL_CHARS)}… (${text.length} chars)` : text;
}

function isScalar(value: unknown): value is ClaimValue {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
