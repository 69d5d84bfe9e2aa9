import { InvalidRequest } from '../errors';

/**
 * RFC 8785 (JCS) canonical JSON: object members sorted by their UTF-16 code units, no
 * whitespace, strings and numbers in ECMAScript's JSON.stringify form (which is what the RFC
 * prescribes). Only JSON values are accepted: a non-finite number or undefined is refused
 * rather than silently dropped, because the bytes are hashed into evidence.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidRequest('canonical JSON has no form for a non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  throw new InvalidRequest(`canonical JSON has no form for a ${typeof value}`);
}
