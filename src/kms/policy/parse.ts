import { ReleasePolicyInvalid } from '../../errors';
import { canonicalAuthority } from './authority';
import type { AuthorityRule, ClaimCondition, ClaimValue, Condition, ConditionGroup, ReleasePolicy } from './types';

/** Bounds that keep evaluation and explanations small whatever a policy author (or attacker) sends. */
export const POLICY_LIMITS = {
  bytes: 64 * 1024,
  /** Nesting of allOf/anyOf groups, the authority's own group counting as 1. */
  depth: 32,
  /** Authorities, groups and claim conditions together. */
  nodes: 2048,
  claimNameChars: 256,
  claimNameSegments: 32,
  valueChars: 4096,
} as const;

/** `1.0.0` is the documented grammar; `0.2` is what Microsoft's MHSM setup script still sends, with the same grammar. */
export const POLICY_VERSIONS = ['1.0.0', '0.2'] as const;

/** The comparison operators of Key Vault's grammar; only `equals` is implemented there, and here. */
const KNOWN_OPERATORS = ['equals', 'notEquals', 'less', 'lessOrEquals', 'greater', 'greaterOrEquals', 'exists'];

type Json = Record<string, unknown>;

/**
 * Parses and validates a release policy: `{version, anyOf:[{authority, allOf|anyOf:[…]}]}`
 * with groups nested to any depth (within POLICY_LIMITS) and `{claim, equals}` or the preview
 * `{claim, condition:"equals", value}` leaves. Anything else is refused with the path of the
 * offending node, including empty groups: an empty `allOf` would release to any token the
 * authority signs.
 */
export function parseReleasePolicy(input: string | Uint8Array | object): ReleasePolicy {
  const document = typeof input === 'string' || input instanceof Uint8Array ? parseJson(input) : input;
  const budget = { nodes: 0 };
  if (!isObject(document)) throw new ReleasePolicyInvalid('$', 'a policy is a JSON object');
  onlyKeys(document, '$', ['version', 'anyOf']);

  const policy: ReleasePolicy = { anyOf: [] };
  if (document.version !== undefined) {
    if (typeof document.version !== 'string' || !(POLICY_VERSIONS as readonly string[]).includes(document.version)) {
      throw new ReleasePolicyInvalid('$.version', `version ${JSON.stringify(document.version)} is not supported (${POLICY_VERSIONS.join(', ')})`);
    }
    policy.version = document.version;
  }
  const authorities = nonEmptyArray(document.anyOf, '$.anyOf');
  policy.anyOf = authorities.map((node, i) => parseAuthority(node, `$.anyOf[${i}]`, budget));
  return policy;
}

function parseJson(input: string | Uint8Array): unknown {
  const text = typeof input === 'string' ? input : decodeUtf8(input);
  if (Buffer.byteLength(text, 'utf8') > POLICY_LIMITS.bytes) throw new ReleasePolicyInvalid('$', `a policy is at most ${POLICY_LIMITS.bytes} bytes`);
  try {
    // Editors on Windows save a byte-order mark; it carries no meaning.
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new ReleasePolicyInvalid('$', `not JSON (${(error as Error).message})`);
  }
}

function decodeUtf8(bytes: Uint8Array): string {
  if (bytes.length > POLICY_LIMITS.bytes) throw new ReleasePolicyInvalid('$', `a policy is at most ${POLICY_LIMITS.bytes} bytes`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ReleasePolicyInvalid('$', 'not UTF-8');
  }
}

function parseAuthority(node: unknown, path: string, budget: { nodes: number }): AuthorityRule {
  count(budget, path);
  if (!isObject(node)) throw new ReleasePolicyInvalid(path, 'an authority entry is an object {authority, allOf|anyOf}');
  const kind = groupKind(node, path, ['authority']);
  if (typeof node.authority !== 'string' || canonicalAuthority(node.authority) === undefined) {
    throw new ReleasePolicyInvalid(`${path}.authority`, 'authority must be the attestation service URL (http or https, no credentials or fragment)');
  }
  return { authority: node.authority, ...parseGroup(node, kind, path, 1, budget) };
}

