import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { parseParametersFile, validateTemplate, type TemplateReport } from '../../src/deploy';
import { DEBUG_POLICY, LEGACY_ALLOW_ALL, OPEN_DOOR_POLICY, REGO_POLICY, b64 } from './policies';

// Templates are mutated freely to break them.
type Json = any;

const TEMPLATES = join(__dirname, '../../arm-templates');
const load = (file: string): Json => JSON.parse(readFileSync(join(TEMPLATES, file), 'utf8'));
const sidecarParameters = () => parseParametersFile(load('aci-skr-sidecar.parameters.json'));
const codes = (report: TemplateReport) => ({ errors: report.errors.map((e) => e.code), warnings: report.warnings.map((w) => w.code) });

describe('the shipped templates validate', () => {
  test.each([
    ['aci-skr-sidecar.json', 'aci-skr-sidecar.parameters.json', '2023-05-01'],
    ['aci-skr-selfhosted.json', 'aci-skr-selfhosted.parameters.json', '2025-09-01'],
  ])('%s with %s', (template, parameters, apiVersion) => {
    const report = validateTemplate(load(template), { parameters: parseParametersFile(load(parameters)) });
    expect(report).toMatchObject({ valid: true, errors: [], warnings: [] });
    expect(report.containerGroups).toHaveLength(1);
    expect(report.containerGroups[0]).toMatchObject({ apiVersion, sku: 'Confidential', ccePolicy: { source: 'deployment' } });
  });

  test('the sidecar template also validates without a parameters file (values left to deployment)', () => {
    expect(validateTemplate(load('aci-skr-sidecar.json')).valid).toBe(true);
  });

  test('expressions are evaluated: identity, endpoints, port, DNS label', () => {
    const report = validateTemplate(load('aci-skr-sidecar.json'), { parameters: sidecarParameters() });
    const [group] = report.containerGroups;
    expect(group).toMatchObject({ name: 'skr-app', containers: ['skr-sidecar', 'app'], sidecars: ['skr-sidecar'], ipAddressPorts: [80] });
    expect(group.userAssignedIdentities).toEqual([
      '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/skr-validate/providers/Microsoft.ManagedIdentity/userAssignedIdentities/skr-identity',
    ]);
    expect(group.unresolved.map((u) => u.path)).toEqual(['resources[0].properties.confidentialComputeProperties.ccePolicy']);
  });

  test('a ccePolicy supplied through the parameters reports its host_data', () => {
    const parameters = { ...sidecarParameters(), ccePolicy: { value: b64(REGO_POLICY) } };
    const report = validateTemplate(load('aci-skr-sidecar.json'), { parameters });
    expect(report.valid).toBe(true);
    expect(report.containerGroups[0].ccePolicy).toEqual({
      source: 'template',
      hostdata: createHash('sha256').update(REGO_POLICY).digest('hex'),
      kind: 'rego',
      allowAll: false,
      debugMode: false,
    });
  });

  test("Microsoft's sample spellings pass: lowercase sku and protocol, fractional cpu and memory", () => {
    const template = load('aci-skr-sidecar.json');
    const properties = template.resources[0].properties;
    properties.sku = 'confidential';
    properties.ipAddress.ports[0].protocol = 'tcp';
    properties.containers[1].properties.resources.requests = { cpu: 0.75, memoryInGB: 1.5 };
    expect(validateTemplate(template, { parameters: sidecarParameters() })).toMatchObject({ valid: true, errors: [] });
  });
});

