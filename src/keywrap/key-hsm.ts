import { KeyUnwrapError } from '../errors';
import { decodeBase64Url, encodeBase64Url } from '../lib/base64url';
import type { KeyWrapAlgorithm } from './algorithms';

/** The BYOK transfer-blob schema Key Vault's `key_hsm` follows. */
export const KEY_HSM_SCHEMA_VERSION = '1.0.0';

/** A `key_hsm` larger than this is not a wrapped key (RSA-4096 material wrapped under RSA-4096 is under 4 KiB). */
const MAX_KEY_HSM_CHARS = 64 * 1024;

export interface KeyHsm {
  schemaVersion: string;
  /** The wrapping key's id (the `x-ms-runtime` JWK kid), when the service names it. */
  kid?: string;
  alg?: string;
  /** Informational; unwrap with the release's `payload.request.enc`. */
  enc?: string;
  /** RSA-OAEP(KEK) ‖ RFC 5649 wrap, for `unwrapKeyMaterial`. */
  ciphertext: Buffer;
}

/** `key_hsm` = base64url JSON `{schema_version, header:{kid, alg:"dir", enc}, ciphertext}`. */
export function encodeKeyHsm({ kid, enc, ciphertext }: { kid: string; enc: KeyWrapAlgorithm; ciphertext: Uint8Array }): string {
  const body = { schema_version: KEY_HSM_SCHEMA_VERSION, header: { kid, alg: 'dir', enc }, ciphertext: encodeBase64Url(ciphertext) };
  return encodeBase64Url(Buffer.from(JSON.stringify(body), 'utf8'));
}

const malformed = (message: string) => new KeyUnwrapError('key_hsm_malformed', `key_hsm: ${message}`);

/**
 * Strict about form: base64url of a UTF-8 JSON object, a schema_version, a header object whose
 * fields are strings, a non-empty base64url ciphertext. Header values are reported, not judged:
 * the wrapping hash comes from the signed `payload.request.enc` (Key Vault's header is not the
 * authority on it), and BYOK-only fields such as `generator` are ignored.
 */
export function decodeKeyHsm(text: string): KeyHsm {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_KEY_HSM_CHARS) throw malformed('not a base64url string of a sane length');
  const json = decodeBase64Url(text);
  if (!json) throw malformed('not base64url');
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch {
    throw malformed('not UTF-8 JSON');
  }
  if (!isObject(body)) throw malformed('not a JSON object');
  const { schema_version: schemaVersion, header, ciphertext } = body;
  if (typeof schemaVersion !== 'string' || schemaVersion.length === 0) throw malformed('schema_version is missing');
  if (!isObject(header)) throw malformed('header is missing');
  for (const field of ['kid', 'alg', 'enc'] as const) {
    if (header[field] !== undefined && typeof header[field] !== 'string') throw malformed(`header.${field} is not a string`);
  }
  const bytes = typeof ciphertext === 'string' ? decodeBase64Url(ciphertext) : undefined;
  if (!bytes || bytes.length === 0) throw malformed('ciphertext is not base64url');
  const decoded: KeyHsm = { schemaVersion, ciphertext: bytes };
  if (header.kid !== undefined) decoded.kid = header.kid as string;
  if (header.alg !== undefined) decoded.alg = header.alg as string;
  if (header.enc !== undefined) decoded.enc = header.enc as string;
  return decoded;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