function parseCondition(node: unknown, path: string, depth: number, budget: { nodes: number }): Condition {
  count(budget, path);
  if (!isObject(node)) throw new ReleasePolicyInvalid(path, 'a condition is an object: {claim, equals} or {allOf|anyOf: […]}');
  if ('claim' in node) return parseClaim(node, path);
  if (depth + 1 > POLICY_LIMITS.depth) throw new ReleasePolicyInvalid(path, `groups nest at most ${POLICY_LIMITS.depth} deep`);
  return parseGroup(node, groupKind(node, path, []), path, depth + 1, budget);
}

/** Exactly one of allOf / anyOf, beside the keys the node may also carry. */
function groupKind(node: Json, path: string, also: string[]): 'allOf' | 'anyOf' {
  const hasAll = node.allOf !== undefined;
  const hasAny = node.anyOf !== undefined;
  if (hasAll === hasAny) throw new ReleasePolicyInvalid(path, hasAll ? 'allOf and anyOf cannot be combined in one node' : 'expected allOf or anyOf');
  const kind = hasAll ? 'allOf' : 'anyOf';
  onlyKeys(node, path, [...also, kind]);
  return kind;
}

function parseGroup(node: Json, kind: 'allOf' | 'anyOf', path: string, depth: number, budget: { nodes: number }): ConditionGroup {
  const items = nonEmptyArray(node[kind], `${path}.${kind}`);
  return { kind, path, conditions: items.map((item, i) => parseCondition(item, `${path}.${kind}[${i}]`, depth, budget)) };
}

function parseClaim(node: Json, path: string): ClaimCondition {
  const claim = node.claim;
  if (typeof claim !== 'string' || claim.length === 0 || claim.length > POLICY_LIMITS.claimNameChars) {
    throw new ReleasePolicyInvalid(`${path}.claim`, `claim must be a name of 1..${POLICY_LIMITS.claimNameChars} characters`);
  }
  if (claim.split('.').length > POLICY_LIMITS.claimNameSegments) {
    throw new ReleasePolicyInvalid(`${path}.claim`, `a claim path has at most ${POLICY_LIMITS.claimNameSegments} segments`);
  }
  let value: unknown;
  let valuePath: string;
  if ('condition' in node) {
    onlyKeys(node, path, ['claim', 'condition', 'value']);
    if (node.condition !== 'equals') throw unsupportedOperator(`${path}.condition`, node.condition);
    value = node.value;
    valuePath = `${path}.value`;
  } else {
    const operator = Object.keys(node).find((key) => key !== 'claim');
    if (operator !== undefined && operator !== 'equals' && KNOWN_OPERATORS.includes(operator)) throw unsupportedOperator(`${path}.${operator}`, operator);
    onlyKeys(node, path, ['claim', 'equals']);
    value = node.equals;
    valuePath = `${path}.equals`;
  }
  return { kind: 'claim', path, claim, equals: claimValue(value, valuePath) };
}

function claimValue(value: unknown, path: string): ClaimValue {
  if (value === undefined) throw new ReleasePolicyInvalid(path, 'the expected value is missing');
  if (typeof value === 'string') {
    if (value.length > POLICY_LIMITS.valueChars) throw new ReleasePolicyInvalid(path, `a value is at most ${POLICY_LIMITS.valueChars} characters`);
    return value;
  }
  if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return value;
  throw new ReleasePolicyInvalid(path, 'a value is a string, a number or a boolean');
}

function unsupportedOperator(path: string, operator: unknown): ReleasePolicyInvalid {
  return new ReleasePolicyInvalid(path, `operator ${JSON.stringify(operator)} is not supported; only equals is`);
}

function onlyKeys(node: Json, path: string, allowed: string[]): void {
  const extra = Object.keys(node).find((key) => !allowed.includes(key));
  if (extra !== undefined) throw new ReleasePolicyInvalid(`${path}.${extra}`, `unexpected member (allowed here: ${allowed.join(', ')})`);
}

function nonEmptyArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new ReleasePolicyInvalid(path, 'expected an array');
  if (value.length === 0) throw new ReleasePolicyInvalid(path, 'an empty list is not allowed (it would match nothing or everything)');
  return value;
}

function count(budget: { nodes: number }, path: string): void {
  if (++budget.nodes > POLICY_LIMITS.nodes) throw new ReleasePolicyInvalid(path, `a policy has at most ${POLICY_LIMITS.nodes} nodes`);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
