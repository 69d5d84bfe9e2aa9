import { createReleasePolicy, lintReleasePolicy } from '../../src/deploy';
import { InvalidArgument } from '../../src/errors';

const H1 = 'a'.repeat(64);
const H2 = 'b'.repeat(64);
const ALLOW_ALL = '73973b78d70cc68353426de188db5dfc57e5b766e399935fb73a61127ea26d20';
const MAA = 'https://sharedeus.eus.attest.azure.net';

const claims = (hostdata: unknown = { claim: 'x-ms-sevsnpvm-hostdata', equals: H1 }) => [
  hostdata,
  { claim: 'x-ms-compliance-status', equals: 'azure-compliant-uvm' },
  { claim: 'x-ms-sevsnpvm-is-debuggable', equals: 'false' },
  { claim: 'x-ms-sevsnpvm-vmpl', equals: '0' },
];
const policyWith = (allOf: unknown[], extra: object = {}) => ({ version: '1.0.0', anyOf: [{ authority: MAA, allOf }], ...extra });

describe('skr policy create', () => {
  test('one host_data: the hardened policy in the Key Vault 1.0.0 grammar', () => {
    expect(createReleasePolicy('sharedeus.eus.attest.azure.net', [H1])).toEqual(policyWith(claims()));
  });

  test('several host_data values (a rolling upgrade) become an anyOf, deduplicated and lowercased', () => {
    const policy = createReleasePolicy(`${MAA}/`, [H1, H2.toUpperCase(), H1]);
    expect(policy).toEqual(
      policyWith(
        claims({
          anyOf: [
            { claim: 'x-ms-sevsnpvm-hostdata', equals: H1 },
            { claim: 'x-ms-sevsnpvm-hostdata', equals: H2 },
          ],
        }),
      ),
    );
  });

  test('what it creates passes the linter', () => {
    expect(lintReleasePolicy(createReleasePolicy(MAA, [H1, H2]))).toEqual({ ok: true, findings: [] });
  });

  test.each([
    [[], 'at least one'],
    [['abc'], '64 hex'],
    [[`${H1}00`], '64 hex'],
  ])('host_data %j is refused', (values, message) => {
    expect(() => createReleasePolicy(MAA, values)).toThrow(InvalidArgument);
    expect(() => createReleasePolicy(MAA, values)).toThrow(message);
  });

  test.each(['http://maa.example.com', 'https://maa.example.com/path'])('authority %s is refused', (maa) => {
    expect(() => createReleasePolicy(maa, [H1])).toThrow(InvalidArgument);
  });
});

