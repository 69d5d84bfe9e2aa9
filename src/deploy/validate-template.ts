import { isExpression } from './arm/expression';
import { DEFAULT_SCOPE, type DeploymentScope } from './arm/functions';
import { isObject, resolveTemplate, type ParameterInput, type UnresolvedValue } from './arm/template';
import type { Finding } from './finding';
import { lintContainerGroup, type ContainerGroupSummary } from './lint-container-group';
import { CONTAINER_GROUP_API_VERSIONS, isContainerGroupApiVersion, validateContainerGroup } from './schema/container-group';

const CONTAINER_GROUP_TYPE = 'Microsoft.ContainerInstance/containerGroups';

export interface ValidateTemplateOptions {
  parameters?: Record<string, ParameterInput>;
  scope?: DeploymentScope;
}

export type Issue = Omit<Finding, 'severity'>;

export interface TemplateReport {
  valid: boolean;
  errors: Issue[];
  warnings: Issue[];
  containerGroups: (ContainerGroupSummary & { unresolved: UnresolvedValue[] })[];
}

/**
 * The deployment-template envelope; the full deploymentTemplate schema is not used because it
 * references a multi-megabyte schema of every Azure resource type.
 */
function envelopeFindings(template: unknown): Finding[] {
  const error = (code: string, message: string, path: string): Finding => ({ severity: 'error', code, message, path });
  if (!isObject(template)) return [error('template_invalid', 'the template must be a JSON object', '')];
  const found: Finding[] = [];
  if (typeof template.$schema !== 'string' || !/deploymentTemplate\.json#?$/.test(template.$schema)) {
    found.push(error('template_invalid', '$schema must name a deploymentTemplate.json schema', '$schema'));
  }
  if (typeof template.contentVersion !== 'string' || !/^\d+(\.\d+){3}$/.test(template.contentVersion)) {
    found.push(error('template_invalid', 'contentVersion must look like 1.0.0.0', 'contentVersion'));
  }
  if (!Array.isArray(template.resources)) found.push(error('template_invalid', 'resources must be an array', 'resources'));
  for (const section of ['parameters', 'variables', 'outputs']) {
    if (section in template && !isObject(template[section])) found.push(error('template_invalid', `${section} must be an object`, section));
  }
  return found;
}

/**
 * Offline `az deployment group validate` for skr's container groups: evaluate the expressions
 * that do not need Azure, check each group against the official schema of its api-version,
 * then lint what a confidential key-release deployment needs.
 */
export function validateTemplate(template: unknown, options: ValidateTemplateOptions = {}): TemplateReport {
  const findings = envelopeFindings(template);
  const containerGroups: TemplateReport['containerGroups'] = [];
  if (findings.length === 0 && isObject(template)) {
    const resolved = resolveTemplate(template, options.parameters ?? {}, options.scope ?? DEFAULT_SCOPE);
    findings.push(...resolved.errors.map((e): Finding => ({ severity: 'error', ...e })));

    for (const { path, raw, resolved: resource } of resolved.resources) {
      if (typeof resource.type !== 'string' || resource.type.toLowerCase() !== CONTAINER_GROUP_TYPE.toLowerCase()) continue;
      const apiVersion = raw.apiVersion;
      if (typeof apiVersion !== 'string' || isExpression(apiVersion) || !isContainerGroupApiVersion(apiVersion)) {
        findings.push({
          severity: 'error',
          code: 'api_version_unsupported',
          message: `apiVersion must be the literal ${CONTAINER_GROUP_API_VERSIONS.join(', ')} (the schemas skr checks against)`,
          path: `${path}.apiVersion`,
        });
      } else {
        for (const issue of validateContainerGroup(resource, apiVersion)) {
          findings.push({ severity: 'error', code: 'schema_invalid', message: issue.message, path: `${path}${issue.path}` });
        }
      }
      const linted = lintContainerGroup(resource, path);
      findings.push(...linted.findings);
      containerGroups.push({ ...linted.summary, unresolved: resolved.unresolved.filter((u) => u.path.startsWith(`${path}.`)) });
    }
    if (containerGroups.length === 0) {
      findings.push({ severity: 'error', code: 'no_container_group', message: `the template has no ${CONTAINER_GROUP_TYPE} resource`, path: 'resources' });
    }
  }
  const strip = ({ code, message, path }: Finding): Issue => ({ code, message, path });
  const errors = findings.filter((f) => f.severity === 'error').map(strip);
  return { valid: errors.length === 0, errors, warnings: findings.filter((f) => f.severity === 'warning').map(strip), containerGroups };
}