/** Each broken copy of the sidecar template, and the finding it must produce. */
const BROKEN: [string, (t: Json) => void, { errors?: string[]; warnings?: string[] }][] = [
  ['Standard sku', (t) => (t.resources[0].properties.sku = 'Standard'), { errors: ['sku_not_confidential'] }],
  ['no sku', (t) => delete t.resources[0].properties.sku, { errors: ['sku_not_confidential'] }],
  ['Windows', (t) => (t.resources[0].properties.osType = 'Windows'), { errors: ['os_type_not_linux'] }],
  ['empty ccePolicy', (t) => (t.resources[0].properties.confidentialComputeProperties.ccePolicy = ''), { errors: ['cce_policy_missing'] }],
  ['no confidentialComputeProperties', (t) => delete t.resources[0].properties.confidentialComputeProperties, { errors: ['cce_policy_missing'] }],
  ['ccePolicy not base64', (t) => (t.resources[0].properties.confidentialComputeProperties.ccePolicy = 'not base64!'), { errors: ['cce_policy_not_base64'] }],
  ['ccePolicy not Rego', (t) => (t.resources[0].properties.confidentialComputeProperties.ccePolicy = b64('hello')), { errors: ['cce_policy_not_rego'] }],
  ['allow-all Rego policy', (t) => (t.resources[0].properties.confidentialComputeProperties.ccePolicy = b64(OPEN_DOOR_POLICY)), { warnings: ['cce_policy_allow_all'] }],
  ['legacy allow-all policy', (t) => (t.resources[0].properties.confidentialComputeProperties.ccePolicy = b64(LEGACY_ALLOW_ALL)), { warnings: ['cce_policy_allow_all'] }],
  ['debug-mode policy', (t) => (t.resources[0].properties.confidentialComputeProperties.ccePolicy = b64(DEBUG_POLICY)), { warnings: ['cce_policy_debug_mode'] }],
  ['sidecar port public', (t) => t.resources[0].properties.ipAddress.ports.push({ port: 8080, protocol: 'TCP' }), { errors: ['sidecar_port_public'] }],
  [
    'sidecar on SKR_PORT 9000, which is public',
    (t) => {
      t.variables.sidecarPort = 9000;
      t.resources[0].properties.ipAddress.ports.push({ port: 9000, protocol: 'TCP' });
    },
    { errors: ['sidecar_port_public'] },
  ],
  ['no identity', (t) => delete t.resources[0].identity, { errors: ['identity_missing'] }],
  ['system-assigned identity only', (t) => (t.resources[0].identity = { type: 'SystemAssigned' }), { errors: ['identity_missing'] }],
  ['cpu not a number', (t) => (t.resources[0].properties.containers[0].properties.resources.requests.cpu = 'lots'), { errors: ['schema_invalid'] }],
  ['container without image', (t) => delete t.resources[0].properties.containers[1].properties.image, { errors: ['schema_invalid'] }],
  ['unknown protocol', (t) => (t.resources[0].properties.ipAddress.ports[0].protocol = 'SCTP'), { errors: ['schema_invalid'] }],
  ['apiVersion not supported', (t) => (t.resources[0].apiVersion = '2021-09-01'), { errors: ['api_version_unsupported'] }],
  ['apiVersion an expression', (t) => (t.resources[0].apiVersion = "[parameters('location')]"), { errors: ['api_version_unsupported'] }],
  ['malformed expression', (t) => (t.resources[0].properties.containers[0].properties.image = "[parameters('sidecarImage']"), { errors: ['expression_invalid'] }],
  ['undeclared variable', (t) => (t.resources[0].properties.containers[0].properties.image = "[variables('nope')]"), { errors: ['expression_invalid'] }],
  ['no contentVersion', (t) => delete t.contentVersion, { errors: ['template_invalid'] }],
  ['no container group', (t) => (t.resources = []), { errors: ['no_container_group'] }],
];

describe('broken copies of the sidecar template are caught', () => {
  test.each(BROKEN)('%s', (_name, breakIt, expected) => {
    const template = load('aci-skr-sidecar.json');
    breakIt(template);
    const report = validateTemplate(template, { parameters: sidecarParameters() });
    expect(codes(report)).toEqual({ errors: expected.errors ?? [], warnings: expected.warnings ?? [] });
    expect(report.valid).toBe((expected.errors ?? []).length === 0);
  });

  test('schema errors name the offending path, without oneOf noise', () => {
    const template = load('aci-skr-sidecar.json');
    template.resources[0].properties.containers[0].properties.resources.requests.cpu = 'lots';
    const report = validateTemplate(template, { parameters: sidecarParameters() });
    expect(report.errors).toEqual([{ code: 'schema_invalid', message: 'must be number', path: 'resources[0].properties.containers[0].properties.resources.requests.cpu' }]);
  });

  test.each([
    ['an undeclared parameter', { nope: { value: 'x' } }, 'parameter_unknown'],
    ['a parameter of the wrong type', { appPort: { value: '80' } }, 'parameter_type_mismatch'],
  ])('a parameters file with %s is an error', (_name, extra, code) => {
    const report = validateTemplate(load('aci-skr-sidecar.json'), { parameters: { ...sidecarParameters(), ...extra } });
    expect(report.errors.map((e) => e.code)).toContain(code);
  });

  test('parameter values are never echoed (they may be secure)', () => {
    const report = validateTemplate(load('aci-skr-sidecar.json'), { parameters: { ...sidecarParameters(), appPort: { value: 'hunter2' } } });
    expect(JSON.stringify(report.errors)).not.toContain('hunter2');
  });

  test('a non-object template is invalid', () => {
    expect(codes(validateTemplate([]))).toEqual({ errors: ['template_invalid'], warnings: [] });
  });
});