describe('skr policy lint', () => {
  const codesOf = (policy: unknown) => lintReleasePolicy(policy).findings.map((f) => `${f.severity}:${f.code}`);

  test.each<[string, unknown, string[]]>([
    ['no host_data', policyWith(claims().slice(1)), ['error:hostdata_missing']],
    ['the allow-all host_data', policyWith(claims({ claim: 'x-ms-sevsnpvm-hostdata', equals: ALLOW_ALL })), ['error:hostdata_allow_all']],
    ['all-zero host_data (a VM launched without host data)', policyWith(claims({ claim: 'x-ms-sevsnpvm-hostdata', equals: '0'.repeat(64) })), ['warning:hostdata_zero']],
    ['uppercase host_data (never matches MAA)', policyWith(claims({ claim: 'x-ms-sevsnpvm-hostdata', equals: H1.toUpperCase() })), ['error:hostdata_malformed']],
    [
      'host_data only on one anyOf path',
      policyWith(
        claims({
          anyOf: [
            { claim: 'x-ms-sevsnpvm-hostdata', equals: H1 },
            { claim: 'x-ms-attestation-type', equals: 'sevsnpvm' },
          ],
        }),
      ),
      ['error:hostdata_missing'],
    ],
    ['host_data only checked for existence (an operator the KMS refuses)', policyWith(claims({ claim: 'x-ms-sevsnpvm-hostdata', exists: true })), ['error:policy_invalid', 'error:hostdata_missing']],
    ['an operator the KMS refuses on a claim lint does not require', policyWith([...claims(), { claim: 'x-ms-attestation-type', notEquals: 'sevsnpvm' }]), ['error:policy_invalid']],
    ['no VMPL claim', policyWith(claims().filter((_, i) => i !== 3)), ['error:vmpl_missing']],
    ['VMPL 1 allowed', policyWith([...claims().slice(0, 3), { claim: 'x-ms-sevsnpvm-vmpl', equals: 1 }]), ['error:vmpl_not_zero']],
    ['no debug claim', policyWith(claims().filter((_, i) => i !== 2)), ['error:debug_claim_missing']],
    ['debuggable allowed', policyWith([...claims().slice(0, 2), { claim: 'x-ms-sevsnpvm-is-debuggable', equals: true }, claims()[3]]), ['error:debuggable_allowed']],
    ['no compliance claim', policyWith(claims().filter((_, i) => i !== 1)), ['warning:compliance_claim_missing']],
    ['unknown version', policyWith(claims(), { version: '1.0.2' }), ['error:version_unknown']],
    ['no version', { anyOf: [{ authority: MAA, allOf: claims() }] }, ['error:version_missing']],
    ['booleans and numbers instead of strings', policyWith([claims()[0], claims()[1], { claim: 'x-ms-sevsnpvm-is-debuggable', equals: false }, { claim: 'x-ms-sevsnpvm-vmpl', equals: 0 }]), []],
    ['claims split across nested allOf', policyWith([{ allOf: claims().slice(0, 2) }, { allOf: claims().slice(2) }]), []],
    ['legacy condition form', policyWith([{ claim: 'x-ms-sevsnpvm-hostdata', condition: 'equals', value: H1 }, ...claims().slice(1)]), ['warning:legacy_condition']],
    ['authority not a URL', { version: '1.0.0', anyOf: [{ authority: 'maa', allOf: claims() }] }, ['error:authority_invalid']],
    ['both allOf and anyOf', { version: '1.0.0', anyOf: [{ authority: MAA, allOf: claims(), anyOf: claims() }] }, ['error:policy_invalid']],
    ['no authorities', { version: '1.0.0', anyOf: [] }, ['error:policy_invalid']],
    ['not an object', 'policy', ['error:policy_invalid']],
    ['a member the KMS refuses beside equals', policyWith([{ claim: 'x-ms-sevsnpvm-hostdata', equals: H1, note: 'x' }, ...claims().slice(1)]), ['error:policy_invalid']],
    ['an authority with credentials', { version: '1.0.0', anyOf: [{ authority: 'https://user@sharedeus.eus.attest.azure.net', allOf: claims() }] }, ['error:authority_invalid']],
    ['the 0.2 version the KMS accepts', policyWith(claims(), { version: '0.2' }), ['error:version_unknown']],
  ])('%s', (_name, policy, expected) => {
    expect(codesOf(policy)).toEqual(expected);
    expect(lintReleasePolicy(policy).ok).toBe(!expected.some((c) => c.startsWith('error:')));
  });

  test('a structural error is one finding, with the path and reason of the grammar the KMS applies', () => {
    expect(lintReleasePolicy({ version: '1.0.0', anyOf: [{ authority: MAA, allOf: [...claims(), { claim: 'x', equals: { a: 1 } }] }] }).findings).toEqual([
      { severity: 'error', code: 'policy_invalid', message: 'a value is a string, a number or a boolean', path: 'anyOf[0].allOf[4].equals' },
    ]);
  });

  test('an operator the KMS refuses is reported with the path and reason the KMS gives, and the rest is still linted', () => {
    expect(lintReleasePolicy(policyWith([...claims().slice(0, 3), { claim: 'x-ms-sevsnpvm-vmpl', condition: 'lessOrEquals', value: 0 }])).findings).toEqual([
      { severity: 'error', code: 'policy_invalid', message: 'operator "lessOrEquals" is not supported; only equals is', path: 'anyOf[0].allOf[3].condition' },
      expect.objectContaining({ severity: 'error', code: 'vmpl_missing', path: 'anyOf[0]' }),
    ]);
  });

  test('a weak second authority makes the policy weak (any branch releases)', () => {
    const policy = {
      version: '1.0.0',
      anyOf: [
        { authority: MAA, allOf: claims() },
        { authority: 'https://other.attest.azure.net', allOf: claims().slice(1) },
      ],
    };
    expect(lintReleasePolicy(policy).findings).toEqual([expect.objectContaining({ severity: 'error', code: 'hostdata_missing', path: 'anyOf[1]' })]);
  });
});
