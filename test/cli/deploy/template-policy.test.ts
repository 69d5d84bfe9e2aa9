import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { exitCodeOf } from '../../../src/cli/exit-code';
import { policyCreate, policyHostdata, policyLint } from '../../../src/cli/policy';
import { templateValidate } from '../../../src/cli/template';
import { InvalidArgument } from '../../../src/errors';
import { OPEN_DOOR_POLICY, REGO_POLICY, b64 } from '../../deploy/policies';

const TEMPLATES = join(__dirname, '../../../arm-templates');
const SIDECAR = join(TEMPLATES, 'aci-skr-sidecar.json');
const SIDECAR_PARAMS = join(TEMPLATES, 'aci-skr-sidecar.parameters.json');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'skr-deploy-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeJson(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

/** The shipped parameters plus a ccePolicy, as `az confcom acipolicygen --print-policy` gives it. */
function paramsWithPolicy(policy: string): string {
  const params = require(SIDECAR_PARAMS);
  return writeJson(`params-${sha256(policy).slice(0, 8)}.json`, { ...params, parameters: { ...params.parameters, ccePolicy: { value: b64(policy) } } });
}

describe('skr template validate', () => {
  test('the shipped template is valid and exits 0', async () => {
    const report = await templateValidate([SIDECAR, '--parameters', SIDECAR_PARAMS]);
    expect(report).toMatchObject({ valid: true, errors: [], warnings: [] });
    expect(exitCodeOf(report)).toBe(0);
  });

  test('an invalid template prints the full report and exits 1', async () => {
    const template = require(SIDECAR);
    const broken = writeJson('broken.json', { ...template, resources: [{ ...template.resources[0], apiVersion: '2019-12-01' }] });
    const report = await templateValidate([broken]);
    expect(report).toMatchObject({ valid: false, errors: [expect.objectContaining({ code: 'api_version_unsupported' })] });
    expect(exitCodeOf(report)).toBe(1);
    expect(Object.keys(JSON.parse(JSON.stringify(report)))).toEqual(['valid', 'errors', 'warnings', 'containerGroups']);
  });

  test.each([
    [[], 'usage'],
    [[SIDECAR, SIDECAR], 'usage'],
    [[join(TEMPLATES, 'missing.json')], 'ENOENT'],
    [[SIDECAR, '--bogus'], 'bogus'],
    [[__filename], 'not JSON'],
  ])('%j is a usage error', async (argv, message) => {
    await expect(templateValidate(argv)).rejects.toThrow(InvalidArgument);
    await expect(templateValidate(argv)).rejects.toThrow(message);
  });
});

describe('skr policy hostdata', () => {
  test('--cce-policy: SHA-256 of the decoded policy', async () => {
    expect(await policyHostdata(['--cce-policy', b64(REGO_POLICY)])).toEqual({ hostdata: sha256(REGO_POLICY) });
  });

  test('--template with --parameters: the same value, found through the expressions', async () => {
    expect(await policyHostdata(['--template', SIDECAR, '--parameters', paramsWithPolicy(REGO_POLICY)])).toEqual({ hostdata: sha256(REGO_POLICY) });
  });

  test('an allow-all policy is hashed, with a warning', async () => {
    expect(await policyHostdata(['--cce-policy', b64(OPEN_DOOR_POLICY)])).toEqual({
      hostdata: '73973b78d70cc68353426de188db5dfc57e5b766e399935fb73a61127ea26d20',
      warning: expect.stringContaining('allow-all'),
    });
  });

  test.each([
    [[], 'exactly one'],
    [['--cce-policy', 'x', '--template', SIDECAR], 'exactly one'],
    [['--cce-policy', 'not base64!'], 'base64'],
    [['--cce-policy', b64(REGO_POLICY), '--parameters', SIDECAR_PARAMS], '--parameters goes with --template'],
    [['--template', SIDECAR, '--parameters', SIDECAR_PARAMS], 'has no value here'],
  ])('%j is refused', async (argv, message) => {
    await expect(policyHostdata(argv)).rejects.toThrow(InvalidArgument);
    await expect(policyHostdata(argv)).rejects.toThrow(message);
  });
});

describe('skr policy create and lint', () => {
  test('create → lint round trip is clean and exits 0', async () => {
    const policy = await policyCreate(['--maa', 'sharedeus.eus.attest.azure.net', '--hostdata', sha256(REGO_POLICY)]);
    const lint = await policyLint([writeJson('policy.json', policy)]);
    expect(lint).toEqual({ ok: true, findings: [] });
    expect(exitCodeOf(lint)).toBe(0);
  });

  test('a weak policy is reported with exit 1', async () => {
    const weak = { version: '1.0.0', anyOf: [{ authority: 'https://sharedeus.eus.attest.azure.net', allOf: [{ claim: 'x-ms-compliance-status', equals: 'azure-compliant-uvm' }] }] };
    const lint = await policyLint([writeJson('weak.json', weak)]);
    expect(lint).toMatchObject({ ok: false });
    expect((lint as { findings: { code: string }[] }).findings.map((f) => f.code)).toEqual(['hostdata_missing', 'vmpl_missing', 'debug_claim_missing']);
    expect(exitCodeOf(lint)).toBe(1);
  });

  test('create warns on stderr, in the findings format, when it binds the all-zero host_data; stdout stays the policy', async () => {
    const stderr: string[] = [];
    const policy = await policyCreate(['--maa', 'sharedeus.eus.attest.azure.net', '--hostdata', '0'.repeat(64)], (text) => stderr.push(text));
    expect(policy).toMatchObject({ version: '1.0.0', anyOf: [{ authority: 'https://sharedeus.eus.attest.azure.net' }] });
    expect(JSON.parse(stderr.join(''))).toEqual({ findings: [expect.objectContaining({ severity: 'warning', code: 'hostdata_zero', path: 'anyOf[0]' })] });
    const quiet: string[] = [];
    await policyCreate(['--maa', 'sharedeus.eus.attest.azure.net', '--hostdata', sha256(REGO_POLICY)], (text) => quiet.push(text));
    expect(quiet).toEqual([]);
  });

  test('create needs --maa and a valid --hostdata', async () => {
    await expect(policyCreate(['--hostdata', sha256('x')])).rejects.toThrow('--maa is required');
    await expect(policyCreate(['--maa', 'm.attest.azure.net'])).rejects.toThrow('at least one --hostdata');
  });
});
