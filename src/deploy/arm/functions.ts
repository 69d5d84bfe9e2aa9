import { createHash } from 'node:crypto';
import { ExpressionError, Unresolved, type ArmFunction, type JsonValue } from './expression';

/** Where the template would be deployed; only used to render resource ids and locations. */
export interface DeploymentScope {
  subscriptionId: string;
  resourceGroup: string;
  location: string;
}

export const DEFAULT_SCOPE: DeploymentScope = {
  subscriptionId: '00000000-0000-0000-0000-000000000000',
  resourceGroup: 'skr-validate',
  location: 'eastus',
};

export interface Lookups {
  parameter(name: string): JsonValue;
  variable(name: string): JsonValue;
}

/**
 * The functions skr's templates use. Anything else is left unevaluated (the schema accepts an
 * expression string wherever a value may stand), so an unknown function never fails validation.
 */
export function armFunctions(scope: DeploymentScope, lookups: Lookups): ReadonlyMap<string, ArmFunction> {
  const resourceGroupId = `/subscriptions/${scope.subscriptionId}/resourceGroups/${scope.resourceGroup}`;
  return new Map<string, ArmFunction>([
    ['parameters', (args) => lookups.parameter(oneString('parameters', args))],
    ['variables', (args) => lookups.variable(oneString('variables', args))],
    ['concat', concat],
    ['format', format],
    ['base64', (args) => Buffer.from(oneString('base64', args), 'utf8').toString('base64')],
    ['string', (args) => toText('string', exactly('string', args, 1)[0])],
    [
      'resourcegroup',
      (args) => {
        exactly('resourceGroup', args, 0);
        return { id: resourceGroupId, name: scope.resourceGroup, type: 'Microsoft.Resources/resourceGroups', location: scope.location, properties: { provisioningState: 'Succeeded' } };
      },
    ],
    ['resourceid', (args) => resourceId(scope, args)],
    ['uniquestring', uniqueString],
  ]);
}

function exactly(name: string, args: JsonValue[], count: number): JsonValue[] {
  if (args.length !== count) throw new ExpressionError(`${name}() takes ${count} argument(s), got ${args.length}`);
  return args;
}

function oneString(name: string, args: JsonValue[]): string {
  const [value] = exactly(name, args, 1);
  if (typeof value !== 'string') throw new ExpressionError(`${name}() takes a string`);
  return value;
}

/** ARM renders values with .NET conventions: booleans are True/False, objects compact JSON. */
function toText(name: string, value: JsonValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === null) throw new ExpressionError(`${name}() cannot render null`);
  return JSON.stringify(value);
}

function concat(args: JsonValue[]): JsonValue {
  if (args.length === 0) throw new ExpressionError('concat() needs at least one argument');
  if (args.every(Array.isArray)) return (args as JsonValue[][]).flat(1);
  if (args.some((a) => a === null || typeof a === 'object')) throw new ExpressionError('concat() takes all arrays or all scalars');
  return args.map((a) => toText('concat', a)).join('');
}

/** .NET composite formatting: `{0}` placeholders, `{{` and `}}` escapes; format specifiers are not modelled. */
function format(args: JsonValue[]): JsonValue {
  const [template, ...values] = args;
  if (typeof template !== 'string') throw new ExpressionError('format() takes a format string first');
  return template.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (match, inner: string | undefined) => {
    if (match === '{{') return '{';
    if (match === '}}') return '}';
    if (!/^\d+$/.test(inner ?? '')) throw new Unresolved(`format item "${match}" is not modelled offline`);
    const value = values[Number(inner)];
    if (value === undefined) throw new ExpressionError(`format item ${match} has no argument`);
    return toText('format', value);
  });
}

/**
 * resourceId([subscriptionId,] [resourceGroupName,] type, name...): the segments of the type
 * after the namespace pair with the names, as ARM builds the id.
 */
function resourceId(scope: DeploymentScope, args: JsonValue[]): JsonValue {
  if (!args.every((a): a is string => typeof a === 'string')) throw new ExpressionError('resourceId() takes strings');
  const typeAt = args.findIndex((a) => /^[A-Za-z0-9]+(\.[A-Za-z0-9]+)+\/[^/]+/.test(a));
  if (typeAt < 0 || typeAt > 2) throw new ExpressionError('resourceId() needs a resource type such as Microsoft.X/y');
  const [subscriptionId, resourceGroup] = typeAt === 2 ? [args[0], args[1]] : typeAt === 1 ? [scope.subscriptionId, args[0]] : [scope.subscriptionId, scope.resourceGroup];
  const [namespace, ...types] = args[typeAt].split('/');
  const names = args.slice(typeAt + 1);
  if (names.length !== types.length) throw new ExpressionError(`resourceId() for ${args[typeAt]} needs ${types.length} name(s), got ${names.length}`);
  const path = types.map((t, i) => `${t}/${names[i]}`).join('/');
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/${namespace}/${path}`;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * A stand-in for ARM's uniqueString: deterministic, 13 characters of the same lowercase base32
 * alphabet, but NOT the value Azure computes (ARM's hash is an internal MurmurHash64 variant).
 * Good for checking that names fit; never for predicting real names.
 */
function uniqueString(args: JsonValue[]): JsonValue {
  if (args.length === 0 || !args.every((a) => typeof a === 'string')) throw new ExpressionError('uniqueString() takes one or more strings');
  const digest = createHash('sha256').update(args.join('-')).digest();
  let bits = digest.readBigUInt64BE(0);
  let out = '';
  for (let i = 0; i < 13; i += 1) {
    out += BASE32[Number(bits & 31n)];
    bits >>= 5n;
  }
  return out;
}
