import { InvalidRequest, SkrError } from '../errors';

/**
 * Errors Express and body-parser raise carry an HTTP `status` but no code: a bad
 * Content-Encoding, an undecodable path, an unsupported charset. They are the client's fault,
 * so they become a 4xx with a stable code rather than falling through to a 500.
 */
export function clientErrorOf(error: unknown): unknown {
  if (error instanceof SkrError) return error;
  const status = (error as { status?: unknown; statusCode?: unknown }).status ?? (error as { statusCode?: unknown }).statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return error;
  if (status === 413) return new SkrError('body_too_large', 413, 'the request body is too large');
  if (status === 415) return new SkrError('unsupported_media_type', 415, 'the request body encoding or charset is not supported');
  return new InvalidRequest('the request cannot be read');
}
