import { decodeBase64Url, encodeBase64Url } from '../../lib/base64url';

/**
 * The bytes of a base64url field the route's schema has already checked (src/kms/wire/schemas.ts
 * Base64Url); absent or null stays absent.
 */
export function bytes(text: string): Buffer;
export function bytes(text: string | null | undefined): Buffer | undefined;
export function bytes(text: string | null | undefined): Buffer | undefined {
  return text === undefined || text === null ? undefined : decodeBase64Url(text);
}

export const b64 = (value: Buffer) => encodeBase64Url(value);
