import { ReleasePolicyInvalid } from '../../../src/errors';
import { parseReleasePolicy, parseReleasePolicyDraft, POLICY_LIMITS } from '../../../src/kms/policy';
import { CVM_POLICY, LEGACY_POLICY, MHSM_SETUP_POLICY, SDK_TEST_POLICY, SNP_CONTAINER_POLICY } from './samples';

const AUTH = 'https://maa.example';
const withConditions = (conditions: unknown[]) => ({ version: '1.0.0', anyOf: [{ authority: AUTH, allOf: conditions }] });
const claim = { claim: 'c', equals: 'v' };

/** allOf groups nested `levels` deep below the authority's own group. */
function nested(levels: number): unknown {
  let node: unknown = claim;
  for (let i = 0; i < levels; i++) node = { allOf: [node] };
  return withConditions([node]);
}

describe('parseReleasePolicy accepts the published grammar', () => {
  test.each([
    ['SEV-SNP container (1.0.0)', SNP_CONTAINER_POLICY],
    ['MHSM setup script (0.2)', MHSM_SETUP_POLICY],
    ['CVM, two authorities, anyOf inside allOf', CVM_POLICY],
    ['Azure SDK live test', SDK_TEST_POLICY],
    ['preview condition/value form without version', LEGACY_POLICY],
  ])('%s', (_name, policy) => {
    for (const input of [policy, JSON.stringify(policy), Buffer.from(JSON.stringify(policy)), new TextEncoder().encode(`\uFEFF${JSON.stringify(policy)}`)]) {
      expect(parseReleasePolicy(input)).toMatchObject({ anyOf: expect.any(Array) });
    }
  });

  test('normalises leaves and records each node path', () => {
    const parsed = parseReleasePolicy(CVM_POLICY);
    expect(parsed.version).toBe('1.0.0');
    expect(parsed.anyOf[0]).toMatchObject({ authority: 'https://sharedeus.eus.attest.azure.net/', kind: 'allOf', path: '$.anyOf[0]' });
    expect(parsed.anyOf[0]!.conditions[2]).toEqual({
      kind: 'anyOf',
      path: '$.anyOf[0].allOf[2]',
      conditions: [
        { kind: 'claim', path: '$.anyOf[0].allOf[2].anyOf[0]', claim: 'x-ms-isolation-tee.x-ms-sevsnpvm-is-debuggable', operator: 'equals', value: false },
        { kind: 'claim', path: '$.anyOf[0].allOf[2].anyOf[1]', claim: 'x-ms-isolation-tee.x-ms-sevsnpvm-is-debuggable', operator: 'equals', value: 'false' },
      ],
    });
    expect(parseReleasePolicy(LEGACY_POLICY).anyOf[0]!.conditions[0]).toEqual({ kind: 'claim', path: '$.anyOf[0].allOf[0]', claim: 'x-ms-sevsnpvm-vmpl', operator: 'equals', value: 0, preview: true });
    expect(parseReleasePolicy(LEGACY_POLICY).version).toBeUndefined();
  });

  test(`groups nest to depth ${POLICY_LIMITS.depth}, the authority's group included`, () => {
    expect(() => parseReleasePolicy(nested(POLICY_LIMITS.depth - 1) as object)).not.toThrow();
  });
});

