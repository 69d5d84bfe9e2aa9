import { SkrError, UpstreamFailed, UpstreamRejected } from '../../errors';

const IDENTITY_ERRORS = ['CredentialUnavailableError', 'AuthenticationError', 'AggregateAuthenticationError'];

/** The SDK's errors in skr's terms; matched on the error class name the SDK documents, not its text. */
export function vaultError(error: unknown): SkrError {
  if (error instanceof SkrError) return error;
  const e = error as { name?: string; message?: string; statusCode?: number; code?: string };
  const message = (e.message ?? String(error)).split('\n')[0].slice(0, 300);
  if (e.name !== undefined && IDENTITY_ERRORS.includes(e.name)) return new UpstreamFailed('identity', `no credential could get a Key Vault token: ${message}`);
  if (e.name === 'RestError' && typeof e.statusCode === 'number') {
    return e.statusCode < 500 ? new UpstreamRejected('key vault', e.statusCode, e.code, message) : new UpstreamFailed('key vault', message, { upstreamStatus: e.statusCode });
  }
  return new UpstreamFailed('key vault', message);
}
