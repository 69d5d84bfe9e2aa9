/**
 * Every failure skr reports is an SkrError: a stable lower_snake_case `code` for the wire (clients
 * and scripts match on it; code inside skr uses `instanceof`), the HTTP `status` an API layer
 * answers with, a message fit for logs (never secrets or key material), and optional structured
 * `details` (field, expected, actual). The sections below follow the roles of src/.
 */
export type ErrorDetails = Record<string, unknown>;

/** Why a genuine report is not acceptable: one code per field and bound of the appraisal options (src/snp/validate.ts) and the verifier's reference values. */
export type ReportRefusalCode =
  | 'chip_id_mismatch'
  | 'committed_tcb_mismatch'
  | 'current_mit_vector_insufficient'
  | 'current_tcb_too_low'
  | 'family_id_mismatch'
  | 'firmware_build_too_low'
  | 'firmware_version_too_low'
  | 'guest_svn_too_low'
  | 'host_data_mismatch'
  | 'host_data_not_allowed'
  | 'image_id_mismatch'
  | 'launch_mit_vector_insufficient'
  | 'launch_tcb_too_low'
  | 'measurement_mismatch'
  | 'measurement_not_allowed'
  | 'platform_info_alias_check_complete_forbidden'
  | 'platform_info_alias_check_complete_required'
  | 'platform_info_ciphertext_hiding_enabled_forbidden'
  | 'platform_info_ciphertext_hiding_enabled_required'
  | 'platform_info_ecc_enabled_forbidden'
  | 'platform_info_ecc_enabled_required'
  | 'platform_info_iommu_write_safe_forbidden'
  | 'platform_info_iommu_write_safe_required'
  | 'platform_info_rapl_disabled_forbidden'
  | 'platform_info_rapl_disabled_required'
  | 'platform_info_sev_tio_enabled_forbidden'
  | 'platform_info_sev_tio_enabled_required'
  | 'platform_info_smt_enabled_forbidden'
  | 'platform_info_smt_enabled_required'
  | 'platform_info_tsme_enabled_forbidden'
  | 'platform_info_tsme_enabled_required'
  | 'policy_abi_too_low'
  | 'policy_ciphertext_hiding_required'
  | 'policy_cxl_allowed'
  | 'policy_debug_allowed'
  | 'policy_mem_aes_256_xts_required'
  | 'policy_migrate_ma_allowed'
  | 'policy_page_swap_disable_required'
  | 'policy_rapl_dis_required'
  | 'policy_single_socket_required'
  | 'policy_smt_allowed'
  | 'product_not_allowed'
  | 'report_data_mismatch'
  | 'reported_tcb_too_low'
  | 'vmpl_mismatch';

/** Every code an SkrError carries: the wire strings of every surface, checked by the compiler wherever one is compared. */
export type SkrErrorCode =
  | 'not_found'
  | 'cert_not_yet_valid'
  | 'vek_not_yet_valid'
  | 'cert_expired'
  | 'vek_expired'
  | 'unsupported_media_type'
  | 'body_too_large'
  | 'internal_error'
  | 'ark_not_trusted'
  | 'ask_signature_invalid'
  | 'audit_unavailable'
  | 'bad_parameter'
  | 'cbor_malformed'
  | 'cert_revoked'
  | 'certificate_malformed'
  | 'conflict'
  | 'crl_invalid'
  | 'crl_stale'
  | 'crl_unavailable'
  | 'device_busy'
  | 'device_io_error'
  | 'endpoint_not_allowed'
  | 'evidence_malformed'
  | 'firmware_error'
  | 'forbidden'
  | 'identity_header_required'
  | 'identity_not_found'
  | 'init_time_data_mismatch'
  | 'invalid_argument'
  | 'state_dir_unsafe'
  | 'state_dir_busy'
  | 'invalid_request'
  | 'request_timeout'
  | 'key_not_found'
  | 'secret_not_found'
  | 'key_rotated_meanwhile'
  | 'key_unwrap_failed'
  | 'key_wrap_failed'
  | 'master_key_unavailable'
  | 'master_key_mismatch'
  | 'master_key_release_failed'
  | 'master_key_sidecar_unreachable'
  | 'master_key_unsuitable'
  | 'metadata_header_required'
  | 'native_addon_unavailable'
  | 'no_tee_device'
  | 'nonce_expired'
  | 'nonce_replayed'
  | 'nonce_required'
  | 'nonce_unknown'
  | 'product_mismatch'
  | 'product_unknown'
  | 'release_denied'
  | 'release_policy_invalid'
  | 'release_policy_not_satisfied'
  | 'release_policy_weak'
  | 'release_response_invalid'
  | 'report_malformed'
  | 'report_signature_invalid'
  | 'report_version_unsupported'
  | 'resource_not_allowed'
  | 'role_assignment_not_found'
  | 'runtime_data_mismatch'
  | 'runtime_key_refused'
  | 'runtime_key_unsafe'
  | 'sealed_data_invalid'
  | 'tee_output_malformed'
  | 'token_invalid'
  | 'tsm_generation_mismatch'
  | 'tsm_provider_unsupported'
  | 'requests_throttled'
  | 'store_schema_newer'
  | 'store_unavailable'
  | 'store_url_invalid'
  | 'migrate_target_not_empty'
  | 'unauthorized'
  | 'upstream_failed'
  | 'upstream_rejected'
  | 'upstream_throttled'
  | 'upstream_timeout'
  | 'uvm_endorsement_chain_invalid'
  | 'uvm_endorsement_malformed'
  | 'uvm_endorsement_measurement_mismatch'
  | 'uvm_endorsement_signature_invalid'
  | 'uvm_endorsement_svn_too_low'
  | 'uvm_endorsement_unsupported'
  | 'uvm_endorsement_untrusted_issuer'
  | 'vek_chip_mismatch'
  | 'vek_kind_mismatch'
  | 'vek_signature_invalid'
  | 'vek_tcb_mismatch'
  | 'vek_unavailable'
  | 'verifier_store_unavailable'
  | 'virtual_state_invalid'
  | 'vmpl_below_floor'
  | 'kbs_admin_unauthorized'
  | 'kbs_attestation_refused'
  | 'kbs_endpoint_not_found'
  | 'kbs_policy_not_found'
  | 'kbs_resource_unavailable'
  | 'kbs_resource_conflict'
  | 'kbs_resource_name_unmappable'
  | 'kbs_resource_not_found'
  | 'kbs_resource_path_invalid'
  | 'kbs_session_missing'
  | 'kbs_tee_pubkey_unsupported'
  | 'kbs_token_missing'
  | 'kbs_token_invalid'
  | 'kbs_version_unsupported'
  | 'kbs_not_configured'
  | ReportRefusalCode;