const INVALID: [string, unknown, string][] = [
  ['not JSON', '{"version":', '$'],
  ['a JSON array', '[]', '$'],
  ['null', 'null', '$'],
  ['an unknown version', { ...SNP_CONTAINER_POLICY, version: '2.0.0' }, '$.version'],
  ['a numeric version', { ...SNP_CONTAINER_POLICY, version: 1 }, '$.version'],
  ['no anyOf', { version: '1.0.0' }, '$.anyOf'],
  ['an empty anyOf', { version: '1.0.0', anyOf: [] }, '$.anyOf'],
  ['a top-level allOf', { version: '1.0.0', allOf: [{ authority: AUTH, allOf: [claim] }] }, '$.allOf'],
  ['an authority entry that is a string', { version: '1.0.0', anyOf: [AUTH] }, '$.anyOf[0]'],
  ['a missing authority', { version: '1.0.0', anyOf: [{ allOf: [claim] }] }, '$.anyOf[0].authority'],
  ['an authority that is not a URL', { version: '1.0.0', anyOf: [{ authority: 'sharedeus2.eus2.attest.azure.net', allOf: [claim] }] }, '$.anyOf[0].authority'],
  ['an authority with credentials', { version: '1.0.0', anyOf: [{ authority: 'https://user:pw@maa.example', allOf: [claim] }] }, '$.anyOf[0].authority'],
  ['an ftp authority', { version: '1.0.0', anyOf: [{ authority: 'ftp://maa.example', allOf: [claim] }] }, '$.anyOf[0].authority'],
  ['allOf and anyOf in one authority', { version: '1.0.0', anyOf: [{ authority: AUTH, allOf: [claim], anyOf: [claim] }] }, '$.anyOf[0]'],
  ['an authority without conditions', { version: '1.0.0', anyOf: [{ authority: AUTH }] }, '$.anyOf[0]'],
  ['an empty allOf (would release to anything the authority signs)', withConditions([]), '$.anyOf[0].allOf'],
  ['an allOf that is an object', { version: '1.0.0', anyOf: [{ authority: AUTH, allOf: claim }] }, '$.anyOf[0].allOf'],
  ['an unexpected member of an authority', { version: '1.0.0', anyOf: [{ authority: AUTH, allOf: [claim], note: 'x' }] }, '$.anyOf[0].note'],
  ['a condition that is a string', withConditions(['c == v']), '$.anyOf[0].allOf[0]'],
  ['a condition without claim or group', withConditions([{ equals: 'v' }]), '$.anyOf[0].allOf[0]'],
  ['notEquals', withConditions([{ claim: 'c', notEquals: 'v' }]), '$.anyOf[0].allOf[0].notEquals'],
  ['exists', withConditions([{ claim: 'c', exists: true }]), '$.anyOf[0].allOf[0].exists'],
  ['an unknown member beside equals', withConditions([{ claim: 'c', equals: 'v', equal: 'w' }]), '$.anyOf[0].allOf[0].equal'],
  ['a missing expected value', withConditions([{ claim: 'c' }]), '$.anyOf[0].allOf[0].equals'],
  ['an object value', withConditions([{ claim: 'c', equals: { a: 1 } }]), '$.anyOf[0].allOf[0].equals'],
  ['an array value', withConditions([{ claim: 'c', equals: ['v'] }]), '$.anyOf[0].allOf[0].equals'],
  ['a null value', withConditions([{ claim: 'c', equals: null }]), '$.anyOf[0].allOf[0].equals'],
  ['an empty claim name', withConditions([{ claim: '', equals: 'v' }]), '$.anyOf[0].allOf[0].claim'],
  ['a numeric claim name', withConditions([{ claim: 7, equals: 'v' }]), '$.anyOf[0].allOf[0].claim'],
  ['a claim name too long', withConditions([{ claim: 'c'.repeat(POLICY_LIMITS.claimNameChars + 1), equals: 'v' }]), '$.anyOf[0].allOf[0].claim'],
  [
    'a claim path too deep',
    withConditions([
      {
        claim: Array(POLICY_LIMITS.claimNameSegments + 1)
          .fill('a')
          .join('.'),
        equals: 'v',
      },
    ]),
    '$.anyOf[0].allOf[0].claim',
  ],
  ['a value too long', withConditions([{ claim: 'c', equals: 'v'.repeat(POLICY_LIMITS.valueChars + 1) }]), '$.anyOf[0].allOf[0].equals'],
  ['a legacy condition other than equals', withConditions([{ claim: 'c', condition: 'greater', value: 1 }]), '$.anyOf[0].allOf[0].condition'],
  ['a legacy condition without value', withConditions([{ claim: 'c', condition: 'equals' }]), '$.anyOf[0].allOf[0].value'],
  ['a legacy condition mixed with equals', withConditions([{ claim: 'c', condition: 'equals', value: 1, equals: 1 }]), '$.anyOf[0].allOf[0].equals'],
  ['a claim and a group in one node', withConditions([{ claim: 'c', equals: 'v', allOf: [claim] }]), '$.anyOf[0].allOf[0].allOf'],
  ['an authority inside a nested group', withConditions([{ authority: AUTH, allOf: [claim] }]), '$.anyOf[0].allOf[0].authority'],
  ['a nested empty anyOf', withConditions([claim, { anyOf: [] }]), '$.anyOf[0].allOf[1].anyOf'],
  ['nested allOf and anyOf in one node', withConditions([{ allOf: [claim], anyOf: [claim] }]), '$.anyOf[0].allOf[0]'],
  ['a __proto__ member', `{"version":"1.0.0","anyOf":[{"authority":"${AUTH}","allOf":[{"claim":"c","equals":"v","__proto__":{}}]}]}`, '$.anyOf[0].allOf[0].__proto__'],
  ['groups nested too deep', nested(POLICY_LIMITS.depth), `$.anyOf[0]${'.allOf[0]'.repeat(POLICY_LIMITS.depth)}`],
  ['too many nodes', withConditions(Array(POLICY_LIMITS.nodes).fill(claim)), `$.anyOf[0].allOf[${POLICY_LIMITS.nodes - 1}]`],
  ['too many bytes', JSON.stringify(withConditions([{ claim: 'c', equals: 'v'.repeat(POLICY_LIMITS.bytes) }])), '$'],
  ['bytes that are not UTF-8', Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), '$'],
];

