import { evaluateReleasePolicy, parseReleasePolicy, releaseDenied } from '../../../src/kms/policy';
import { ReleasePolicyNotSatisfied } from '../../../src/errors';
import { CVM_CLAIMS, CVM_POLICY, HOSTDATA, LEGACY_POLICY, MHSM_SETUP_POLICY, SDK_TEST_POLICY, SNP_CLAIMS, SNP_CONTAINER_POLICY } from './samples';

const SNP_ISS = SNP_CLAIMS.iss;
const one = (claim: string, equals: unknown, authority = 'https://maa.example') => ({ version: '1.0.0', anyOf: [{ authority, allOf: [{ claim, equals }] }] });

/** a = 1 and ((b = 2 and c = 3) or d = 4): allOf(anyOf(allOf …)), three levels deep. */
const THREE_LEVELS = {
  version: '1.0.0',
  anyOf: [
    {
      authority: 'https://maa.example',
      allOf: [
        { claim: 'a', equals: 1 },
        {
          anyOf: [
            {
              allOf: [
                { claim: 'b', equals: 2 },
                { claim: 'c', equals: 3 },
              ],
            },
            { claim: 'd', equals: 4 },
          ],
        },
      ],
    },
  ],
};

interface Row {
  name: string;
  policy: unknown;
  claims: Record<string, unknown>;
  issuer: string;
  allowed: boolean;
  reason?: string;
  /** The claims (name: reason) the explanation must list as failed. */
  failed?: Record<string, string>;
}

