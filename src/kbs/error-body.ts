import { SkrError, type SkrErrorCode } from '../errors';

/**
 * Errors on the KBS surface in trustee's ErrorInformation shape (trustee-kbs.md §2.5):
 * `{"type": ".../errors/<Variant>", "detail": "..."}`, plus skr's stable `code` and, where
 * there are any, `details` (a policy denial's explanation) — extra members trustee's clients
 * ignore. Statuses follow trustee (401) for every handshake and token failure, which is what
 * makes guest-components re-attest; they differ where trustee's would be dishonest:
 * - a policy denial is 403, not 401: the evidence was fine and re-attesting (which a 401 makes
 *   the client do, three times) cannot change the answer;
 * - a resource the policy allows but the backend lacks is 404, not 401 (guest-components stops
 *   on 404 with "not found"); only a caller the policy allows learns whether it exists;
 * - malformed requests are 400, a body over the limit 413, throttling 429, a failing backend
 *   502/504 and our own failures 500, so a client can tell its mistakes from ours.
 */
export const TRUSTEE_ERROR_BASE = 'https://github.com/confidential-containers/kbs/errors/';
/** For conditions trustee has no variant for (throttling, oversized bodies, our own failures). */
export const SKR_ERROR_BASE = 'urn:skr:kbs:error:';

const VARIANTS: Partial<Record<SkrErrorCode, string>> = {
  kbs_version_unsupported: 'AttestationError',
  kbs_session_missing: 'AttestationError',
  kbs_attestation_refused: 'AttestationError',
  kbs_tee_pubkey_unsupported: 'JweError',
  invalid_request: 'SerdeError',
  evidence_malformed: 'SerdeError',
  kbs_token_missing: 'TokenNotFound',
  kbs_token_invalid: 'TokenVerifierError',
  release_policy_not_satisfied: 'PolicyDeny',
  release_policy_invalid: 'ParsePolicyError',
  invalid_argument: 'ParsePolicyError',
  kbs_resource_path_invalid: 'InvalidRequestPath',
  kbs_resource_name_unmappable: 'InvalidRequestPath',
  kbs_resource_not_found: 'PluginInternalError',
  kbs_admin_unauthorized: 'AdminAuthAccess',
  upstream_failed: 'PluginInternalError',
  upstream_timeout: 'PluginInternalError',
  kbs_endpoint_not_found: 'PluginNotFound',
  kbs_policy_not_found: 'PluginInternalError',
};

export interface KbsErrorBody {
  type: string;
  detail: string;
  code: SkrErrorCode;
  details?: Record<string, unknown>;
}

export function kbsErrorBody(error: unknown): { status: number; body: KbsErrorBody } {
  // An SkrError's message and details are fit for the caller (src/errors.ts); anything else is a bug, answered bare.
  const skr = error instanceof SkrError && error.code !== 'internal_error' ? error : undefined;
  if (!skr) return { status: 500, body: { type: `${SKR_ERROR_BASE}internal_error`, detail: 'internal error', code: 'internal_error' } };
  const variant = VARIANTS[skr.code];
  const body: KbsErrorBody = { type: variant ? `${TRUSTEE_ERROR_BASE}${variant}` : `${SKR_ERROR_BASE}${skr.code}`, detail: skr.message, code: skr.code };
  if (skr.details) body.details = skr.details;
  return { status: skr.status, body };
}
