import { isExpression, type JsonValue } from './arm/expression';
import { isObject, type JsonObject } from './arm/template';
import { classifyCcePolicy, decodeCcePolicyBase64, type CcePolicyKind } from './cce-policy';
import type { Finding } from './finding';

/** The sidecar listens here unless its container sets SKR_PORT. */
const DEFAULT_SIDECAR_PORT = 8080;

export interface ContainerGroupSummary {
  path: string;
  name: JsonValue;
  apiVersion: JsonValue;
  sku: JsonValue;
  containers: string[];
  /** Containers whose name contains "skr": the key release sidecar(s). */
  sidecars: string[];
  userAssignedIdentities: string[];
  ipAddressPorts: number[];
  ccePolicy: { source: 'missing' } | { source: 'deployment'; expression: string } | { source: 'template'; hostdata?: string; kind?: CcePolicyKind; allowAll?: boolean; debugMode?: boolean };
}

const array = (value: JsonValue | undefined): JsonValue[] => (Array.isArray(value) ? value : []);
const object = (value: JsonValue | undefined): JsonObject => (isObject(value) ? value : {});
/** A value still written as an expression is decided at deployment; lints give it the benefit of the doubt. */
const deferred = (value: JsonValue | undefined): boolean => typeof value === 'string' && isExpression(value);

function portsOf(entries: JsonValue[]): number[] {
  return entries.flatMap((entry) => {
    const port = object(entry).port;
    const n = typeof port === 'string' && /^\d+$/.test(port) ? Number(port) : port;
    return typeof n === 'number' ? [n] : [];
  });
}

function sidecarPorts(container: JsonObject): number[] {
  const properties = object(container.properties);
  const env = array(properties.environmentVariables)
    .map(object)
    .find((e) => e.name === 'SKR_PORT');
  const envPort = env && typeof env.value === 'string' && /^\d+$/.test(env.value) ? Number(env.value) : DEFAULT_SIDECAR_PORT;
  return [...new Set([envPort, ...portsOf(array(properties.ports))])];
}

/**
 * What a confidential skr deployment needs of a container group: the Confidential SKU on Linux,
 * a real ccePolicy (Rego `package policy`, or one supplied at deployment), the sidecar reachable
 * only from its siblings, and a user-assigned identity for the sidecar's Key Vault token.
 */
export function lintContainerGroup(resource: JsonObject, path: string): { summary: ContainerGroupSummary; findings: Finding[] } {
  const findings: Finding[] = [];
  const error = (code: string, message: string, at: string) => findings.push({ severity: 'error', code, message, path: `${path}${at}` });
  const warning = (code: string, message: string, at: string) => findings.push({ severity: 'warning', code, message, path: `${path}${at}` });

  const properties = object(resource.properties);
  const containers = array(properties.containers).map(object);
  const names = containers.map((c) => (typeof c.name === 'string' ? c.name : ''));
  const sidecars = names.filter((n) => n.toLowerCase().includes('skr'));
  const ipAddress = object(properties.ipAddress);
  const ipAddressPorts = portsOf(array(ipAddress.ports));
  const identity = object(resource.identity);
  const userAssigned = Object.keys(object(identity.userAssignedIdentities));

  const sku = properties.sku;
  if (!deferred(sku) && (typeof sku !== 'string' || sku.toLowerCase() !== 'confidential')) {
    error('sku_not_confidential', `sku is ${JSON.stringify(sku ?? null)}; a TEE-backed group needs "Confidential"`, '.properties.sku');
  }
  const osType = properties.osType;
  if (!deferred(osType) && (typeof osType !== 'string' || osType.toLowerCase() !== 'linux')) {
    error('os_type_not_linux', `osType is ${JSON.stringify(osType ?? null)}; confidential groups run Linux`, '.properties.osType');
  }

  let ccePolicy: ContainerGroupSummary['ccePolicy'] = { source: 'missing' };
  const policy = object(properties.confidentialComputeProperties).ccePolicy;
  const policyAt = '.properties.confidentialComputeProperties.ccePolicy';
  if (deferred(policy)) {
    ccePolicy = { source: 'deployment', expression: policy as string };
  } else if (typeof policy !== 'string' || policy === '') {
    error('cce_policy_missing', 'confidentialComputeProperties.ccePolicy is missing or empty (ACI answers InvalidCcePolicy)', policyAt);
  } else {
    const decoded = decodeCcePolicyBase64(policy);
    if (!decoded) {
      error('cce_policy_not_base64', 'ccePolicy is not standard base64', policyAt);
      ccePolicy = { source: 'template' };
    } else {
      const classified = classifyCcePolicy(decoded);
      ccePolicy = { source: 'template', ...classified };
      if (classified.allowAll) {
        warning('cce_policy_allow_all', `ccePolicy is an allow-all debug policy (host_data ${classified.hostdata}): any container can run, so never bind a key to it`, policyAt);
      } else if (classified.kind !== 'rego') {
        error('cce_policy_not_rego', 'ccePolicy does not decode to a Rego "package policy"', policyAt);
      }
      if (classified.debugMode) {
        warning('cce_policy_debug_mode', 'ccePolicy was generated with --debug-mode: shell exec, stack dumps and logging reach into the TEE', policyAt);
      }
    }
  }

  containers.forEach((container, i) => {
    if (!sidecars.includes(names[i])) return;
    for (const port of sidecarPorts(container)) {
      if (ipAddressPorts.includes(port)) {
        error('sidecar_port_public', `the skr sidecar "${names[i]}" port ${port} is in the group's ipAddress ports; siblings reach it on localhost, nobody else may`, '.properties.ipAddress.ports');
      }
    }
  });

  const identityType = identity.type;
  const hasUserAssigned = typeof identityType === 'string' && /userassigned/i.test(identityType) && userAssigned.length > 0;
  if (sidecars.length > 0 && !deferred(resource.identity) && !hasUserAssigned) {
    error('identity_missing', 'the skr sidecar needs a user-assigned managed identity to get its Key Vault token', '.identity');
  }

  return {
    summary: {
      path,
      name: resource.name ?? null,
      apiVersion: resource.apiVersion ?? null,
      sku: sku ?? null,
      containers: names,
      sidecars,
      userAssignedIdentities: userAssigned,
      ipAddressPorts,
      ccePolicy,
    },
    findings,
  };
}