const ROWS: Row[] = [
  // Microsoft's published policies against the tokens they are meant for, and near misses.
  { name: 'SNP container: the intended token', policy: SNP_CONTAINER_POLICY, claims: SNP_CLAIMS, issuer: SNP_ISS, allowed: true },
  {
    name: 'SNP container: debuggable guest',
    policy: SNP_CONTAINER_POLICY,
    claims: { ...SNP_CLAIMS, 'x-ms-sevsnpvm-is-debuggable': true },
    issuer: SNP_ISS,
    allowed: false,
    reason: 'claims_not_satisfied',
    failed: { 'x-ms-sevsnpvm-is-debuggable': 'mismatch' },
  },
  { name: 'SNP container: VMPL 1', policy: SNP_CONTAINER_POLICY, claims: { ...SNP_CLAIMS, 'x-ms-sevsnpvm-vmpl': 1 }, issuer: SNP_ISS, allowed: false, failed: { 'x-ms-sevsnpvm-vmpl': 'mismatch' } },
  {
    name: 'SNP container: other CCE policy',
    policy: SNP_CONTAINER_POLICY,
    claims: { ...SNP_CLAIMS, 'x-ms-sevsnpvm-hostdata': '00'.repeat(32) },
    issuer: SNP_ISS,
    allowed: false,
    failed: { 'x-ms-sevsnpvm-hostdata': 'mismatch' },
  },
  {
    name: 'SNP container: hostdata in capitals (string compare is exact)',
    policy: SNP_CONTAINER_POLICY,
    claims: { ...SNP_CLAIMS, 'x-ms-sevsnpvm-hostdata': HOSTDATA.toUpperCase() },
    issuer: SNP_ISS,
    allowed: false,
  },
  {
    name: 'SNP container: compliance claim missing',
    policy: SNP_CONTAINER_POLICY,
    claims: { ...SNP_CLAIMS, 'x-ms-compliance-status': undefined },
    issuer: SNP_ISS,
    allowed: false,
    failed: { 'x-ms-compliance-status': 'missing' },
  },
  {
    name: 'SNP container: two failures listed together',
    policy: SNP_CONTAINER_POLICY,
    claims: { ...SNP_CLAIMS, 'x-ms-sevsnpvm-vmpl': 2, 'x-ms-sevsnpvm-is-debuggable': 'true' },
    issuer: SNP_ISS,
    allowed: false,
    failed: { 'x-ms-sevsnpvm-vmpl': 'mismatch', 'x-ms-sevsnpvm-is-debuggable': 'mismatch' },
  },
  {
    name: 'SNP container: another MAA instance signed it',
    policy: SNP_CONTAINER_POLICY,
    claims: SNP_CLAIMS,
    issuer: 'https://sharedweu.weu.attest.azure.net',
    allowed: false,
    reason: 'authority_not_in_policy',
  },
  {
    name: 'SNP container: a look-alike issuer host',
    policy: SNP_CONTAINER_POLICY,
    claims: SNP_CLAIMS,
    issuer: 'https://sharedeus2.eus2.attest.azure.net.evil.example',
    allowed: false,
    reason: 'authority_not_in_policy',
  },
  {
    name: 'SNP container: issuer with a path',
    policy: SNP_CONTAINER_POLICY,
    claims: SNP_CLAIMS,
    issuer: 'https://sharedeus2.eus2.attest.azure.net/other',
    allowed: false,
    reason: 'authority_not_in_policy',
  },
  {
    name: 'SNP container: http instead of https',
    policy: SNP_CONTAINER_POLICY,
    claims: SNP_CLAIMS,
    issuer: 'http://sharedeus2.eus2.attest.azure.net',
    allowed: false,
    reason: 'authority_not_in_policy',
  },
  {
    name: 'SNP container: issuer with credentials before the real host',
    policy: SNP_CONTAINER_POLICY,
    claims: SNP_CLAIMS,
    issuer: 'https://evil@sharedeus2.eus2.attest.azure.net',
    allowed: false,
    reason: 'authority_not_in_policy',
  },
  {
    name: 'SNP container: issuer with a fragment',
    policy: SNP_CONTAINER_POLICY,
    claims: SNP_CLAIMS,
    issuer: 'https://sharedeus2.eus2.attest.azure.net#x',
    allowed: false,
    reason: 'authority_not_in_policy',
  },
  { name: 'SNP container: no issuer', policy: SNP_CONTAINER_POLICY, claims: SNP_CLAIMS, issuer: '', allowed: false, reason: 'authority_not_in_policy' },
  // Authority vs iss: trailing slash and URL case rules.
  { name: 'issuer with a trailing slash', policy: SNP_CONTAINER_POLICY, claims: SNP_CLAIMS, issuer: `${SNP_ISS}/`, allowed: true },
  { name: 'issuer with upper-case host and scheme', policy: SNP_CONTAINER_POLICY, claims: SNP_CLAIMS, issuer: 'HTTPS://SharedEus2.EUS2.attest.azure.net', allowed: true },
  { name: 'issuer with the default port', policy: SNP_CONTAINER_POLICY, claims: SNP_CLAIMS, issuer: 'https://sharedeus2.eus2.attest.azure.net:443/', allowed: true },
  { name: 'authority with a trailing slash, issuer without (CVM)', policy: CVM_POLICY, claims: CVM_CLAIMS, issuer: 'https://sharedeus.eus.attest.azure.net', allowed: true },
  { name: 'the second authority of a policy', policy: CVM_POLICY, claims: CVM_CLAIMS, issuer: 'https://sharedscus.scus.attest.azure.net/', allowed: true },
  // Dot paths and nested groups (CVM).
  {
    name: 'CVM: a confidential VM that is not compliant',
    policy: CVM_POLICY,
    claims: { ...CVM_CLAIMS, 'x-ms-isolation-tee': { ...CVM_CLAIMS['x-ms-isolation-tee'], 'x-ms-compliance-status': 'azure-noncompliant' } },
    issuer: CVM_CLAIMS.iss,
    allowed: false,
    failed: { 'x-ms-isolation-tee.x-ms-compliance-status': 'mismatch' },
  },
  {
    name: 'CVM: debuggable fails both anyOf alternatives',
    policy: CVM_POLICY,
    claims: { ...CVM_CLAIMS, 'x-ms-isolation-tee': { ...CVM_CLAIMS['x-ms-isolation-tee'], 'x-ms-sevsnpvm-is-debuggable': true } },
    issuer: CVM_CLAIMS.iss,
    allowed: false,
    failed: { 'x-ms-isolation-tee.x-ms-sevsnpvm-is-debuggable': 'mismatch' },
  },
  {
    name: 'CVM: the TEE claims at top level do not satisfy the nested path',
    policy: CVM_POLICY,
    claims: { iss: CVM_CLAIMS.iss, ...CVM_CLAIMS['x-ms-isolation-tee'] },
    issuer: CVM_CLAIMS.iss,
    allowed: false,
    failed: { 'x-ms-isolation-tee.x-ms-attestation-type': 'missing', 'x-ms-isolation-tee.x-ms-compliance-status': 'missing', 'x-ms-isolation-tee.x-ms-sevsnpvm-is-debuggable': 'missing' },
  },
  {
    name: 'CVM: x-ms-isolation-tee is a string, not an object',
    policy: CVM_POLICY,
    claims: { ...CVM_CLAIMS, 'x-ms-isolation-tee': 'sevsnpvm' },
    issuer: CVM_CLAIMS.iss,
    allowed: false,
    failed: { 'x-ms-isolation-tee.x-ms-attestation-type': 'missing', 'x-ms-isolation-tee.x-ms-compliance-status': 'missing', 'x-ms-isolation-tee.x-ms-sevsnpvm-is-debuggable': 'missing' },
  },
  { name: 'dot path: a literal dotted key wins over the nested object', policy: one('a.b', 'literal'), claims: { 'a.b': 'literal', a: { b: 'nested' } }, issuer: 'https://maa.example', allowed: true },
  {
    name: 'dot path: the nested value is not consulted when a literal key exists',
    policy: one('a.b', 'nested'),
    claims: { 'a.b': 'literal', a: { b: 'nested' } },
    issuer: 'https://maa.example',
    allowed: false,
  },
  { name: 'dot path: a dotted key one level down', policy: one('x.y.z', 1), claims: { x: { 'y.z': 1 } }, issuer: 'https://maa.example', allowed: true },
  {
    name: 'dot path: no array indexing',
    policy: one('x-ms-runtime.keys.0.kid', 'k1'),
    claims: SNP_CLAIMS,
    issuer: 'https://maa.example',
    allowed: false,
    failed: { 'x-ms-runtime.keys.0.kid': 'missing' },
  },
  { name: 'dot path: prototype members are not claims', policy: one('constructor', '[object Object]'), claims: {}, issuer: 'https://maa.example', allowed: false, failed: { constructor: 'missing' } },
  { name: 'dot path: nor are prototype members of nested objects', policy: one('a.toString', 'x'), claims: { a: {} }, issuer: 'https://maa.example', allowed: false },
  // String-lenient equals.
  { name: 'equals "false" matches false', policy: one('d', 'false'), claims: { d: false }, issuer: 'https://maa.example', allowed: true },
  { name: 'equals false matches "false"', policy: one('d', false), claims: { d: 'false' }, issuer: 'https://maa.example', allowed: true },
  { name: 'equals "0" matches 0', policy: one('v', '0'), claims: { v: 0 }, issuer: 'https://maa.example', allowed: true },
  { name: 'equals 0 matches "0"', policy: one('v', 0), claims: { v: '0' }, issuer: 'https://maa.example', allowed: true },
  { name: 'equals 0 does not match false', policy: one('v', 0), claims: { v: false }, issuer: 'https://maa.example', allowed: false },
  { name: 'equals "0" does not match "00"', policy: one('v', '0'), claims: { v: '00' }, issuer: 'https://maa.example', allowed: false },
  { name: 'equals "False" does not match false', policy: one('d', 'False'), claims: { d: false }, issuer: 'https://maa.example', allowed: false },
  { name: 'equals "" does not match a missing claim', policy: one('e', ''), claims: {}, issuer: 'https://maa.example', allowed: false, failed: { e: 'missing' } },
  { name: 'equals "" matches ""', policy: one('e', ''), claims: { e: '' }, issuer: 'https://maa.example', allowed: true },
  { name: 'an array never equals a scalar', policy: one('a', 'x'), claims: { a: ['x'] }, issuer: 'https://maa.example', allowed: false, failed: { a: 'not_scalar' } },
  { name: 'an object never equals a scalar', policy: one('o', '[object Object]'), claims: { o: {} }, issuer: 'https://maa.example', allowed: false, failed: { o: 'not_scalar' } },
  { name: 'null never equals "null"', policy: one('n', 'null'), claims: { n: null }, issuer: 'https://maa.example', allowed: false, failed: { n: 'not_scalar' } },
  { name: 'Azure SDK live test: true against "true"', policy: SDK_TEST_POLICY, claims: { 'sdk-test': true }, issuer: 'https://skr-attest.example', allowed: true },
  // Legacy forms.
  { name: 'MHSM setup script 0.2', policy: MHSM_SETUP_POLICY, claims: SNP_CLAIMS, issuer: SNP_ISS, allowed: true },
  { name: 'MHSM setup script 0.2, another TEE type', policy: MHSM_SETUP_POLICY, claims: { ...SNP_CLAIMS, 'x-ms-attestation-type': 'sgx' }, issuer: SNP_ISS, allowed: false },
  { name: 'preview condition/value form', policy: LEGACY_POLICY, claims: SNP_CLAIMS, issuer: SNP_ISS, allowed: true },
  {
    name: 'preview condition/value form, VMPL 3',
    policy: LEGACY_POLICY,
    claims: { ...SNP_CLAIMS, 'x-ms-sevsnpvm-vmpl': 3 },
    issuer: SNP_ISS,
    allowed: false,
    failed: { 'x-ms-sevsnpvm-vmpl': 'mismatch' },
  },
  // Nesting.
  {
    name: 'anyOf authority: one alternative suffices',
    policy: {
      version: '1.0.0',
      anyOf: [
        {
          authority: 'https://maa.example',
          anyOf: [
            { claim: 'a', equals: 1 },
            { claim: 'b', equals: 2 },
          ],
        },
      ],
    },
    claims: { b: 2 },
    issuer: 'https://maa.example',
    allowed: true,
  },
  {
    name: 'allOf(anyOf(allOf …)) three levels: inner allOf half met',
    policy: THREE_LEVELS,
    claims: { a: 1, b: 2, c: 0 },
    issuer: 'https://maa.example',
    allowed: false,
    failed: { c: 'mismatch', d: 'missing' },
  },
  {
    name: 'allOf(anyOf(allOf …)) three levels: the other alternative',
    policy: THREE_LEVELS,
    claims: { a: 1, d: '4' },
    issuer: 'https://maa.example',
    allowed: true,
  },
  {
    name: 'two branches for one authority: the second holds',
    policy: {
      version: '1.0.0',
      anyOf: [
        { authority: 'https://maa.example', allOf: [{ claim: 'a', equals: 1 }] },
        { authority: 'https://maa.example/', allOf: [{ claim: 'a', equals: 2 }] },
      ],
    },
    claims: { a: 2 },
    issuer: 'https://maa.example',
    allowed: true,
  },
  {
    name: 'branches of other authorities are not evaluated for this issuer',
    policy: {
      version: '1.0.0',
      anyOf: [
        { authority: 'https://other.example', allOf: [{ claim: 'a', equals: 1 }] },
        { authority: 'https://maa.example', allOf: [{ claim: 'a', equals: 2 }] },
      ],
    },
    claims: { a: 1 },
    issuer: 'https://maa.example',
    allowed: false,
    reason: 'claims_not_satisfied',
    failed: { a: 'mismatch' },
  },
];

