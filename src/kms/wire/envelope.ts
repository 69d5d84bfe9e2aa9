import type { Response } from 'express';
import { InternalError, SkrError, type SkrErrorCode } from '../../errors';

/** Key Vault's error codes for ours; anything else is named by its status as Key Vault would. */
const KV_CODES: Partial<Record<SkrErrorCode, string>> = {
  key_not_found: 'KeyNotFound',
  secret_not_found: 'SecretNotFound',
  bad_parameter: 'BadParameter',
  invalid_request: 'BadParameter',
  sealed_data_invalid: 'BadParameter',
  forbidden: 'Forbidden',
  conflict: 'Conflict',
  unauthorized: 'Unauthorized',
  token_invalid: 'Unauthorized',
  body_too_large: 'RequestEntityTooLarge',
  audit_unavailable: 'ServiceUnavailable',
  requests_throttled: 'Throttled',
};

const BY_STATUS: Record<number, string> = {
  400: 'BadParameter',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  413: 'RequestEntityTooLarge',
  429: 'Throttled',
  501: 'NotImplemented',
  503: 'ServiceUnavailable',
};

export function kvCode(error: SkrError): string {
  return KV_CODES[error.code] ?? BY_STATUS[error.status] ?? (error.status >= 500 ? 'InternalServerError' : 'BadParameter');
}

/**
 * Answers in Key Vault's envelope `{"error":{"code","message","innererror"}}`; our own stable
 * code rides in `innererror.code` and, for refusals (403), the structured reason in
 * `innererror.details` (a release denial's explanation). Unexpected errors say nothing more.
 */
export function sendKvError(res: Response, error: unknown): void {
  const skr = error instanceof SkrError ? error : new InternalError();
  res.status(skr.status).json({
    error: {
      code: kvCode(skr),
      message: skr.message,
      innererror: { code: skr.code, ...(skr.status === 403 && skr.details ? { details: skr.details } : {}) },
    },
  });
}
