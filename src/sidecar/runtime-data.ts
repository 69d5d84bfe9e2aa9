import { InvalidRequest } from '../errors';
import { decodeBase64Url } from '../lib/base64url';

/** Runtime data arrives base64, standard or URL-safe, as Microsoft's sidecar accepts it. */
export function decodeRuntimeData(value: unknown, field = 'runtime_data'): Buffer {
  if (typeof value !== 'string') throw new InvalidRequest(`${field} must be a base64 string`, { field });
  const bytes = decodeBase64Url(value.replace(/\+/g, '-').replace(/\//g, '_'));
  if (!bytes) throw new InvalidRequest(`${field} is not valid base64`, { field });
  return bytes;
}
