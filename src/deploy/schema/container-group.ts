import Ajv04, { type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv-draft-04';
import common from './common.definitions.json';
import ci20230501 from './Microsoft.ContainerInstance.2023-05-01.json';
import ci20250901 from './Microsoft.ContainerInstance.2025-09-01.json';
import ci20260601preview from './Microsoft.ContainerInstance.2026-06-01-preview.json';

/** The api-versions skr's templates may name, each checked against its official schema. */
export const CONTAINER_GROUP_API_VERSIONS = ['2023-05-01', '2025-09-01', '2026-06-01-preview'] as const;
export type ContainerGroupApiVersion = (typeof CONTAINER_GROUP_API_VERSIONS)[number];

const SCHEMAS: Record<ContainerGroupApiVersion, AnySchemaObject> = {
  '2023-05-01': ci20230501,
  '2025-09-01': ci20250901,
  '2026-06-01-preview': ci20260601preview,
};

const EXPRESSION_SCHEMA = `${common.id.replace(/#$/, '')}#/definitions/expression`;
const ENUM_NOTE = 'x-skr-enum';

export interface SchemaIssue {
  path: string;
  message: string;
}

export function isContainerGroupApiVersion(value: unknown): value is ContainerGroupApiVersion {
  return (CONTAINER_GROUP_API_VERSIONS as readonly unknown[]).includes(value);
}

/**
 * The official schemas disagree with what ARM accepts in two ways (see schemas README): cpu and
 * memoryInGB are typed integer though ACI takes 0.5, and enums are case-sensitive though ARM
 * is not ("confidential", "tcp" in Microsoft's own samples). A patched copy fixes both; the
 * shipped files stay verbatim.
 */
function patched(schema: AnySchemaObject): AnySchemaObject {
  const copy = structuredClone(schema);
  const walk = (node: unknown, key?: string): void => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n));
    if (node === null || typeof node !== 'object') return;
    const object = node as Record<string, unknown>;
    if ((key === 'cpu' || key === 'memoryInGB') && Array.isArray(object.oneOf)) {
      for (const alternative of object.oneOf as Record<string, unknown>[]) if (alternative.type === 'integer') alternative.type = 'number';
    }
    if (Array.isArray(object.enum) && object.enum.every((v) => typeof v === 'string')) {
      const values = object.enum as string[];
      delete object.enum;
      object.type = 'string';
      object.pattern = `^(?:${values.map(anyCase).join('|')})$`;
      object[ENUM_NOTE] = values;
    }
    for (const [k, v] of Object.entries(object)) walk(v, k);
  };
  walk(copy);
  return copy;
}

function anyCase(text: string): string {
  return [...text].map((ch) => (ch.toLowerCase() !== ch.toUpperCase() ? `[${ch.toUpperCase()}${ch.toLowerCase()}]` : ch.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&'))).join('');
}

let ajv: Ajv04 | undefined;
const validators = new Map<ContainerGroupApiVersion, ValidateFunction>();

function validatorFor(apiVersion: ContainerGroupApiVersion): ValidateFunction {
  let validate = validators.get(apiVersion);
  if (!validate) {
    if (!ajv) {
      // verbose: errors carry their parent schema, which holds the original enum for messages.
      ajv = new Ajv04({ strict: false, allErrors: true, verbose: true });
      ajv.addSchema(common);
      for (const schema of Object.values(SCHEMAS)) ajv.addSchema(patched(schema));
    }
    const id = String(SCHEMAS[apiVersion].id).replace(/#$/, '');
    validate = ajv.getSchema(`${id}#/resourceDefinitions/containerGroups`) as ValidateFunction;
    validators.set(apiVersion, validate);
  }
  return validate;
}

/** `/properties/containers/0/name` → `.properties.containers[0].name`. */
function toPath(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('');
}

function describe(error: ErrorObject): string {
  const values = (error.parentSchema as Record<string, unknown> | undefined)?.[ENUM_NOTE];
  if (error.keyword === 'pattern' && Array.isArray(values)) return `must be one of ${values.join(', ')}`;
  return error.message ?? error.keyword;
}

/**
 * Every property of these schemas is `oneOf: [real type, ARM expression string]`, so one real
 * error comes with a failed expression alternative and a failed oneOf; only the real one is kept.
 * (A oneOf that fails because both alternatives pass is an expression string — not an error.)
 */
function isNoise(error: ErrorObject): boolean {
  return error.keyword === 'oneOf' || error.schemaPath.startsWith(EXPRESSION_SCHEMA);
}

/** Validates one container-group resource (after expression evaluation) against its api-version's schema. */
export function validateContainerGroup(resource: unknown, apiVersion: ContainerGroupApiVersion): SchemaIssue[] {
  const validate = validatorFor(apiVersion);
  if (validate(resource)) return [];
  const seen = new Set<string>();
  const issues: SchemaIssue[] = [];
  for (const error of validate.errors ?? []) {
    if (isNoise(error)) continue;
    const issue = { path: toPath(error.instancePath), message: describe(error) };
    const key = `${issue.path}\u0000${issue.message}`;
    if (!seen.has(key)) issues.push(issue);
    seen.add(key);
  }
  return issues;
}
