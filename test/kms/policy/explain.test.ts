import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { InvalidArgument, ReleasePolicyInvalid } from '../../../src/errors';
import { explainRelease } from '../../../src/kms/policy';
import { SNP_CLAIMS, SNP_CONTAINER_POLICY } from './samples';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const sign = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'unknown' }).sign(privateKey);

describe('explainRelease (skr policy explain)', () => {
  test('decodes the token without verifying it, and says so', async () => {
    const report = explainRelease({ policy: JSON.stringify(SNP_CONTAINER_POLICY), token: await sign(SNP_CLAIMS) });
    expect(report).toMatchObject({ tokenVerified: false, allowed: true, reason: 'policy_satisfied', issuer: SNP_CLAIMS.iss, authority: SNP_CLAIMS.iss });
  });

  test('an unsigned token is explained too: explaining is about claims, not trust', () => {
    const token = new UnsecuredJWT({ ...SNP_CLAIMS, 'x-ms-sevsnpvm-vmpl': 1 }).encode();
    const report = explainRelease({ policy: SNP_CONTAINER_POLICY, token });
    expect(report).toMatchObject({ tokenVerified: false, allowed: false, reason: 'claims_not_satisfied' });
    expect(report.explanation.branches[0]!.failed).toEqual([{ path: '$.anyOf[0].allOf[3]', claim: 'x-ms-sevsnpvm-vmpl', expected: '0', actual: 1, reason: 'mismatch' }]);
  });

  test('a token without iss is denied as authority_not_in_policy', async () => {
    const { iss: _iss, ...claims } = SNP_CLAIMS;
    expect(explainRelease({ policy: SNP_CONTAINER_POLICY, token: await sign(claims) })).toMatchObject({ allowed: false, reason: 'authority_not_in_policy', issuer: '' });
  });

  test('a token that is not a JWT, and a policy that is invalid, are typed errors', async () => {
    expect(() => explainRelease({ policy: SNP_CONTAINER_POLICY, token: 'not-a-jwt' })).toThrow(InvalidArgument);
    expect(() => explainRelease({ policy: '{"anyOf":[]}', token: 'x.y.z' })).toThrow(ReleasePolicyInvalid);
  });
});