/**
 * The base of every skr failure. Each concrete subclass has one code, its static `code` (the
 * compiler checks it is an SkrErrorCode; test/errors.test.ts that no two classes share one and
 * every code has a class), and every instance carries it: callers tell failures apart with
 * `instanceof`, never by comparing code or message strings.
 */
export abstract class SkrError extends Error {
  /** The one code of a concrete subclass; abstract bases (catch-alls for a family) have none. */
  declare static readonly code: SkrErrorCode;
  readonly code: SkrErrorCode;
  readonly status: number;
  readonly details?: ErrorDetails;

  protected constructor(status: number, message: string, details?: ErrorDetails) {
    super(message);
    this.name = new.target.name;
    this.code = new.target.code;
    this.status = status;
    this.details = details;
  }

  toJSON(): { code: SkrErrorCode; message: string; details?: ErrorDetails } {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

// ---- Shared by every role ----------------------------------------------------------------

/** A failure that is not an SkrError (a bug or an unexpected library error): answered without its details. */
export class InternalError extends SkrError {
  static override readonly code = 'internal_error';

  constructor(message = 'internal error') {
    super(500, message);
  }
}

/** Bad caller input that is not evidence: flags, options, files. */
export class InvalidArgument extends SkrError {
  static override readonly code = 'invalid_argument';

  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

/**
 * A state directory another user owns or could write: whoever planted or can change it could
 * swap the KMS's keys, the endpoints an operator reads, or the secrets a client sends.
 */
export class StateDirUnsafe extends SkrError {
  static override readonly code = 'state_dir_unsafe';

  constructor(path: string, reason: string) {
    super(400, `state directory ${path} ${reason}; use a directory of your own`, { path });
  }
}

/** Another process kept a shared state directory's start-up lock past the wait (src/lib/state-dir-lock.ts). */
export class StateDirBusy extends SkrError {
  static override readonly code = 'state_dir_busy';

  constructor(path: string, holder: string) {
    super(409, `state directory ${path} is being set up by another process (${holder}); try again, or remove ${path}/.start.lock if no skr runs there`, { path });
  }
}

// ---- HTTP edge of every service (src/lib/http-errors.ts, each service's request checks) ---

/** A request body over the service's limit (every HTTP surface; src/lib/http-errors.ts). */
export class BodyTooLarge extends SkrError {
  static override readonly code = 'body_too_large';

  constructor(limit: string | number) {
    super(413, `the request body exceeds ${typeof limit === 'number' ? `${limit} bytes` : limit}`, { limit });
  }
}

/** A request whose Content-Encoding or charset the server cannot decode, where a surface keeps 415. */
export class UnsupportedMediaType extends SkrError {
  static override readonly code = 'unsupported_media_type';

  constructor() {
    super(415, 'the request body encoding or charset is not supported');
  }
}

/** A request whose shape is wrong: missing fields, wrong types, bad base64url, not JSON. */
export class InvalidRequest extends SkrError {
  static override readonly code = 'invalid_request';

  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

/** A request whose headers and body did not all arrive within the server's request timeout (a slow or stalled client). */
export class RequestTimeout extends SkrError {
  static override readonly code = 'request_timeout';

  constructor() {
    super(408, 'the request did not arrive in time');
  }
}

/** A request without the credential its route needs: an admin token, a bearer token, X-IDENTITY-HEADER. */
export class Unauthorized extends SkrError {
  static override readonly code = 'unauthorized';

  constructor(message = 'a valid bearer token is required') {
    super(401, message);
  }
}

// ---- Upstream services (the clients in src/maa, src/sidecar, src/deploy/key) -------------

/** An upstream service (verifier, KMS, identity) gave no usable answer; catch this for either kind. */
export abstract class UpstreamUnavailable extends SkrError {}

/** The upstream failed or answered unusably. */
export class UpstreamFailed extends UpstreamUnavailable {
  static override readonly code = 'upstream_failed';

  constructor(service: string, message: string, details?: ErrorDetails) {
    super(502, `${service}: ${message}`, { service, ...details });
  }
}

/** The upstream did not answer in time. */
export class UpstreamTimedOut extends UpstreamUnavailable {
  static override readonly code = 'upstream_timeout';

  constructor(service: string, message: string, details?: ErrorDetails) {
    super(504, `${service}: ${message}`, { service, ...details });
  }
}

/**
 * The upstream refused the request as invalid (a 4xx that retrying cannot change): answered with
 * the upstream's own 4xx, so a caller tells "forbidden" from "not found" as it would calling the
 * upstream itself (anything else is a 502); the status and code are also in `details`, the body
 * is not echoed.
 */
export class UpstreamRejected extends SkrError {
  static override readonly code = 'upstream_rejected';

  constructor(service: string, upstreamStatus: number, upstreamCode: string | undefined, message: string, details?: ErrorDetails) {
    super(upstreamStatus >= 400 && upstreamStatus < 500 ? upstreamStatus : 502, `${service} refused the request: ${message}`, {
      service,
      upstreamStatus,
      upstreamCode,
      ...details,
    });
  }
}

/**
 * The upstream kept answering 429 through the retries: it is overloaded, not broken, so this is
 * a 503 the caller may retry later (`details.retryAfter` when the upstream said when), not a 502.
 */
export class UpstreamThrottled extends SkrError {
  static override readonly code = 'upstream_throttled';

  constructor(service: string, details?: ErrorDetails) {
    super(503, `${service}: throttled (HTTP 429) through every retry`, { service, upstreamStatus: 429, ...details });
  }
}

// ---- Attester: evidence format (src/snp/abi) ---------------------------------------------

/** The bytes are not a well-formed ATTESTATION_REPORT (size, version, reserved bytes, enums). */
export class ReportMalformed extends SkrError {
  static override readonly code = 'report_malformed';

  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

export class ReportVersionUnsupported extends SkrError {
  static override readonly code = 'report_version_unsupported';

  constructor(version: number) {
    super(400, `report version ${version} is not supported (2, 3, 5)`, { version });
  }
}

/** A certificate table, HCL wrapper or certificate that cannot be decoded. */
export class EvidenceMalformed extends SkrError {
  static override readonly code = 'evidence_malformed';

  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

export class CertificateMalformed extends SkrError {
  static override readonly code = 'certificate_malformed';

  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

// ---- Attester: authenticity (src/snp/verify.ts) ------------------------------------------

export class ProductUnknown extends SkrError {
  static override readonly code = 'product_unknown';

  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

export class ProductMismatch extends SkrError {
  static override readonly code = 'product_mismatch';

  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

/** The ARK offered (or needed) is not one of the pinned / configured trusted roots. */
export class ArkNotTrusted extends SkrError {
  static override readonly code = 'ark_not_trusted';

  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

/** The ASK or ASVK is not signed by the trusted ARK of the product. */
export class IntermediateSignatureInvalid extends SkrError {
  static override readonly code = 'ask_signature_invalid';

  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

/** The VCEK / VLEK is not signed by the product's ASK / ASVK. */
export class VekSignatureInvalid extends SkrError {
  static override readonly code = 'vek_signature_invalid';

  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

/** A certificate of the chain is used outside its validity period; catch this for any of them. */
export abstract class CertificateOutsideValidity extends SkrError {}

export class VekExpired extends CertificateOutsideValidity {
  static override readonly code = 'vek_expired';

  constructor(notAfter: string, at: string) {
    super(400, `VEK certificate expired at ${notAfter} (checked at ${at})`, { certificate: 'VEK', notAfter, at });
  }
}

/** The ASK, ASVK or ARK expired. */
export class CertificateExpired extends CertificateOutsideValidity {
  static override readonly code = 'cert_expired';

  constructor(which: string, notAfter: string, at: string) {
    super(400, `${which} certificate expired at ${notAfter} (checked at ${at})`, { certificate: which, notAfter, at });
  }
}

export class VekNotYetValid extends CertificateOutsideValidity {
  static override readonly code = 'vek_not_yet_valid';

  constructor(notBefore: string, at: string) {
    super(400, `VEK certificate is valid only from ${notBefore} (checked at ${at})`, { certificate: 'VEK', notBefore, at });
  }
}

/** The ASK, ASVK or ARK is not valid yet. */
export class CertificateNotYetValid extends CertificateOutsideValidity {
  static override readonly code = 'cert_not_yet_valid';

  constructor(which: string, notBefore: string, at: string) {
    super(400, `${which} certificate is valid only from ${notBefore} (checked at ${at})`, { certificate: which, notBefore, at });
  }
}

/** The report's SIGNING_KEY says VCEK but a VLEK was supplied, or the reverse. */
export class VekKindMismatch extends SkrError {
  static override readonly code = 'vek_kind_mismatch';

  constructor(expected: string, actual: string) {
    super(400, `report is signed by a ${expected} but the certificate is a ${actual}`, { expected, actual });
  }
}

export class VekTcbMismatch extends SkrError {
  static override readonly code = 'vek_tcb_mismatch';

  constructor(component: string, expected: number, actual: number) {
    super(400, `VEK ${component} SPL ${actual} differs from REPORTED_TCB ${component} ${expected}`, {
      field: `reported_tcb.${component}`,
      expected,
      actual,
    });
  }
}

export class VekChipMismatch extends SkrError {
  static override readonly code = 'vek_chip_mismatch';

  constructor(expected: string, actual: string) {
    super(400, 'VCEK hwID does not match the report CHIP_ID', { field: 'chip_id', expected, actual });
  }
}

export class ReportSignatureInvalid extends SkrError {
  static override readonly code = 'report_signature_invalid';

  constructor() {
    super(400, 'report signature does not verify with the VEK public key');
  }
}

// ---- Attester: acceptability (src/snp/validate.ts) ----------------------------------------

/**
 * A genuine report that the appraisal options refuse; catch this for any reason. Each subclass
 * names one field and bound (its code), so a check raises the refusal it found.
 */
export abstract class ReportNotAcceptable extends SkrError {
  constructor(message: string, expected: unknown, actual: unknown) {
    super(403, message, { expected, actual });
  }
}

/** Every refusal has this constructor, so a table of checks can name the refusal each raises. */
export type ReportRefusal = new (message: string, expected: unknown, actual: unknown) => ReportNotAcceptable;

export class ChipIdMismatch extends ReportNotAcceptable {
  static override readonly code = 'chip_id_mismatch';
}

export class CommittedTcbMismatch extends ReportNotAcceptable {
  static override readonly code = 'committed_tcb_mismatch';
}

export class CurrentMitVectorInsufficient extends ReportNotAcceptable {
  static override readonly code = 'current_mit_vector_insufficient';
}

export class CurrentTcbTooLow extends ReportNotAcceptable {
  static override readonly code = 'current_tcb_too_low';
}

export class FamilyIdMismatch extends ReportNotAcceptable {
  static override readonly code = 'family_id_mismatch';
}

export class FirmwareBuildTooLow extends ReportNotAcceptable {
  static override readonly code = 'firmware_build_too_low';
}

export class FirmwareVersionTooLow extends ReportNotAcceptable {
  static override readonly code = 'firmware_version_too_low';
}

export class GuestSvnTooLow extends ReportNotAcceptable {
  static override readonly code = 'guest_svn_too_low';
}

export class HostDataMismatch extends ReportNotAcceptable {
  static override readonly code = 'host_data_mismatch';
}

/** HOST_DATA is not one of the verifier's registered reference values (src/maa/service/attest.ts). */
export class HostDataNotAllowed extends ReportNotAcceptable {
  static override readonly code = 'host_data_not_allowed';
}

export class ImageIdMismatch extends ReportNotAcceptable {
  static override readonly code = 'image_id_mismatch';
}

export class LaunchMitVectorInsufficient extends ReportNotAcceptable {
  static override readonly code = 'launch_mit_vector_insufficient';
}

export class LaunchTcbTooLow extends ReportNotAcceptable {
  static override readonly code = 'launch_tcb_too_low';
}

export class MeasurementMismatch extends ReportNotAcceptable {
  static override readonly code = 'measurement_mismatch';
}

export class MeasurementNotAllowed extends ReportNotAcceptable {
  static override readonly code = 'measurement_not_allowed';
}

export class PlatformInfoAliasCheckCompleteForbidden extends ReportNotAcceptable {
  static override readonly code = 'platform_info_alias_check_complete_forbidden';
}

export class PlatformInfoAliasCheckCompleteRequired extends ReportNotAcceptable {
  static override readonly code = 'platform_info_alias_check_complete_required';
}

export class PlatformInfoCiphertextHidingEnabledForbidden extends ReportNotAcceptable {
  static override readonly code = 'platform_info_ciphertext_hiding_enabled_forbidden';
}

export class PlatformInfoCiphertextHidingEnabledRequired extends ReportNotAcceptable {
  static override readonly code = 'platform_info_ciphertext_hiding_enabled_required';
}

export class PlatformInfoEccEnabledForbidden extends ReportNotAcceptable {
  static override readonly code = 'platform_info_ecc_enabled_forbidden';
}

export class PlatformInfoEccEnabledRequired extends ReportNotAcceptable {
  static override readonly code = 'platform_info_ecc_enabled_required';
}

export class PlatformInfoIommuWriteSafeForbidden extends ReportNotAcceptable {
  static override readonly code = 'platform_info_iommu_write_safe_forbidden';
}

export class PlatformInfoIommuWriteSafeRequired extends ReportNotAcceptable {
  static override readonly code = 'platform_info_iommu_write_safe_required';
}

export class PlatformInfoRaplDisabledForbidden extends ReportNotAcceptable {
  static override readonly code = 'platform_info_rapl_disabled_forbidden';
}

export class PlatformInfoRaplDisabledRequired extends ReportNotAcceptable {
  static override readonly code = 'platform_info_rapl_disabled_required';
}

export class PlatformInfoSevTioEnabledForbidden extends ReportNotAcceptable {
  static override readonly code = 'platform_info_sev_tio_enabled_forbidden';
}

export class PlatformInfoSevTioEnabledRequired extends ReportNotAcceptable {
  static override readonly code = 'platform_info_sev_tio_enabled_required';
}

export class PlatformInfoSmtEnabledForbidden extends ReportNotAcceptable {
  static override readonly code = 'platform_info_smt_enabled_forbidden';
}

export class PlatformInfoSmtEnabledRequired extends ReportNotAcceptable {
  static override readonly code = 'platform_info_smt_enabled_required';
}

export class PlatformInfoTsmeEnabledForbidden extends ReportNotAcceptable {
  static override readonly code = 'platform_info_tsme_enabled_forbidden';
}

export class PlatformInfoTsmeEnabledRequired extends ReportNotAcceptable {
  static override readonly code = 'platform_info_tsme_enabled_required';
}

export class PolicyAbiTooLow extends ReportNotAcceptable {
  static override readonly code = 'policy_abi_too_low';
}

export class PolicyCiphertextHidingRequired extends ReportNotAcceptable {
  static override readonly code = 'policy_ciphertext_hiding_required';
}

export class PolicyCxlAllowed extends ReportNotAcceptable {
  static override readonly code = 'policy_cxl_allowed';
}

export class PolicyDebugAllowed extends ReportNotAcceptable {
  static override readonly code = 'policy_debug_allowed';
}

export class PolicyMemAes256XtsRequired extends ReportNotAcceptable {
  static override readonly code = 'policy_mem_aes_256_xts_required';
}

export class PolicyMigrateMaAllowed extends ReportNotAcceptable {
  static override readonly code = 'policy_migrate_ma_allowed';
}

export class PolicyPageSwapDisableRequired extends ReportNotAcceptable {
  static override readonly code = 'policy_page_swap_disable_required';
}

export class PolicyRaplDisRequired extends ReportNotAcceptable {
  static override readonly code = 'policy_rapl_dis_required';
}

export class PolicySingleSocketRequired extends ReportNotAcceptable {
  static override readonly code = 'policy_single_socket_required';
}

export class PolicySmtAllowed extends ReportNotAcceptable {
  static override readonly code = 'policy_smt_allowed';
}

/** The report's product is not one the verifier's appraisal policy accepts (src/maa/service/attest.ts). */
export class ProductNotAllowed extends ReportNotAcceptable {
  static override readonly code = 'product_not_allowed';
}

export class ReportDataMismatch extends ReportNotAcceptable {
  static override readonly code = 'report_data_mismatch';
}

export class ReportedTcbTooLow extends ReportNotAcceptable {
  static override readonly code = 'reported_tcb_too_low';
}

export class VmplMismatch extends ReportNotAcceptable {
  static override readonly code = 'vmpl_mismatch';
}

// ---- Attester: certificate sources (src/snp/certs) ---------------------------------------

/** Every configured source failed to produce the VCEK/VLEK; `details.tried` says which and why. */
export class VekUnavailable extends SkrError {
  static override readonly code = 'vek_unavailable';

  constructor(kind: string, tried: { source: string; reason: string }[]) {
    super(
      502,
      tried.length
        ? `no ${kind} certificate could be obtained: ${tried.map((t) => `${t.source}: ${t.reason}`).join('; ')}`
        : `no ${kind} certificate could be obtained: no certificate source is configured`,
      { kind, tried },
    );
  }
}

/** Revocation checking is on and the ARK-signed CRL could not be fetched. */
export class CrlUnavailable extends SkrError {
  static override readonly code = 'crl_unavailable';

  constructor(message: string, details?: ErrorDetails) {
    super(502, message, details);
  }
}

/** The CRL is malformed or not signed by the product's trusted ARK. */
export class CrlInvalid extends SkrError {
  static override readonly code = 'crl_invalid';

  constructor(message: string, details?: ErrorDetails) {
    super(502, message, details);
  }
}

/**
 * The CRL is past its nextUpdate: AMD had promised a newer one by then, so this one no longer
 * says whether the ASK/ASVK is still good. Refused like a missing CRL (fail closed).
 */
export class CrlStale extends SkrError {
  static override readonly code = 'crl_stale';

  constructor(nextUpdate: string, now: string) {
    super(502, `the CRL was due to be replaced at ${nextUpdate} (now ${now}): obtain a current one`, { nextUpdate, now });
  }
}

/** The ARK's CRL lists the ASK/ASVK that issued the VEK. */
export class CertificateRevoked extends SkrError {
  static override readonly code = 'cert_revoked';

  constructor(certificate: string, serial: string) {
    super(400, `${certificate} certificate (serial ${serial}) is revoked by its ARK`, { certificate, serial });
  }
}

// ---- Attester: report sources (src/snp/device) -------------------------------------------

/** No SEV-SNP report source is available where skr looked; `details.looked` lists the places. */
export class NoTeeDevice extends SkrError {
  static override readonly code = 'no_tee_device';

  constructor(message: string, details?: ErrorDetails) {
    super(503, message, details);
  }
}

export class TsmProviderUnsupported extends SkrError {
  static override readonly code = 'tsm_provider_unsupported';

  constructor(provider: string) {
    super(503, `configfs-tsm provider is "${provider}", not sev_guest`, { expected: 'sev_guest', actual: provider });
  }
}

/** Another writer changed the report entry between our writes and our read of outblob. */
export class TsmGenerationMismatch extends SkrError {
  static override readonly code = 'tsm_generation_mismatch';

  constructor(expected: number, actual: number) {
    super(503, `configfs-tsm generation is ${actual}, expected ${expected}: the request raced another writer`, {
      expected,
      actual,
    });
  }
}

export class TsmVmplBelowFloor extends SkrError {
  static override readonly code = 'vmpl_below_floor';

  constructor(vmpl: number, floor: number) {
    super(400, `VMPL ${vmpl} is below this guest's privlevel_floor ${floor}`, { field: 'vmpl', expected: `>= ${floor}`, actual: vmpl });
  }
}

// ---- Attester: sev-guest and sev ioctl devices (src/snp/native, src/snp/device) ----------

/** The native ioctl addon (build/Release/sevguest.node) is not built or cannot be loaded. */
export class NativeAddonUnavailable extends SkrError {
  static override readonly code = 'native_addon_unavailable';

  constructor(path: string, reason: string) {
    super(503, `the SEV-SNP ioctl addon ${path} cannot be loaded (${reason}); build it with npm run build:native`, { path, reason });
  }
}

/** A system call on the device failed without a firmware or host answer; `errno` is its name (EBADF, ENOTCONN, ...). */
export class DeviceIoError extends SkrError {
  static override readonly code = 'device_io_error';

  readonly errno: string;

  constructor(operation: string, path: string, errno: string, message = `${operation} on ${path} failed: ${errno}`) {
    super(502, message, { operation, path, errno });
    this.errno = errno;
  }
}

/**
 * The PSP firmware (fwError, an SEV status code) or the host (vmmError, a GHCB error) refused
 * the guest request; a MSG_REPORT_RSP status is a firmware status too.
 */
export class FirmwareError extends SkrError {
  static override readonly code = 'firmware_error';

  readonly fwError: number;
  readonly vmmError: number;

  constructor(operation: string, fwError: number, vmmError: number, details?: ErrorDetails) {
    super(502, `${operation} refused: firmware error 0x${fwError.toString(16)}, VMM error 0x${vmmError.toString(16)}`, {
      operation,
      fwError,
      vmmError,
      ...details,
    });
    this.fwError = fwError;
    this.vmmError = vmmError;
  }
}

/** The host kept answering BUSY (GHCB throttling) through every retry. */
export class DeviceBusy extends SkrError {
  static override readonly code = 'device_busy';

  constructor(operation: string, attempts: number) {
    super(503, `${operation}: the host answered BUSY ${attempts} times`, { operation, attempts });
  }
}

/** The device (an ioctl, or a configfs-tsm attribute) answered, but not with what the kernel ABI promises (e.g. a report of the wrong size). */
export class DeviceOutputMalformed extends SkrError {
  static override readonly code = 'tee_output_malformed';

  constructor(message: string, details?: ErrorDetails) {
    super(502, message, details);
  }
}

// ---- Attester: virtual device (src/snp/virtual) ------------------------------------------

/** The virtual device's state directory is damaged or tampered with: a certificate that does not match its key or chain, loose key permissions, a bad device.json. */
export class VirtualStateInvalid extends SkrError {
  static override readonly code = 'virtual_state_invalid';

  constructor(message: string, details?: ErrorDetails) {
    super(500, message, details);
  }
}

// ---- Verifier (src/maa/service) ----------------------------------------------------------

/** The evidence does not commit to the data it came with; catch this for either kind. */
export abstract class EvidenceBindingFailed extends SkrError {}

/** REPORT_DATA is not SHA-256 of the runtime data followed by zeros. */
export class RuntimeDataMismatch extends EvidenceBindingFailed {
  static override readonly code = 'runtime_data_mismatch';

  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

/** HOST_DATA is not SHA-256 of the init-time data. */
export class InitTimeDataMismatch extends EvidenceBindingFailed {
  static override readonly code = 'init_time_data_mismatch';

  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

/** Challenge-response freshness failed; catch this for any of the four reasons. */
export abstract class NonceRejected extends SkrError {}

/** The appraisal policy requires a challenge nonce and the runtime data carries none. */
export class NonceRequired extends NonceRejected {
  static override readonly code = 'nonce_required';

  constructor(message: string) {
    super(400, message);
  }
}

/** The nonce was not issued by this verifier, or was forgotten. */
export class NonceUnknown extends NonceRejected {
  static override readonly code = 'nonce_unknown';

  constructor(message: string) {
    super(400, message);
  }
}

export class NonceReplayed extends NonceRejected {
  static override readonly code = 'nonce_replayed';

  constructor(message: string) {
    super(400, message);
  }
}

export class NonceExpired extends NonceRejected {
  static override readonly code = 'nonce_expired';

  constructor(message: string) {
    super(400, message);
  }
}

/**
 * A TEE's runtime key (a JWK in `x-ms-runtime.keys`) that would not protect what is wrapped to
 * it; `details.reason` says why: `kty_unsupported`, `malformed`, `rsa_exponent`,
 * `rsa_modulus_even`, `rsa_modulus_size`, `ec_curve`, `ec_point`. The verifier answers 400.
 */
export class RuntimeKeyUnsafe extends SkrError {
  static override readonly code = 'runtime_key_unsafe';

  constructor(reason: string, message: string, details?: ErrorDetails) {
    super(400, message, { reason, ...details });
  }
}

/**
 * The verifier's shared store (PostgreSQL, `skr verifier --store`) did not answer: nothing that
 * needs it (a challenge, a nonce's spending, the reference values) is decided without it.
 * `details.reason` is the driver's error code, never the connection string.
 */
export class VerifierStoreUnavailable extends SkrError {
  static override readonly code = 'verifier_store_unavailable';

  constructor(details?: ErrorDetails) {
    super(503, "the verifier's store cannot be reached; try again later", details);
  }
}

// ---- Verifier: UVM endorsements (src/maa/uvm, src/lib/cbor) ------------------------------

/** CBOR that is not well formed, or uses what COSE documents never need (indefinite lengths, deep nesting). */
export class CborMalformed extends SkrError {
  static override readonly code = 'cbor_malformed';

  constructor(message: string) {
    super(400, message);
  }
}

/**
 * A UVM endorsement (COSE_Sign1 reference info) the verifier does not accept; catch this for
 * any reason. The evidence is still appraised: only `azure-compliant-uvm` and the endorsement
 * claims are withheld.
 */
export abstract class UvmEndorsementRefused extends SkrError {}

/** Every refusal has this constructor, so a check can name the refusal it raises. */
export type UvmEndorsementRefusal = new (message: string, details?: ErrorDetails) => UvmEndorsementRefused;

export class UvmEndorsementMalformed extends UvmEndorsementRefused {
  static override readonly code = 'uvm_endorsement_malformed';

  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

/** A well-formed endorsement in a format or algorithm the verifier does not accept. */
export class UvmEndorsementUnsupported extends UvmEndorsementRefused {
  static override readonly code = 'uvm_endorsement_unsupported';

  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

export class UvmEndorsementUntrustedIssuer extends UvmEndorsementRefused {
  static override readonly code = 'uvm_endorsement_untrusted_issuer';

  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

export class UvmEndorsementChainInvalid extends UvmEndorsementRefused {
  static override readonly code = 'uvm_endorsement_chain_invalid';

  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

export class UvmEndorsementSignatureInvalid extends UvmEndorsementRefused {
  static override readonly code = 'uvm_endorsement_signature_invalid';

  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

export class UvmEndorsementMeasurementMismatch extends UvmEndorsementRefused {
  static override readonly code = 'uvm_endorsement_measurement_mismatch';

  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

export class UvmEndorsementSvnTooLow extends UvmEndorsementRefused {
  static override readonly code = 'uvm_endorsement_svn_too_low';

  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

// ---- OIDC/JWS tokens (src/oidc) ----------------------------------------------------------

/** An attestation token failed verification (signature, issuer, algorithm, lifetime, keys). */
export class TokenInvalid extends SkrError {
  static override readonly code = 'token_invalid';

  constructor(message: string, details?: ErrorDetails) {
    super(401, message, details);
  }
}

// ---- Local managed-identity endpoint (src/identity) --------------------------------------

/** An IMDS request without `Metadata: true` (IMDS refuses these so a proxied or forged request cannot obtain tokens). */
export class MetadataHeaderRequired extends SkrError {
  static override readonly code = 'metadata_header_required';

  constructor() {
    super(400, 'Required metadata header not specified');
  }
}

/** The request names a managed identity (client, object or resource id) that is not configured. */
export class IdentityNotFound extends SkrError {
  static override readonly code = 'identity_not_found';

  constructor(selector: string, value: string) {
    super(400, `Identity not found: no managed identity has ${selector} ${value}`, { selector, value });
  }
}

/**
 * The officer principal was asked for on the IMDS route: its tokens administer the KMS, so they
 * are issued only to a caller that proves the App Service identity header.
 */
export class PrincipalNeedsIdentityHeader extends SkrError {
  static override readonly code = 'identity_header_required';

  constructor() {
    super(403, 'this identity is issued only on the App Service route with X-IDENTITY-HEADER');
  }
}

/** A token was asked for a resource outside the endpoint's allow-list. */
export class ResourceNotAllowed extends SkrError {
  static override readonly code = 'resource_not_allowed';

  constructor(resource: string, allowed: string[]) {
    super(400, `tokens are not issued for resource ${resource}`, { resource, allowed });
  }
}

// ---- Key management service (src/kms) ----------------------------------------------------
// The KMS answers in Key Vault's envelope; src/kms/wire/envelope.ts maps these codes to
// Key Vault's (KeyNotFound, SecretNotFound, BadParameter, Forbidden, Conflict).

export class KeyNotFound extends SkrError {
  static override readonly code = 'key_not_found';

  constructor(name: string, version?: string, deleted = false) {
    super(404, `${deleted ? 'A deleted key' : 'A key'} with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault`, { name, ...(version ? { version } : {}) });
  }
}

/** A secret (or one version of it, or a deleted secret) that is not in the vault (Key Vault's SecretNotFound). */
export class SecretNotFound extends SkrError {
  static override readonly code = 'secret_not_found';

  constructor(name: string, version?: string, deleted = false) {
    super(404, `${deleted ? 'A deleted secret' : 'A secret'} with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault`, { name, ...(version ? { version } : {}) });
  }
}

/** A method and path Key Vault has no operation for (Key Vault's NotFound). */
export class KmsOperationNotFound extends SkrError {
  static override readonly code = 'not_found';

  constructor(message: string) {
    super(404, message);
  }
}

/** A Key Vault request that is well-formed JSON but not an acceptable request (Key Vault's BadParameter). */
export class KmsBadParameter extends SkrError {
  static override readonly code = 'bad_parameter';

  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

/** Deny-by-default RBAC, a disabled or not-yet/no-longer valid key, or an operation the key does not permit. */
export class KmsForbidden extends SkrError {
  static override readonly code = 'forbidden';

  constructor(message: string, details?: ErrorDetails) {
    super(403, message, details);
  }
}

/** A release refused because the token's runtime key would not protect the key (see RuntimeKeyUnsafe for `details.reason`). */
export class KmsRuntimeKeyRefused extends SkrError {
  static override readonly code = 'runtime_key_refused';

  constructor(cause: RuntimeKeyUnsafe) {
    super(403, `the release is refused: ${cause.message}`, cause.details);
  }
}

/** The name is taken: a live key (restore) or a soft-deleted one (create, import, restore). */
export class KmsConflict extends SkrError {
  static override readonly code = 'conflict';

  constructor(message: string, details?: ErrorDetails) {
    super(409, message, details);
  }
}

/** The admin API was asked to remove a role assignment that does not exist. */
export class RoleAssignmentNotFound extends SkrError {
  static override readonly code = 'role_assignment_not_found';

  constructor(id: string) {
    super(404, `no role assignment has the id ${id}`, { id });
  }
}

/** The master key cannot be loaded or used (missing token or key, loose file permissions, wrong PIN). */
export class MasterKeyUnavailable extends SkrError {
  static override readonly code = 'master_key_unavailable';

  constructor(message: string, details?: ErrorDetails) {
    super(503, message, details);
  }
}

/**
 * The key store holds material sealed under another master key than the one this KMS opened
 * (`details.found` names them): starting would leave every key unreadable.
 */
export class MasterKeyMismatch extends SkrError {
  static override readonly code = 'master_key_mismatch';

  constructor(actual: string, found: string[]) {
    super(409, `the key store was sealed under another master key (${found.join(', ')}), not under ${actual}; start with that master key or another state directory`, {
      actual,
      found,
    });
  }
}

/**
 * Secure key release of the master key (`--master-key-release`) was refused or answered
 * unusably; `details.upstreamStatus` and `details.upstreamCode` are the sidecar's.
 */
export class MasterKeyReleaseFailed extends SkrError {
  static override readonly code = 'master_key_release_failed';

  constructor(message: string, details?: ErrorDetails) {
    super(502, `master key release: ${message}`, details);
  }
}

/** The sidecar that releases the master key could not be reached within the wait (`details.waitedMs`). */
export class MasterKeySidecarUnreachable extends SkrError {
  static override readonly code = 'master_key_sidecar_unreachable';

  constructor(sidecar: string, waitedMs: number, lastError: string) {
    super(504, `master key release: the sidecar at ${sidecar} did not answer within ${waitedMs} ms (${lastError})`, {
      sidecar,
      waitedMs,
    });
  }
}

/** The released master key is not an oct key of exactly 256 bits; `details` says what it is (never its value). */
export class MasterKeyUnsuitable extends SkrError {
  static override readonly code = 'master_key_unsuitable';

  constructor(message: string, details?: ErrorDetails) {
    super(502, `master key release: ${message}`, details);
  }
}

/** Sealed key material or a backup did not authenticate under the master key. */
export class SealedDataInvalid extends SkrError {
  static override readonly code = 'sealed_data_invalid';

  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

/**
 * The audit log could not record the request (disk full, database closed, I/O error): the KMS
 * answers nothing it could not audit, so the request fails and no key material leaves.
 */
export class AuditUnavailable extends SkrError {
  static override readonly code = 'audit_unavailable';

  constructor() {
    super(503, 'the audit log cannot be written; the request was not answered');
  }
}

/** Too many refused requests from one caller (source address and principal): `details.retryAfter` (seconds) says when to try again. */
export class RequestsThrottled extends SkrError {
  static override readonly code = 'requests_throttled';

  constructor(retryAfter: number) {
    super(429, 'too many refused requests from this caller', { retryAfter });
  }
}

// ---- KMS: store (src/kms/store, src/kms/audit) --------------------------------------------

/**
 * The key store (PostgreSQL, or SQLite) cannot be reached or failed mid-request: the request is
 * refused and nothing was answered from it. The database's own message stays in the operator's
 * log (never a connection password); the client learns only that the store is down.
 */
export class StoreUnavailable extends SkrError {
  static override readonly code = 'store_unavailable';

  constructor() {
    super(503, 'the key store cannot be reached; the request was not answered');
  }
}

/** The PostgreSQL store's schema is newer than this skr (a replica upgraded first): it is refused, not guessed at. */
export class StoreSchemaNewer extends SkrError {
  static override readonly code = 'store_schema_newer';

  constructor(component: string, found: number, known: number) {
    super(409, `the ${component} schema of the store is at version ${found}, newer than this skr (${known}); run the newer skr`, { component, found, known });
  }
}

/** A conditional rotation (the sweep's) found that another writer added a version first: nothing was added. */
export class KeyRotatedMeanwhile extends SkrError {
  static override readonly code = 'key_rotated_meanwhile';

  constructor(name: string) {
    super(409, `Key ${name} was rotated meanwhile`, { name });
  }
}

/** A `--store` / SKR_STORE value that is neither `sqlite:PATH` nor a postgres:// URL; `details.reason` says why (the URL itself is never echoed). */
export class StoreUrlInvalid extends SkrError {
  static override readonly code = 'store_url_invalid';

  constructor(reason: string) {
    super(400, `--store: ${reason}`, { reason });
  }
}

/** `skr kms migrate` found keys or audit entries in the target store already: it copies into an empty store only, and copied nothing. */
export class MigrateTargetNotEmpty extends SkrError {
  static override readonly code = 'migrate_target_not_empty';

  constructor(keys: number, auditEntries: number) {
    super(409, 'the target store already holds keys or audit entries; migrate copies into an empty store only', { keys, auditEntries });
  }
}

// ---- KMS: release policies (src/kms/policy) ----------------------------------------------

/** A release policy that does not follow the grammar; `details.path` points at the offending node (`$.anyOf[0].allOf[2]`). */
export class ReleasePolicyInvalid extends SkrError {
  static override readonly code = 'release_policy_invalid';

  /** The offending node, e.g. `$.anyOf[0].allOf[2]`. */
  readonly path: string;
  /** What is wrong there, without the path. */
  readonly reason: string;

  constructor(path: string, reason: string) {
    super(400, `release policy ${path}: ${reason}`, { path, reason });
    this.path = path;
    this.reason = reason;
  }
}

/**
 * The token does not satisfy the key's release policy. `details.reason` is
 * `authority_not_in_policy` or `claims_not_satisfied`; `details.explanation` lists each
 * authority branch tried and the claims that failed (claims only, never key material).
 */
export class ReleasePolicyNotSatisfied extends SkrError {
  static override readonly code = 'release_policy_not_satisfied';

  constructor(summary: string, details: ErrorDetails & { reason: string }) {
    super(403, summary, details);
  }
}

// ---- Key wrapping (src/keywrap) ----------------------------------------------------------

/** The material could not be wrapped: an unusable wrapping key, an unknown enc, or unencodable key material. */
export class KeyWrapError extends SkrError {
  static override readonly code = 'key_wrap_failed';

  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

/**
 * A released key could not be opened; `details.reason` says where: `key_hsm_malformed`,
 * `ciphertext_length`, `rsa_oaep` (wrong key or enc, or a tampered KEK), `aes_kwp` (tampered
 * material), `key_invalid` or `material_invalid`.
 */
export class KeyUnwrapError extends SkrError {
  static override readonly code = 'key_unwrap_failed';

  constructor(reason: string, message: string, details?: ErrorDetails) {
    super(502, message, { reason, ...details });
  }
}

// ---- Sidecar (src/sidecar) ---------------------------------------------------------------

/** A caller named an endpoint that is not on the sidecar's allow-list. */
export class EndpointNotAllowed extends SkrError {
  static override readonly code = 'endpoint_not_allowed';

  constructor(field: string) {
    super(403, `${field} is not on the sidecar's allow-list`, { field });
  }
}

/** A sibling asked for a KBS resource but the sidecar has no KBS configured (`--kbs-url`/`SKR_KBS_URL`). */
export class KbsNotConfigured extends SkrError {
  static override readonly code = 'kbs_not_configured';

  constructor() {
    super(404, 'no KBS is configured for this sidecar (--kbs-url or SKR_KBS_URL)');
  }
}

/** The key service refused the release; its explanation (claims, never key material) is passed through. */
export class ReleaseDenied extends SkrError {
  static override readonly code = 'release_denied';

  constructor(message: string, details?: ErrorDetails) {
    super(403, message, details);
  }
}

/** The key service's answer does not verify: signature, certificate chain or host name. */
export class ReleaseResponseInvalid extends SkrError {
  static override readonly code = 'release_response_invalid';

  constructor(message: string) {
    super(502, message);
  }
}

// ---- Deployment tooling (src/deploy) -----------------------------------------------------

/** A release policy failed `skr policy lint` and the caller did not accept it explicitly; `details.findings` says why. */
export class ReleasePolicyWeak extends SkrError {
  static override readonly code = 'release_policy_weak';

  constructor(findings: unknown[]) {
    super(400, 'the release policy is weak (see details.findings); fix it or pass --allow-weak-policy', { findings });
  }
}

// ---- Key broker (src/kbs) ------------------------------------------------------------------
// The KBS answers in trustee's ErrorInformation body; src/kbs/error-body.ts maps these codes to
// its type URIs and says where the status differs from trustee's.

/** The client speaks another KBS protocol version: only an exact match is accepted. */
export class KbsVersionUnsupported extends SkrError {
  static override readonly code = 'kbs_version_unsupported';

  constructor(expected: string, actual: unknown) {
    super(401, `KBS Client Protocol Version Mismatch: expect =${expected} while the request is ${String(actual).slice(0, 32)}`, { expected });
  }
}

/** /attest without a live session from /auth: no cookie, an unknown or expired one, or one already spent. */
export class KbsSessionMissing extends SkrError {
  static override readonly code = 'kbs_session_missing';

  constructor(reason: 'no_cookie' | 'unknown_or_expired' | 'already_attested' | 'nonce_mismatch') {
    super(401, `no session to attest in (${reason}); start again at /kbs/v0/auth`, { reason });
  }
}

/** The evidence or its binding did not pass the verifier; `details.cause` is the verifier's code. */
export class KbsAttestationRefused extends SkrError {
  static override readonly code = 'kbs_attestation_refused';

  constructor(cause: string, message: string) {
    super(401, `Attestation error: ${message}`, { cause });
  }
}

/** The tee-pubkey is not one a response can be wrapped to (see src/kbs/tee-pubkey.ts). */
export class KbsTeePubkeyUnsupported extends SkrError {
  static override readonly code = 'kbs_tee_pubkey_unsupported';

  constructor(reason: string) {
    super(400, `tee-pubkey: ${reason}`, { reason });
  }
}

/** A resource request with neither a live attested session nor a bearer token. */
export class KbsTokenMissing extends SkrError {
  static override readonly code = 'kbs_token_missing';

  constructor() {
    super(401, 'no attestation token: attest first, or send Authorization: Bearer');
  }
}

/** The attestation token is not one this KBS issued and still honours. */
export class KbsTokenInvalid extends SkrError {
  static override readonly code = 'kbs_token_invalid';

  constructor(reason: string) {
    super(401, `attestation token refused: ${reason}`, { reason });
  }
}

/** Not three segments of `[A-Za-z0-9_-][A-Za-z0-9_.-]*` under /kbs/v0/resource. */
export class KbsResourcePathInvalid extends SkrError {
  static override readonly code = 'kbs_resource_path_invalid';

  constructor() {
    super(404, 'a resource path is repository/type/tag, each [A-Za-z0-9_-][A-Za-z0-9_.-]*');
  }
}

/** The resource path encodes to a secret name longer than Key Vault allows. */
export class KbsResourceNameUnmappable extends SkrError {
  static override readonly code = 'kbs_resource_name_unmappable';

  constructor(length: number) {
    super(400, `the resource path encodes to a ${length}-character secret name; Key Vault allows 127`, { length });
  }
}

/** The policy allows the resource but the backend holds none under its path. */
export class KbsResourceNotFound extends SkrError {
  static override readonly code = 'kbs_resource_not_found';

  constructor(path: string) {
    super(404, `no resource ${path}`, { path });
  }
}

/**
 * The policy allows the resource but its secret is disabled, expired or not yet valid at the
 * vault: Key Vault leaves `exp` and `nbf` to the application, and the KBS is that application.
 */
export class KbsResourceUnavailable extends SkrError {
  static override readonly code = 'kbs_resource_unavailable';

  constructor(path: string, reason: 'disabled' | 'expired' | 'not_yet_valid') {
    super(403, `resource ${path} is ${reason.replaceAll('_', ' ')} at the vault`, { path, reason });
  }
}

/** The vault holds the resource's secret soft-deleted: its name is taken until the vault's retention purges it (or an operator recovers or purges it). */
export class KbsResourceConflict extends SkrError {
  static override readonly code = 'kbs_resource_conflict';

  constructor(path: string) {
    super(409, `resource ${path} was deleted and the vault still holds its secret soft-deleted; recover or purge the secret first`, { path });
  }
}

/** An admin request without a valid admin token. */
export class KbsAdminUnauthorized extends SkrError {
  static override readonly code = 'kbs_admin_unauthorized';

  constructor(reason: string) {
    super(401, `admin token refused: ${reason}`, { reason });
  }
}

/** No KBS route or plugin at that path (trustee's PluginNotFound). */
export class KbsEndpointNotFound extends SkrError {
  static override readonly code = 'kbs_endpoint_not_found';

  constructor() {
    super(404, 'no such endpoint');
  }
}

/** An admin asked to detach a resource policy where none is attached. */
export class KbsPolicyNotFound extends SkrError {
  static override readonly code = 'kbs_policy_not_found';

  constructor(prefix: string) {
    super(404, `no resource policy is attached at ${prefix}`, { prefix });
  }
}
