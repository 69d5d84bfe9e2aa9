import { createHash } from 'node:crypto';
import { ALLOW_ALL_HOSTDATA, classifyCcePolicy, decodeCcePolicyBase64 } from '../../src/deploy';
import { DEBUG_POLICY, LEGACY_ALLOW_ALL, OPEN_DOOR_POLICY, REGO_POLICY, b64 } from './policies';

describe('ccePolicy classification and host_data', () => {
  test('host_data is SHA-256 of the base64-decoded policy (what MAA reports as x-ms-sevsnpvm-hostdata)', () => {
    const decoded = decodeCcePolicyBase64(b64(REGO_POLICY)) as Buffer;
    expect(classifyCcePolicy(decoded)).toEqual({
      hostdata: createHash('sha256').update(REGO_POLICY).digest('hex'),
      kind: 'rego',
      allowAll: false,
      debugMode: false,
    });
  });

  test.each([
    ['the open-door Rego', OPEN_DOOR_POLICY, 'rego', '73973b78d70cc68353426de188db5dfc57e5b766e399935fb73a61127ea26d20'],
    ['the legacy JSON allow_all', LEGACY_ALLOW_ALL, 'legacy-json', '5c542a7860f317ab6fa314a817f0455fa7a8589fe8eca211dea16d59aec80ce9'],
  ])('%s is recognised, and its hash is on the allow-all list', (_name, text, kind, hostdata) => {
    const policy = classifyCcePolicy(Buffer.from(text));
    expect(policy).toMatchObject({ kind, allowAll: true, hostdata });
    expect(ALLOW_ALL_HOSTDATA.has(hostdata)).toBe(true);
  });

  test('an open-door variant not on the list is still caught by its rules', () => {
    const variant = OPEN_DOOR_POLICY.replace('0.10.0', '0.11.0');
    expect(classifyCcePolicy(Buffer.from(variant)).allowAll).toBe(true);
  });

  test('a --debug-mode policy is flagged', () => {
    expect(classifyCcePolicy(Buffer.from(DEBUG_POLICY))).toMatchObject({ kind: 'rego', allowAll: false, debugMode: true });
  });

  test('Rego may open with comments', () => {
    expect(classifyCcePolicy(Buffer.from(`# generated\n${REGO_POLICY}`)).kind).toBe('rego');
  });

  test.each(['', 'not base64!', 'cGFja2FnZQ', 'cGFja2FnZQ=-'])('%j is not a ccePolicy encoding', (text) => {
    expect(decodeCcePolicyBase64(text)).toBeUndefined();
  });
});
