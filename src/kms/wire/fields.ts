import { KmsBadParameter } from '../../errors';
import { decodeBase64Url, encodeBase64Url } from '../../lib/base64url';

/** Field-level validation of Key Vault request bodies: wrong types are BadParameter, never coerced. */

export type Body = Record<string, unknown>;

export const NAME_PATTERN = /^[0-9a-zA-Z-]{1,127}$/;
export const VERSION_PATTERN = /^[0-9a-fA-F]{32}$/;

export function body(value: unknown): Body {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new KmsBadParameter('the request body must be a JSON object');
  return value as Body;
}

export function checkName(name: string): string {
  if (!NAME_PATTERN.test(name)) throw new KmsBadParameter(`key name "${name}" must be 1-127 characters of 0-9, a-z, A-Z and -`);
  return name;
}

export function optionalString(b: Body, field: string): string | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new KmsBadParameter(`${field} must be a string`);
  return v;
}

export function requiredString(b: Body, field: string): string {
  const v = optionalString(b, field);
  if (v === undefined || v === '') throw new KmsBadParameter(`${field} is required`);
  return v;
}

export function optionalBoolean(b: Body, field: string): boolean | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new KmsBadParameter(`${field} must be a boolean`);
  return v;
}

export function optionalInteger(b: Body, field: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new KmsBadParameter(`${field} must be an integer ${min}..${max}`);
  return v;
}

export function optionalObject(b: Body, field: string): Body | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new KmsBadParameter(`${field} must be an object`);
  return v as Body;
}

export function optionalBytes(b: Body, field: string): Buffer | undefined {
  const v = optionalString(b, field);
  if (v === undefined) return undefined;
  const bytes = decodeBase64Url(v);
  if (!bytes) throw new KmsBadParameter(`${field} must be base64url`);
  return bytes;
}

export function requiredBytes(b: Body, field: string): Buffer {
  const bytes = optionalBytes(b, field);
  if (!bytes) throw new KmsBadParameter(`${field} is required`);
  return bytes;
}

export const b64 = (bytes: Buffer) => encodeBase64Url(bytes);

const MAX_TAGS = 15;

export function parseTags(b: Body): Record<string, string> | undefined {
  const tags = optionalObject(b, 'tags');
  if (!tags) return undefined;
  const entries = Object.entries(tags);
  if (entries.length > MAX_TAGS) throw new KmsBadParameter(`at most ${MAX_TAGS} tags are allowed`);
  for (const [k, v] of entries) {
    if (typeof v !== 'string' || k.length > 512 || v.length > 256) throw new KmsBadParameter('tags must map names (≤512 characters) to strings (≤256 characters)');
  }
  return tags as Record<string, string>;
}

/** The writable key attributes; created/updated/recoveryLevel are read-only and ignored as Key Vault does. */
export interface AttributesInput {
  enabled?: boolean;
  nbf?: number;
  exp?: number;
  exportable?: boolean;
}

export function parseAttributes(b: Body): AttributesInput {
  const a = optionalObject(b, 'attributes');
  if (!a) return {};
  const parsed: AttributesInput = {
    enabled: optionalBoolean(a, 'enabled'),
    nbf: optionalInteger(a, 'nbf'),
    exp: optionalInteger(a, 'exp'),
    exportable: optionalBoolean(a, 'exportable'),
  };
  if (parsed.nbf !== undefined && parsed.exp !== undefined && parsed.nbf >= parsed.exp) throw new KmsBadParameter('attributes.nbf must be before attributes.exp');
  return Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== undefined)) as AttributesInput;
}

/** A release policy as sent: `data` is base64url (padding accepted) of UTF-8 JSON. */
export interface ReleasePolicyInput {
  contentType?: string;
  data?: Buffer;
  immutable?: boolean;
}

export function parseReleasePolicy(b: Body): ReleasePolicyInput | undefined {
  const p = optionalObject(b, 'release_policy');
  if (!p) return undefined;
  return {
    contentType: optionalString(p, 'contentType'),
    data: optionalBytes(p, 'data'),
    immutable: optionalBoolean(p, 'immutable'),
  };
}
