/**
 * base64url as the Azure services use it: the URL-safe alphabet, padding optional on input
 * (Microsoft's sidecar pads, most JOSE producers do not). Anything else is refused rather
 * than skipped, unlike Buffer.from(s, 'base64url'), which ignores stray characters.
 */
const PATTERN = /^[A-Za-z0-9_-]*={0,2}$/;

export function isBase64Url(text: string): boolean {
  if (!PATTERN.test(text)) return false;
  const bare = text.replace(/=+$/, '');
  if (bare.length % 4 === 1) return false;
  // Padding, when present, must complete the final quantum exactly.
  return bare.length === text.length || text.length % 4 === 0;
}

/** Decodes, or returns undefined when `text` is not base64url. */
export function decodeBase64Url(text: string): Buffer | undefined {
  return isBase64Url(text) ? Buffer.from(text.replace(/=+$/, ''), 'base64url') : undefined;
}

export function encodeBase64Url(bytes: Uint8Array, padded = false): string {
  const bare = Buffer.from(bytes).toString('base64url');
  return padded ? bare + '='.repeat((4 - (bare.length % 4)) % 4) : bare;
}