describe('evaluateReleasePolicy: allowed exactly when the policy holds', () => {
  test.each(ROWS)('$name', ({ policy, claims, issuer, allowed, reason, failed }) => {
    const decision = evaluateReleasePolicy(parseReleasePolicy(policy as object), JSON.parse(JSON.stringify(claims)), issuer);
    expect(decision.allowed).toBe(allowed);
    expect(decision.reason).toBe(allowed ? 'policy_satisfied' : (reason ?? 'claims_not_satisfied'));
    const listed = decision.explanation.branches.flatMap((branch) => branch.failed ?? []);
    if (allowed) expect(decision.explanation.branches.some((branch) => branch.satisfied)).toBe(true);
    if (failed) expect(Object.fromEntries(listed.map((f) => [f.claim, f.reason]))).toEqual(failed);
    if (decision.reason === 'authority_not_in_policy') {
      expect(decision.authority).toBeNull();
      expect(decision.explanation.branches.every((branch) => !branch.issuerMatches && branch.failed === undefined)).toBe(true);
    }
  });
});

describe('the explanation', () => {
  test('lists each branch tried, and for each the failed claims with expected and actual values', () => {
    const claims = { ...SNP_CLAIMS, 'x-ms-sevsnpvm-vmpl': 2, 'x-ms-compliance-status': undefined };
    const decision = evaluateReleasePolicy(parseReleasePolicy(SNP_CONTAINER_POLICY), JSON.parse(JSON.stringify(claims)), SNP_ISS);
    expect(decision).toMatchObject({ allowed: false, reason: 'claims_not_satisfied', authority: 'https://sharedeus2.eus2.attest.azure.net' });
    expect(decision.explanation.branches).toEqual([
      {
        path: '$.anyOf[0]',
        authority: 'https://sharedeus2.eus2.attest.azure.net',
        issuerMatches: true,
        satisfied: false,
        failed: [
          { path: '$.anyOf[0].allOf[1]', claim: 'x-ms-compliance-status', expected: 'azure-compliant-uvm', reason: 'missing' },
          { path: '$.anyOf[0].allOf[3]', claim: 'x-ms-sevsnpvm-vmpl', expected: '0', actual: 2, reason: 'mismatch' },
        ],
      },
    ]);
    expect(decision.explanation.summary).toBe(
      'Release denied: the issuer https://sharedeus2.eus2.attest.azure.net matches 1 branch of the policy ($.anyOf[0]) and none is satisfied: ' +
        '$.anyOf[0].allOf[1]: claim x-ms-compliance-status (expected "azure-compliant-uvm") is missing from the token; ' +
        '$.anyOf[0].allOf[3]: claim x-ms-sevsnpvm-vmpl is 2, expected "0".',
    );
  });

  test('an anyOf that holds hides its failed alternatives', () => {
    const decision = evaluateReleasePolicy(parseReleasePolicy(CVM_POLICY), { ...CVM_CLAIMS }, CVM_CLAIMS.iss);
    expect(decision.allowed).toBe(true);
    expect(decision.explanation.branches[0]).toMatchObject({ satisfied: true, failed: [] });
    expect(decision.explanation.branches[1]).toEqual({ path: '$.anyOf[1]', authority: 'https://sharedscus.scus.attest.azure.net', issuerMatches: false });
    expect(decision.explanation.summary).toBe(
      'Release allowed: the token from https://sharedeus.eus.attest.azure.net meets every condition of $.anyOf[0] (authority https://sharedeus.eus.attest.azure.net/).',
    );
  });

  test('actual values are cut short; objects are shown as bounded JSON', () => {
    const long = 'z'.repeat(5000);
    const decision = evaluateReleasePolicy(parseReleasePolicy(one('x-ms-runtime', 'k')), { 'x-ms-runtime': { keys: [{ n: long }] }, s: long }, 'https://maa.example');
    const [failure] = decision.explanation.branches[0]!.failed!;
    expect(failure!.reason).toBe('not_scalar');
    expect(String(failure!.actual)).toMatch(/^\{"keys":\[\{"n":"zzz.{100,}… \(5019 chars\)$/);
    expect(String(failure!.actual).length).toBeLessThan(200);
    expect(JSON.stringify(decision).length).toBeLessThan(1500);
  });

  test('a denial for an unknown issuer names the issuer and the policy authorities', () => {
    const decision = evaluateReleasePolicy(parseReleasePolicy(CVM_POLICY), CVM_CLAIMS, 'https://attacker.example');
    expect(decision.explanation.summary).toContain('"https://attacker.example" is not an authority of this policy');
    expect(decision.explanation.summary).toContain('https://sharedeus.eus.attest.azure.net/, https://sharedscus.scus.attest.azure.net');
  });

  test('the summary lists five failures and counts the rest', () => {
    const conditions = Array.from({ length: 8 }, (_, i) => ({ claim: `c${i}`, equals: 'v' }));
    const decision = evaluateReleasePolicy(parseReleasePolicy({ version: '1.0.0', anyOf: [{ authority: 'https://maa.example', allOf: conditions }] }), {}, 'https://maa.example');
    expect(decision.explanation.branches[0]!.failed).toHaveLength(8);
    expect(decision.explanation.summary).toMatch(/c4 \(expected "v"\) is missing from the token; and 3 more\.$/);
  });

  test('releaseDenied turns a denial into the 403 the KMS and CLI report', () => {
    const decision = evaluateReleasePolicy(parseReleasePolicy(SNP_CONTAINER_POLICY), SNP_CLAIMS, 'https://elsewhere.example');
    const error = releaseDenied(decision, { kid: 'https://vault/keys/k/1' });
    expect(error).toBeInstanceOf(ReleasePolicyNotSatisfied);
    expect(error.toJSON()).toEqual({
      code: 'release_policy_not_satisfied',
      message: decision.explanation.summary,
      details: { kid: 'https://vault/keys/k/1', reason: 'authority_not_in_policy', authority: null, explanation: decision.explanation },
    });
    expect(error.status).toBe(403);
  });
});
