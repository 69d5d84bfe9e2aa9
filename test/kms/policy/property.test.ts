import fc from 'fast-check';
import { evaluateReleasePolicy, parseReleasePolicy } from '../../../src/kms/policy';

// A generated matrix of release policies × claim sets, checked against a reference evaluator
// written here from the grammar's prose, independently of src/kms/policy.

type Leaf = { claim: string; equals: string | number | boolean };
type Node = Leaf | { allOf: Node[] } | { anyOf: Node[] };
type Policy = { version: string; anyOf: ({ authority: string } & ({ allOf: Node[] } | { anyOf: Node[] }))[] };

const AUTHORITIES = ['https://maa-a.example', 'https://maa-a.example/', 'https://maa-b.example'];
const ISSUERS = ['https://maa-a.example', 'https://maa-a.example/', 'HTTPS://MAA-A.example', 'https://maa-b.example', 'https://maa-c.example'];
const NAMES = ['a', 'b', 'n.x', 'n.y'];
const VALUES = [true, false, 'true', 'false', 0, 1, '0', '1', 'x', ''];

const leaf = fc.record({ claim: fc.constantFrom(...NAMES), equals: fc.constantFrom(...VALUES) });
const { node } = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({ allOf: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ anyOf: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) }),
  ),
}));
const authorityEntry = fc
  .tuple(fc.constantFrom(...AUTHORITIES), fc.constantFrom('allOf', 'anyOf'), fc.array(node, { minLength: 1, maxLength: 3 }))
  .map(([authority, kind, conditions]) => ({ authority, [kind]: conditions }) as Policy['anyOf'][number]);
const policyArb = fc.record({ version: fc.constantFrom('1.0.0', '0.2'), anyOf: fc.array(authorityEntry, { minLength: 1, maxLength: 3 }) });

const claimValue = fc.constantFrom<unknown>(...VALUES, null, [1], {}, 'TRUE');
const claimsArb = fc.record({ a: claimValue, b: claimValue, n: fc.oneof(fc.record({ x: claimValue, y: claimValue }, { requiredKeys: [] }), fc.constant('n')) }, { requiredKeys: [] });

function refValue(claims: Record<string, unknown>, name: string): unknown {
  return name
    .split('.')
    .reduce<unknown>((node, key) => (node && typeof node === 'object' && !Array.isArray(node) && Object.hasOwn(node, key) ? (node as Record<string, unknown>)[key] : undefined), claims);
}
function refHolds(cond: Node, claims: Record<string, unknown>): boolean {
  if ('claim' in cond) {
    const v = refValue(claims, cond.claim);
    return (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && `${v}` === `${cond.equals}`;
  }
  if ('allOf' in cond) return cond.allOf.every((c) => refHolds(c, claims));
  return cond.anyOf.some((c) => refHolds(c, claims));
}
const refSameIssuer = (a: string, b: string) => a.toLowerCase().replace(/\/$/, '') === b.toLowerCase().replace(/\/$/, '');
function refAllowed(policy: Policy, claims: Record<string, unknown>, issuer: string): boolean {
  return policy.anyOf.some((entry) => refSameIssuer(entry.authority, issuer) && refHolds({ ...entry } as Node, claims));
}

describe('release policy engine against a reference evaluator (fast-check)', () => {
  test('a release is allowed exactly when the policy holds', () => {
    const seen = { allowed: 0, authority_not_in_policy: 0, claims_not_satisfied: 0 };
    fc.assert(
      fc.property(policyArb, claimsArb, fc.constantFrom(...ISSUERS), (policy, claims, issuer) => {
        const decision = evaluateReleasePolicy(parseReleasePolicy(JSON.stringify(policy)), claims, issuer);
        expect(decision.allowed).toBe(refAllowed(policy, claims, issuer));
        seen[decision.allowed ? 'allowed' : (decision.reason as keyof typeof seen)]++;
        const matching = policy.anyOf.filter((entry) => refSameIssuer(entry.authority, issuer));
        if (matching.length === 0) expect(decision.reason).toBe('authority_not_in_policy');
        for (const branch of decision.explanation.branches.filter((b) => b.issuerMatches)) {
          // A branch is satisfied exactly when it lists no failed claim, and every listed claim really fails.
          expect(branch.satisfied).toBe(branch.failed!.length === 0);
          for (const failure of branch.failed!) expect(refHolds({ claim: failure.claim, equals: failure.expected }, claims)).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
    // The generator must exercise every outcome, or the equivalence above proves little.
    for (const count of Object.values(seen)) expect(count).toBeGreaterThan(100);
  });

  test('equals is string-lenient for every scalar and exact otherwise', () => {
    const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }));
    fc.assert(
      fc.property(scalar, scalar, (expected, actual) => {
        const policy = parseReleasePolicy({ version: '1.0.0', anyOf: [{ authority: 'https://maa.example', allOf: [{ claim: 'c', equals: expected }] }] });
        const allowed = evaluateReleasePolicy(policy, { c: actual }, 'https://maa.example').allowed;
        expect(allowed).toBe(String(actual) === String(expected));
        expect(evaluateReleasePolicy(policy, { c: String(expected) }, 'https://maa.example').allowed).toBe(true);
        expect(evaluateReleasePolicy(policy, { c: [expected] }, 'https://maa.example').allowed).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  test('parsing the object and its JSON bytes agree', () => {
    fc.assert(
      fc.property(policyArb, (policy) => {
        expect(parseReleasePolicy(Buffer.from(JSON.stringify(policy)))).toEqual(parseReleasePolicy(policy));
      }),
      { numRuns: 300 },
    );
  });
});