describe('parseReleasePolicy refuses anything else, naming the offending node', () => {
  test.each(INVALID.map(([name, input, path]) => [name, path, input] as const))('%s → %s', (_name, path, input) => {
    let error: unknown;
    try {
      parseReleasePolicy(input as string);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ReleasePolicyInvalid);
    expect(error).toMatchObject({ code: 'release_policy_invalid', status: 400, details: { path } });
  });
});

/** What the KMS refuses but a well-formed draft may hold, so a linter can judge the rest of the policy. */
const DRAFT_ONLY = new Set([
  'an unknown version',
  'an authority that is not a URL',
  'an authority with credentials',
  'an ftp authority',
  'notEquals',
  'exists',
  'a legacy condition other than equals',
]);

describe('parseReleasePolicyDraft reads the same grammar for linting', () => {
  /** The refusal the KMS answers for an unsupported operator, kept on the draft's node. */
  const refusedAt = (path: string) => expect.objectContaining({ code: 'release_policy_invalid', path, reason: expect.stringContaining('is not supported') });

  test('keeps an unsupported version, authority and operator as written, with the refusal the KMS would answer', () => {
    const draft = parseReleasePolicyDraft({
      version: '1.0.2',
      anyOf: [{ authority: 'maa', allOf: [{ claim: 'c', exists: true }, { anyOf: [claim, { claim: 'd', condition: 'greater', value: 1 }] }] }],
    });
    expect(draft.version).toBe('1.0.2');
    expect(draft.anyOf[0]!.authority).toBe('maa');
    expect(draft.anyOf[0]!.conditions).toEqual([
      { kind: 'unsupported_claim', path: '$.anyOf[0].allOf[0]', claim: 'c', operator: 'exists', refusal: refusedAt('$.anyOf[0].allOf[0].exists') },
      {
        kind: 'anyOf',
        path: '$.anyOf[0].allOf[1]',
        conditions: [
          { kind: 'claim', path: '$.anyOf[0].allOf[1].anyOf[0]', claim: 'c', operator: 'equals', value: 'v' },
          { kind: 'unsupported_claim', path: '$.anyOf[0].allOf[1].anyOf[1]', claim: 'd', operator: 'greater', refusal: refusedAt('$.anyOf[0].allOf[1].anyOf[1].condition') },
        ],
      },
    ]);
  });

  test.each(INVALID.filter(([name, input]) => !DRAFT_ONLY.has(name) && typeof input === 'object' && !(input instanceof Uint8Array)).map(([name, input, path]) => [name, path, input] as const))(
    'refuses %s → %s like the KMS',
    (_name, path, input) => {
      expect(() => parseReleasePolicyDraft(input)).toThrow(expect.objectContaining({ code: 'release_policy_invalid', details: expect.objectContaining({ path }) }));
    },
  );
});
