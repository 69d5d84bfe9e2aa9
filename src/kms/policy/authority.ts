/**
 * Whether a policy authority names the token's issuer. Real policies list MAA instances with
 * and without a trailing slash and the Azure SDK's mock issuer adds one, so trailing slashes
 * do not count; scheme and host compare case-insensitively as URLs do (and a default port is
 * the same as none). Path and query stay exact.
 */
export function sameAuthority(authority: string, issuer: string): boolean {
  const a = canonicalAuthority(authority);
  return a !== undefined && a === canonicalAuthority(issuer);
}

/**
 * The comparable form of an http(s) issuer URL, or undefined for anything else. URLs with
 * credentials or a fragment are not issuers (OpenID issuers have neither) and match nothing:
 * `https://x@maa.example` must not pass for `https://maa.example`.
 */
export function canonicalAuthority(text: string): string | undefined {
  if (typeof text !== 'string' || text.length === 0) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username !== '' || url.password !== '' || text.includes('#')) return undefined;
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}${url.search}`;
}
