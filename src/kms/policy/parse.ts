import { ReleasePolicyInvalid } from '../../errors';
import { canonicalAuthority } from './authority';
import type { AuthorityRule, ClaimCondition, ClaimOperator, ClaimValue, Condition, ConditionGroup, ReleasePolicy, ReleasePolicyDraft, UnsupportedClaimCondition } from './types';

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

/** The only version Key Vault and Managed HSM document: what policies should say. */
export const DOCUMENTED_POLICY_VERSION = '1.0.0';

/** Besides the documented one, `0.2`: what Microsoft's MHSM setup script still sends, with the same grammar. */
export const POLICY_VERSIONS = [DOCUMENTED_POLICY_VERSION, '0.2'] as const;

/** The operators this KMS implements (see ClaimOperator); Key Vault implements only `equals`. */
const IMPLEMENTED_OPERATORS: readonly ClaimOperator[] = ['equals'];

/** Every comparison operator Key Vault's grammar names, implemented or not. */
const NAMED_OPERATORS: readonly string[] = [...IMPLEMENTED_OPERATORS, 'notEquals', 'less', 'lessOrEquals', 'greater', 'greaterOrEquals', 'exists'];

type Json = Record<string, unknown>;

/**
 * What to do at the three places a policy can be well formed yet not acceptable to the KMS.
 * Parsing refuses at each (so the first problem in document order is the one reported);
 * drafting keeps the node as written and goes on, so a linter can judge the rest.
 */
interface Leniency<Extra> {
  version(path: string, version: string): void;
  authority(path: string): void;
  /** `at` is where the operator is written: `…allOf[2].exists`, or `…allOf[2].condition` in the preview form. */
  operator(condition: { path: string; claim: string; operator: string; at: string }): Extra;
}

interface Walk<Extra> {
  nodes: number;
  leniency: Leniency<Extra>;
}

const STRICT: Leniency<never> = {
  version(path, version) {
    throw new ReleasePolicyInvalid(path, `version ${JSON.stringify(version)} is not supported (${POLICY_VERSIONS.join(', ')})`);
  },
  authority(path) {
    throw invalidAuthority(path);
  },
  operator({ at, operator }) {
    throw unsupportedOperator(at, operator);
  },
};

const DRAFT: Leniency<UnsupportedClaimCondition> = {
  version() {},
  authority() {},
  operator({ path, claim, operator, at }) {
    return { kind: 'unsupported_claim', path, claim, operator, refusal: unsupportedOperator(at, operator) };
  },
};

/**
 * Parses and validates a release policy: `{version, anyOf:[{authority, allOf|anyOf:[…]}]}`
 * with groups nested to any depth (within POLICY_LIMITS) and `{claim, equals}` or the preview
 * `{claim, condition:"equals", value}` leaves (any implemented operator in place of equals).
 * Anything else is refused with the path of the offending node, including empty groups: an
 * empty `allOf` would release to any token the authority signs.
 */
export function parseReleasePolicy(input: string | Uint8Array | object): ReleasePolicy {
  return parseDocument(typeof input === 'string' || input instanceof Uint8Array ? parseJson(input) : input, STRICT);
}

/**
 * The same grammar, read for linting an already-decoded JSON value: a policy whose structure is
 * wrong is refused as parseReleasePolicy refuses it, but an unsupported version, an authority
 * that is not an issuer URL and a claim operator Key Vault does not implement are kept as written.
 */
export function parseReleasePolicyDraft(document: unknown): ReleasePolicyDraft {
  return parseDocument(document, DRAFT);
}

