import { ExpressionError, Unresolved, evaluateString, isExpression, type ArmFunction, type JsonValue } from './expression';
import { armFunctions, type DeploymentScope } from './functions';

export type JsonObject = { [key: string]: JsonValue };

/** A parameters-file entry: a value, or a Key Vault reference only the deployment can read. */
export type ParameterInput = { value: JsonValue } | { reference: JsonValue };

export interface TemplateIssue {
  code: string;
  message: string;
  path: string;
}

/** An expression left as text because its value exists only at deployment. */
export interface UnresolvedValue {
  path: string;
  expression: string;
  reason: string;
}

export interface ResolvedResource {
  path: string;
  raw: JsonObject;
  resolved: JsonObject;
}

export interface ResolvedTemplate {
  resources: ResolvedResource[];
  errors: TemplateIssue[];
  unresolved: UnresolvedValue[];
}

export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Case-insensitive lookup, as ARM treats parameter and variable names. */
function findKey(object: JsonObject, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(object).find((k) => k.toLowerCase() === lower);
}

function typeMatches(type: string, value: JsonValue): boolean {
  switch (type.toLowerCase()) {
    case 'string':
    case 'securestring':
      return typeof value === 'string';
    case 'int':
      return Number.isInteger(value);
    case 'bool':
      return typeof value === 'boolean';
    case 'object':
    case 'secureobject':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    default:
      return false;
  }
}

/**
 * Evaluates the template's resources with the given parameter values: every expression that
 * can be known before deployment is replaced by its value, the rest stay as expression text
 * (listed in `unresolved`), and expressions the deployment would reject become `errors`.
 * Parameter values are never copied into messages (they may be secure).
 */
export function resolveTemplate(template: JsonObject, inputs: Record<string, ParameterInput>, scope: DeploymentScope): ResolvedTemplate {
  const declared = isObject(template.parameters) ? template.parameters : {};
  const variables = isObject(template.variables) ? template.variables : {};
  const errors: TemplateIssue[] = [];
  const unresolved: UnresolvedValue[] = [];

  for (const [name, input] of Object.entries(inputs)) {
    const key = findKey(declared, name);
    const declaration = key === undefined ? undefined : declared[key];
    const path = `parameters.${name}`;
    if (!isObject(declaration)) {
      errors.push({ code: 'parameter_unknown', message: `parameter "${name}" is not declared by the template`, path });
    } else if ('value' in input) {
      const type = typeof declaration.type === 'string' ? declaration.type : '';
      if (!typeMatches(type, input.value)) errors.push({ code: 'parameter_type_mismatch', message: `parameter "${name}" must be of type ${type || '(undeclared)'}`, path });
      const allowed = declaration.allowedValues;
      if (Array.isArray(allowed) && !allowed.some((a) => JSON.stringify(a) === JSON.stringify(input.value))) {
        errors.push({ code: 'parameter_not_allowed', message: `parameter "${name}" is not one of its allowedValues`, path });
      }
    }
  }

  const variableCache = new Map<string, { value: JsonValue } | { error: Error }>();
  const evaluating = new Set<string>();
  let functions: ReadonlyMap<string, ArmFunction>;

  const parameter = (name: string): JsonValue => {
    const key = findKey(declared, name);
    const declaration = key === undefined ? undefined : declared[key];
    if (key === undefined || !isObject(declaration)) throw new ExpressionError(`parameter "${name}" is not declared`);
    const inputKey = findKey(inputs as JsonObject, key);
    const input = inputKey === undefined ? undefined : inputs[inputKey];
    if (input && 'value' in input) return input.value;
    if (input) throw new Unresolved(`parameter "${key}" is a Key Vault reference`);
    if (!('defaultValue' in declaration)) throw new Unresolved(`parameter "${key}" has no value`);
    return strict(declaration.defaultValue);
  };

  const variable = (name: string): JsonValue => {
    const key = findKey(variables, name);
    if (key === undefined) throw new ExpressionError(`variable "${name}" is not declared`);
    const cached = variableCache.get(key);
    if (cached) {
      if ('error' in cached) throw cached.error;
      return cached.value;
    }
    if (evaluating.has(key)) throw new ExpressionError(`variable "${key}" refers to itself`);
    evaluating.add(key);
    try {
      const value = strict(variables[key]);
      variableCache.set(key, { value });
      return value;
    } catch (error) {
      variableCache.set(key, { error: error as Error });
      throw error;
    } finally {
      evaluating.delete(key);
    }
  };

  /** Evaluates a whole value or throws: inside another expression a half-known value is useless. */
  function strict(value: JsonValue | undefined): JsonValue {
    if (value === undefined) return null;
    if (typeof value === 'string') return evaluateString(value, functions);
    if (Array.isArray(value)) return value.map(strict);
    if (isObject(value)) {
      if ('copy' in value) throw new Unresolved('copy loops are not evaluated offline');
      const out: JsonObject = {};
      for (const [k, v] of Object.entries(value)) out[keyText(strict(k))] = strict(v);
      return out;
    }
    return value;
  }

  /** Evaluates what it can, leaving each unknowable string as it is and noting why. */
  function lenient(value: JsonValue, path: string): JsonValue {
    if (typeof value === 'string') {
      try {
        return evaluateString(value, functions);
      } catch (error) {
        if (error instanceof Unresolved) unresolved.push({ path, expression: value, reason: error.message });
        else if (error instanceof ExpressionError) errors.push({ code: 'expression_invalid', message: `${value}: ${error.message}`, path });
        else throw error;
        return value;
      }
    }
    if (Array.isArray(value)) return value.map((v, i) => lenient(v, `${path}[${i}]`));
    if (isObject(value)) {
      const out: JsonObject = {};
      for (const [k, v] of Object.entries(value)) {
        const key = isExpression(k) ? lenient(k, `${path}.${k}`) : k;
        out[typeof key === 'string' ? key : k] = lenient(v, `${path}.${k}`);
      }
      return out;
    }
    return value;
  }

  functions = armFunctions(scope, { parameter, variable });

  const resources = Array.isArray(template.resources) ? template.resources : [];
  const resolved = resources.flatMap((raw, i): ResolvedResource[] => {
    if (!isObject(raw)) return [];
    const path = `resources[${i}]`;
    return [{ path, raw, resolved: lenient(raw, path) as JsonObject }];
  });
  return { resources: resolved, errors, unresolved };
}

function keyText(value: JsonValue): string {
  if (typeof value !== 'string') throw new ExpressionError('a property name must evaluate to a string');
  return value;
}
