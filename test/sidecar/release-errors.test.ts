import { AuthenticationError, CredentialUnavailableError } from '@azure/identity';
import { InvalidRequest } from '../../src/errors';
import { mapKeyServiceError } from '../../src/sidecar/tee-release';

/**
 * How a failed key-service call becomes the sidecar's answer. The errors are shaped as
 * @azure/keyvault-keys raises them (a RestError: statusCode, code, the response's headers), and
 * @azure/identity's own classes for a credential that could not get a token.
 */
function restError(statusCode: number | undefined, code?: string, headers: Record<string, string> = {}): Error {
  return Object.assign(new Error(`injected ${statusCode ?? code}`), {
    name: 'RestError',
    statusCode,
    code,
    response: statusCode === undefined ? undefined : { status: statusCode, headers: { get: (name: string) => headers[name.toLowerCase()] } },
  });
}

const map = (error: unknown, body?: string) => mapKeyServiceError(error, 'demo', undefined, body);

test('429 after the retries is 503 upstream_throttled, not a 502: the key service is busy, not broken', () => {
  const mapped = map(restError(429, 'Throttled', { 'retry-after': '7' }));
  expect(mapped).toMatchObject({ status: 503, code: 'upstream_throttled', details: { service: 'kms', upstreamStatus: 429, upstreamCode: 'Throttled', retryAfter: '7' } });
  expect(mapped.message).toMatch(/^kms: /);
  expect(map(restError(429)).details?.retryAfter).toBeUndefined();
});

test('a Retry-After too long to be a delay is not carried', () => {
  expect(map(restError(429, undefined, { 'retry-after': 'x'.repeat(65) })).details?.retryAfter).toBeUndefined();
});

test.each([500, 502, 503])('HTTP %i after the retries is 502 upstream_failed with the upstream status', (status) => {
  expect(map(restError(status, 'ServiceUnavailable'))).toMatchObject({ status: 502, code: 'upstream_failed', message: `kms: HTTP ${status}`, details: { upstreamStatus: status } });
});

test('no answer at all (reset, refused) is 502 upstream_failed naming the errno', () => {
  expect(map(restError(undefined, 'ECONNRESET'))).toMatchObject({
    status: 502,
    code: 'upstream_failed',
    message: 'kms: the key service cannot be reached',
    details: { service: 'kms', reason: 'ECONNRESET' },
  });
});

test('the sidecar timeout is 504 upstream_timeout', () => {
  expect(map(Object.assign(new Error('aborted'), { name: 'AbortError' }))).toMatchObject({ status: 504, code: 'upstream_timeout' });
});

test.each([
  ['CredentialUnavailableError', new CredentialUnavailableError('ManagedIdentityCredential: Network unreachable. Message: connect ECONNREFUSED 10.0.0.1:80')],
  ['AuthenticationError', new AuthenticationError(500, { error: 'unknown_error', error_description: 'tenant 1234 at https://login.example' })],
])('%s: the identity failed, not the key service; its message (endpoints, tenants) is not passed on', (name, error) => {
  const mapped = map(error);
  expect(mapped).toMatchObject({ status: 502, code: 'upstream_failed', details: { service: 'identity', reason: name } });
  expect(mapped.message).toBe('identity: no access token for the key service could be obtained');
});

test("the key service's decisions pass through: 400 rejected, 403 denied with its explanation, 404 not found", () => {
  expect(map(restError(400, 'BadParameter'))).toMatchObject({ status: 400, code: 'upstream_rejected' });
  const explanation = { branches: [] };
  expect(map(restError(403, 'Forbidden'), JSON.stringify({ error: { innererror: { details: { explanation } } } }))).toMatchObject({ status: 403, code: 'release_denied', details: { explanation } });
  expect(map(restError(404, 'KeyNotFound'))).toMatchObject({ status: 404, code: 'key_not_found' });
  expect(map(restError(401))).toMatchObject({ status: 502, code: 'upstream_failed', details: { upstreamStatus: 401 } });
});

test('an SkrError is kept; anything thrown that is not an error object is still a 502, not a crash', () => {
  const own = new InvalidRequest('x');
  expect(map(own)).toBe(own);
  for (const thrown of [null, undefined, 'boom', 42]) expect(map(thrown)).toMatchObject({ status: 502, code: 'upstream_failed' });
});