function parseDocument<Extra>(document: unknown, leniency: Leniency<Extra>): ReleasePolicy<Extra> {
  const walk: Walk<Extra> = { nodes: 0, leniency };
  if (!isObject(document)) throw new ReleasePolicyInvalid('$', 'a policy is a JSON object');
  onlyKeys(document, '$', ['version', 'anyOf']);

  const policy: ReleasePolicy<Extra> = { anyOf: [] };
  if (document.version !== undefined) {
    if (typeof document.version !== 'string') {
      throw new ReleasePolicyInvalid('$.version', `version ${JSON.stringify(document.version)} is not supported (${POLICY_VERSIONS.join(', ')})`);
    }
    if (!(POLICY_VERSIONS as readonly string[]).includes(document.version)) leniency.version('$.version', document.version);
    policy.version = document.version;
  }
  const authorities = nonEmptyArray(document.anyOf, '$.anyOf');
  policy.anyOf = authorities.map((node, i) => parseAuthority(node, `$.anyOf[${i}]`, walk));
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

function parseAuthority<Extra>(node: unknown, path: string, walk: Walk<Extra>): AuthorityRule<Extra> {
  count(walk, path);
  if (!isObject(node)) throw new ReleasePolicyInvalid(path, 'an authority entry is an object {authority, allOf|anyOf}');
  const kind = groupKind(node, path, ['authority']);
  if (typeof node.authority !== 'string') throw invalidAuthority(`${path}.authority`);
  if (canonicalAuthority(node.authority) === undefined) walk.leniency.authority(`${path}.authority`);
  return { authority: node.authority, ...parseGroup(node, kind, path, 1, walk) };
}

function parseCondition<Extra>(node: unknown, path: string, depth: number, walk: Walk<Extra>): Condition<Extra> {
  count(walk, path);
  if (!isObject(node)) throw new ReleasePolicyInvalid(path, 'a condition is an object: {claim, equals} or {allOf|anyOf: […]}');
  if ('claim' in node) return parseClaim(node, path, walk.leniency);
  if (depth + 1 > POLICY_LIMITS.depth) throw new ReleasePolicyInvalid(path, `groups nest at most ${POLICY_LIMITS.depth} deep`);
  return parseGroup(node, groupKind(node, path, []), path, depth + 1, walk);
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

function parseGroup<Extra>(node: Json, kind: 'allOf' | 'anyOf', path: string, depth: number, walk: Walk<Extra>): ConditionGroup<Extra> {
  const items = nonEmptyArray(node[kind], `${path}.${kind}`);
  return { kind, path, conditions: items.map((item, i) => parseCondition(item, `${path}.${kind}[${i}]`, depth, walk)) };
}

function parseClaim<Extra>(node: Json, path: string, leniency: Leniency<Extra>): ClaimCondition | Extra {
  const claim = node.claim;
  if (typeof claim !== 'string' || claim.length === 0 || claim.length > POLICY_LIMITS.claimNameChars) {
    throw new ReleasePolicyInvalid(`${path}.claim`, `claim must be a name of 1..${POLICY_LIMITS.claimNameChars} characters`);
  }
  if (claim.split('.').length > POLICY_LIMITS.claimNameSegments) {
    throw new ReleasePolicyInvalid(`${path}.claim`, `a claim path has at most ${POLICY_LIMITS.claimNameSegments} segments`);
  }
  if ('condition' in node) {
    onlyKeys(node, path, ['claim', 'condition', 'value']);
    const operator = node.condition;
    if (isImplemented(operator)) return { kind: 'claim', path, claim, operator, value: claimValue(node.value, `${path}.value`), preview: true };
    if (typeof operator !== 'string' || !NAMED_OPERATORS.includes(operator)) throw unsupportedOperator(`${path}.condition`, operator);
    return leniency.operator({ path, claim, operator, at: `${path}.condition` });
  }
  // The first member beside `claim` names the operator; any further member is refused by onlyKeys.
  const operator = Object.keys(node).find((key) => key !== 'claim');
  if (operator === undefined) throw new ReleasePolicyInvalid(`${path}.equals`, 'the expected value is missing');
  if (!NAMED_OPERATORS.includes(operator)) throw unexpectedMember(`${path}.${operator}`, ['claim', ...IMPLEMENTED_OPERATORS]);
  if (isImplemented(operator)) {
    onlyKeys(node, path, ['claim', operator]);
    return { kind: 'claim', path, claim, operator, value: claimValue(node[operator], `${path}.${operator}`) };
  }
  const unsupported = leniency.operator({ path, claim, operator, at: `${path}.${operator}` });
  onlyKeys(node, path, ['claim', operator]);
  return unsupported;
}

function isImplemented(operator: unknown): operator is ClaimOperator {
  return (IMPLEMENTED_OPERATORS as readonly unknown[]).includes(operator);
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

function invalidAuthority(path: string): ReleasePolicyInvalid {
  return new ReleasePolicyInvalid(path, 'authority must be the attestation service URL (http or https, no credentials or fragment)');
}

function onlyKeys(node: Json, path: string, allowed: string[]): void {
  const extra = Object.keys(node).find((key) => !allowed.includes(key));
  if (extra !== undefined) throw unexpectedMember(`${path}.${extra}`, allowed);
}

function unexpectedMember(path: string, allowed: readonly string[]): ReleasePolicyInvalid {
  return new ReleasePolicyInvalid(path, `unexpected member (allowed here: ${allowed.join(', ')})`);
}

function nonEmptyArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new ReleasePolicyInvalid(path, 'expected an array');
  if (value.length === 0) throw new ReleasePolicyInvalid(path, 'an empty list is not allowed (it would match nothing or everything)');
  return value;
}

function count(walk: { nodes: number }, path: string): void {
  if (++walk.nodes > POLICY_LIMITS.nodes) throw new ReleasePolicyInvalid(path, `a policy has at most ${POLICY_LIMITS.nodes} nodes`);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
