import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnsecuredJWT } from 'jose';
import { policyExplain } from '../../src/cli/policy-explain';
import { InvalidArgument, ReleasePolicyInvalid, ReleasePolicyNotSatisfied } from '../../src/errors';
import { SNP_CLAIMS, SNP_CONTAINER_POLICY } from '../kms/policy/samples';

const dir = mkdtempSync(join(tmpdir(), 'skr-policy-explain-'));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const policyFile = file('policy.json', JSON.stringify(SNP_CONTAINER_POLICY));
const good = new UnsecuredJWT(SNP_CLAIMS).encode();
const debuggable = new UnsecuredJWT({ ...SNP_CLAIMS, 'x-ms-sevsnpvm-is-debuggable': true }).encode();

async function failure(argv: string[]): Promise<any> {
  return policyExplain(argv).then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('skr policy explain', () => {
  test('the token on the command line: allowed, with tokenVerified false', async () => {
    const out = (await policyExplain(['--policy', policyFile, '--token', good])) as any;
    expect(out).toMatchObject({ tokenVerified: false, allowed: true, authority: SNP_CLAIMS.iss, issuer: SNP_CLAIMS.iss });
    expect(out.explanation.summary).toMatch(/^Release allowed/);
  });

  test('the token in a file, bare or as the sidecar /attest/maa answer', async () => {
    for (const content of [`${good}\n`, JSON.stringify({ token: good })]) {
      expect(await policyExplain(['--policy', policyFile, '--token', file('token', content)])).toMatchObject({ allowed: true });
    }
  });

  test("the policy as Key Vault's release_policy object (base64url data)", async () => {
    const wrapped = file('release_policy.json', JSON.stringify({ contentType: 'application/json; charset=utf-8', data: Buffer.from(JSON.stringify(SNP_CONTAINER_POLICY)).toString('base64url') }));
    expect(await policyExplain(['--policy', wrapped, '--token', good])).toMatchObject({ allowed: true });
  });

  test('a denial throws release_policy_not_satisfied carrying the explanation', async () => {
    const error = await failure(['--policy', policyFile, '--token', debuggable]);
    expect(error).toBeInstanceOf(ReleasePolicyNotSatisfied);
    expect(error.toJSON()).toMatchObject({
      code: 'release_policy_not_satisfied',
      details: {
        tokenVerified: false,
        reason: 'claims_not_satisfied',
        issuer: SNP_CLAIMS.iss,
        explanation: { branches: [{ failed: [{ claim: 'x-ms-sevsnpvm-is-debuggable', expected: 'false', actual: true, reason: 'mismatch' }] }] },
      },
    });
  });

  test('usage errors', async () => {
    expect(await failure(['--token', good])).toBeInstanceOf(InvalidArgument);
    expect(await failure(['--policy', policyFile])).toBeInstanceOf(InvalidArgument);
    expect(await failure(['--policy', join(dir, 'absent.json'), '--token', good])).toBeInstanceOf(InvalidArgument);
    expect(await failure(['--policy', policyFile, '--token', join(dir, 'absent.jwt')])).toBeInstanceOf(InvalidArgument);
    expect(await failure(['--policy', policyFile, '--token', good, '--verbose'])).toBeInstanceOf(InvalidArgument);
    expect(await failure(['--policy', file('bad.json', '{"version":"1.0.0","anyOf":[{}]}'), '--token', good])).toBeInstanceOf(ReleasePolicyInvalid);
    expect(await failure(['--policy', file('bad-data.json', '{"data":"***"}'), '--token', good])).toBeInstanceOf(InvalidArgument);
  });
});
