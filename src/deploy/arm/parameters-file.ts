import { InvalidArgument } from '../../errors';
import { isObject, type ParameterInput } from './template';

/** A deployment parameters file: `{"parameters": {name: {"value": v} | {"reference": {...}}}}`. */
export function parseParametersFile(document: unknown): Record<string, ParameterInput> {
  if (!isObject(document) || !isObject(document.parameters)) {
    throw new InvalidArgument('the parameters file must be an object with a "parameters" object');
  }
  const inputs: Record<string, ParameterInput> = {};
  for (const [name, entry] of Object.entries(document.parameters)) {
    if (isObject(entry) && 'value' in entry) inputs[name] = { value: entry.value };
    else if (isObject(entry) && 'reference' in entry) inputs[name] = { reference: entry.reference };
    else throw new InvalidArgument(`parameters file: "${name}" needs a "value" or a "reference"`, { parameter: name });
  }
  return inputs;
}
