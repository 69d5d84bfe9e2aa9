import { InvalidArgument } from '../errors';

/**
 * Service endpoints are given as `host[:port]` (https implied, as Microsoft's sidecar takes
 * them) or as full URLs. Plain http is accepted only for loopback hosts, where the embedded
 * stack runs with `--http`. The result is an origin without a trailing slash.
 */
export function normaliseEndpoint(endpoint: string, field = 'endpoint'): string {
  const text = endpoint.trim();
  if (!text || text.length > 2048) throw new InvalidArgument(`${field} is empty or too long`, { field });
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new InvalidArgument(`${field} is not a host or URL`, { field });
  }
  if (url.username || url.password || url.search || url.hash) throw new InvalidArgument(`${field} must not carry credentials, query or fragment`, { field });
  if (url.pathname !== '/' && url.pathname !== '') throw new InvalidArgument(`${field} must not carry a path`, { field });
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) throw new InvalidArgument(`${field} must use https`, { field });
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InvalidArgument(`${field} must use https`, { field });
  return url.origin;
}

export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}
