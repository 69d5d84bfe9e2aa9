/**
 * Every failure skr reports is an SkrError: a stable lower_snake_case `code` callers match on,
 * the HTTP `status` an API layer answers with, a message fit for logs (never secrets or key
 * material), and optional structured `details` (field, expected, actual).
 */
export type ErrorDetails = Record<string, unknown>;

/** Why a genuine report is not acceptable: one code per field and bound of the appraisal options (src/snp/validate.ts). */
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
  | 'invalid_request'
  | 'key_not_found'
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
  | 'not_implemented'
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
  | 'virtual_state_invalid'
  | 'vmpl_below_floor'
  | 'kbs_admin_unauthorized'
  | 'kbs_attestation_refused'
  | 'kbs_endpoint_not_found'
  | 'kbs_policy_not_found'
  | 'kbs_resource_name_unmappable'
  | 'kbs_resource_not_found'
  | 'kbs_resource_path_invalid'
  | 'kbs_session_missing'
  | 'kbs_tee_pubkey_unsupported'
  | 'kbs_token_missing'
  | 'kbs_token_invalid'
  | 'kbs_version_unsupported'
  | ReportRefusalCode;

export abstract class SkrError extends Error {
  readonly code: SkrErrorCode;
  readonly status: number;
  readonly details?: ErrorDetails;

  constructor(code: SkrErrorCode, status: number, message: string, details?: ErrorDetails) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.details = details;
  }

  toJSON(): { code: SkrErrorCode; message: string; details?: ErrorDetails } {
    return this.details
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message };
  }
}

/** A failure that is not an SkrError (a bug or an unexpected library error): answered without its details. */
export class InternalError extends SkrError {
  constructor(message = 'internal error') {
    super('internal_error', 500, message);
  }
}

/** Bad caller input that is not evidence: flags, options, files. */
export class InvalidArgument extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('invalid_argument', 400, message, details);
  }
}

/**
 * A state directory another user owns or could write: whoever planted or can change it could
 * swap the KMS's keys, the endpoints an operator reads, or the secrets a client sends.
 */
export class StateDirUnsafe extends SkrError {
  constructor(path: string, reason: string) {
    super('state_dir_unsafe', 400, `state directory ${path} ${reason}; use a directory of your own`, { path });
  }
}

/** A request body over the service's limit (every HTTP surface; src/lib/http-errors.ts). */
export class BodyTooLarge extends SkrError {
  constructor(limit: string | number) {
    super('body_too_large', 413, `the request body exceeds ${typeof limit === 'number' ? `${limit} bytes` : limit}`, { limit });
  }
}

/** A request whose Content-Encoding or charset the server cannot decode, where a surface keeps 415. */
export class UnsupportedMediaType extends SkrError {
  constructor() {
    super('unsupported_media_type', 415, 'the request body encoding or charset is not supported');
  }
}

// ---- TEE runtime keys (src/lib/runtime-key.ts) ------------------------------------------

/**
 * A TEE's runtime key (a JWK in `x-ms-runtime.keys`) that would not protect what is wrapped to
 * it; `details.reason` says why: `kty_unsupported`, `malformed`, `rsa_exponent`,
 * `rsa_modulus_even`, `rsa_modulus_size`, `ec_curve`, `ec_point`. The verifier answers 400.
 */
export class RuntimeKeyUnsafe extends SkrError {
  constructor(reason: string, message: string, details?: ErrorDetails) {
    super('runtime_key_unsafe', 400, message, { reason, ...details });
  }
}

// ---- Evidence format (src/snp/abi) -------------------------------------------------------

/** The bytes are not a well-formed ATTESTATION_REPORT (size, version, reserved bytes, enums). */
export class ReportMalformed extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('report_malformed', 400, message, details);
  }
}

export class ReportVersionUnsupported extends SkrError {
  constructor(version: number) {
    super('report_version_unsupported', 400, `report version ${version} is not supported (2, 3, 5)`, { version });
  }
}

/** A certificate table, HCL wrapper or certificate that cannot be decoded. */
export class EvidenceMalformed extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('evidence_malformed', 400, message, details);
  }
}

export class CertificateMalformed extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('certificate_malformed', 400, message, details);
  }
}

// ---- Authenticity (src/snp/verify.ts) ----------------------------------------------------

export class ProductUnknown extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('product_unknown', 400, message, details);
  }
}

export class ProductMismatch extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('product_mismatch', 400, message, details);
  }
}

/** The ARK offered (or needed) is not one of the pinned / configured trusted roots. */
export class ArkNotTrusted extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('ark_not_trusted', 400, message, details);
  }
}

/** The ASK or ASVK is not signed by the trusted ARK of the product. */
export class IntermediateSignatureInvalid extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('ask_signature_invalid', 400, message, details);
  }
}

/** The VCEK / VLEK is not signed by the product's ASK / ASVK. */
export class VekSignatureInvalid extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('vek_signature_invalid', 400, message, details);
  }
}

/** A certificate of the chain is used outside its validity period; catch this for any of them. */
export abstract class CertificateOutsideValidity extends SkrError {}

export class VekExpired extends CertificateOutsideValidity {
  constructor(notAfter: string, at: string) {
    super('vek_expired', 400, `VEK certificate expired at ${notAfter} (checked at ${at})`, { certificate: 'VEK', notAfter, at });
  }
}

/** The ASK, ASVK or ARK expired. */
export class CertificateExpired extends CertificateOutsideValidity {
  constructor(which: string, notAfter: string, at: string) {
    super('cert_expired', 400, `${which} certificate expired at ${notAfter} (checked at ${at})`, { certificate: which, notAfter, at });
  }
}

export class VekNotYetValid extends CertificateOutsideValidity {
  constructor(notBefore: string, at: string) {
    super('vek_not_yet_valid', 400, `VEK certificate is valid only from ${notBefore} (checked at ${at})`, { certificate: 'VEK', notBefore, at });
  }
}

/** The ASK, ASVK or ARK is not valid yet. */
export class CertificateNotYetValid extends CertificateOutsideValidity {
  constructor(which: string, notBefore: string, at: string) {
    super('cert_not_yet_valid', 400, `${which} certificate is valid only from ${notBefore} (checked at ${at})`, { certificate: which, notBefore, at });
  }
}

/** The report's SIGNING_KEY says VCEK but a VLEK was supplied, or the reverse. */
export class VekKindMismatch extends SkrError {
  constructor(expected: string, actual: string) {
    super('vek_kind_mismatch', 400, `report is signed by a ${expected} but the certificate is a ${actual}`, { expected, actual });
  }
}

export class VekTcbMismatch extends SkrError {
  constructor(component: string, expected: number, actual: number) {
    super('vek_tcb_mismatch', 400, `VEK ${component} SPL ${actual} differs from REPORTED_TCB ${component} ${expected}`, {
      field: `reported_tcb.${component}`,
      expected,
      actual,
    });
  }
}

export class VekChipMismatch extends SkrError {
  constructor(expected: string, actual: string) {
    super('vek_chip_mismatch', 400, 'VCEK hwID does not match the report CHIP_ID', { field: 'chip_id', expected, actual });
  }
}

export class ReportSignatureInvalid extends SkrError {
  constructor() {
    super('report_signature_invalid', 400, 'report signature does not verify with the VEK public key');
  }
}

// ---- Acceptability (src/snp/validate.ts) ------------------------------------------------

/** A genuine report that the appraisal options refuse; `code` names the field. */
export class ReportNotAcceptable extends SkrError {
  constructor(code: ReportRefusalCode, message: string, expected: unknown, actual: unknown) {
    super(code, 403, message, { expected, actual });
  }
}

// ---- Certificate sources (src/snp/certs) -------------------------------------------------

/** Every configured source failed to produce the VCEK/VLEK; `details.tried` says which and why. */
export class VekUnavailable extends SkrError {
  constructor(kind: string, tried: { source: string; reason: string }[]) {
    super(
      'vek_unavailable',
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
  constructor(message: string, details?: ErrorDetails) {
    super('crl_unavailable', 502, message, details);
  }
}

/** The CRL is malformed or not signed by the product's trusted ARK. */
export class CrlInvalid extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('crl_invalid', 502, message, details);
  }
}

/**
 * The CRL is past its nextUpdate: AMD had promised a newer one by then, so this one no longer
 * says whether the ASK/ASVK is still good. Refused like a missing CRL (fail closed).
 */
export class CrlStale extends SkrError {
  constructor(nextUpdate: string, now: string) {
    super('crl_stale', 502, `the CRL was due to be replaced at ${nextUpdate} (now ${now}): obtain a current one`, { nextUpdate, now });
  }
}

/** The ARK's CRL lists the ASK/ASVK that issued the VEK. */
export class CertificateRevoked extends SkrError {
  constructor(certificate: string, serial: string) {
    super('cert_revoked', 400, `${certificate} certificate (serial ${serial}) is revoked by its ARK`, { certificate, serial });
  }
}

// ---- configfs-tsm device (src/snp/device/tsm.ts) -----------------------------------------

export class TsmProviderUnsupported extends SkrError {
  constructor(provider: string) {
    super('tsm_provider_unsupported', 503, `configfs-tsm provider is "${provider}", not sev_guest`, { expected: 'sev_guest', actual: provider });
  }
}

/** Another writer changed the report entry between our writes and our read of outblob. */
export class TsmGenerationMismatch extends SkrError {
  constructor(expected: number, actual: number) {
    super('tsm_generation_mismatch', 503, `configfs-tsm generation is ${actual}, expected ${expected}: the request raced another writer`, {
      expected,
      actual,
    });
  }
}

export class TsmVmplBelowFloor extends SkrError {
  constructor(vmpl: number, floor: number) {
    super('vmpl_below_floor', 400, `VMPL ${vmpl} is below this guest's privlevel_floor ${floor}`, { field: 'vmpl', expected: `>= ${floor}`, actual: vmpl });
  }
}

// ---- Report sources (src/snp/device) -----------------------------------------------------

/** No SEV-SNP report source is available where skr looked; `details.looked` lists the places. */
export class NoTeeDevice extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('no_tee_device', 503, message, details);
  }
}

// ---- Verifier and MAA client (src/maa) ---------------------------------------------------

/** A request whose shape is wrong: missing fields, wrong types, bad base64url, not JSON. */
export class InvalidRequest extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('invalid_request', 400, message, details);
  }
}

/** The evidence does not commit to the data it came with; catch this for either kind. */
export abstract class EvidenceBindingFailed extends SkrError {}

/** REPORT_DATA is not SHA-256 of the runtime data followed by zeros. */
export class RuntimeDataMismatch extends EvidenceBindingFailed {
  constructor(message: string, details?: ErrorDetails) {
    super('runtime_data_mismatch', 400, message, details);
  }
}

/** HOST_DATA is not SHA-256 of the init-time data. */
export class InitTimeDataMismatch extends EvidenceBindingFailed {
  constructor(message: string, details?: ErrorDetails) {
    super('init_time_data_mismatch', 400, message, details);
  }
}

/** Challenge-response freshness failed; catch this for any of the four reasons. */
export abstract class NonceRejected extends SkrError {}

/** The appraisal policy requires a challenge nonce and the runtime data carries none. */
export class NonceRequired extends NonceRejected {
  constructor(message: string) {
    super('nonce_required', 400, message);
  }
}

/** The nonce was not issued by this verifier, or was forgotten. */
export class NonceUnknown extends NonceRejected {
  constructor(message: string) {
    super('nonce_unknown', 400, message);
  }
}

export class NonceReplayed extends NonceRejected {
  constructor(message: string) {
    super('nonce_replayed', 400, message);
  }
}

export class NonceExpired extends NonceRejected {
  constructor(message: string) {
    super('nonce_expired', 400, message);
  }
}

/** The admin API needs the verifier's admin token. */
export class Unauthorized extends SkrError {
  constructor(message = 'a valid bearer token is required') {
    super('unauthorized', 401, message);
  }
}

/** An attestation token failed verification (signature, issuer, algorithm, lifetime, keys). */
export class TokenInvalid extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('token_invalid', 401, message, details);
  }
}

/** An upstream service (verifier, KMS, identity) gave no usable answer; catch this for either kind. */
export abstract class UpstreamUnavailable extends SkrError {}

/** The upstream failed or answered unusably. */
export class UpstreamFailed extends UpstreamUnavailable {
  constructor(service: string, message: string, details?: ErrorDetails) {
    super('upstream_failed', 502, `${service}: ${message}`, { service, ...details });
  }
}

/** The upstream did not answer in time. */
export class UpstreamTimedOut extends UpstreamUnavailable {
  constructor(service: string, message: string, details?: ErrorDetails) {
    super('upstream_timeout', 504, `${service}: ${message}`, { service, ...details });
  }
}

/** The upstream refused the request as invalid; its code is carried, its body is not echoed. */
export class UpstreamRejected extends SkrError {
  constructor(service: string, status: number, upstreamCode: string | undefined, message: string, details?: ErrorDetails) {
    super('upstream_rejected', status >= 400 && status < 500 ? status : 502, `${service} refused the request: ${message}`, {
      service,
      upstreamStatus: status,
      upstreamCode,
      ...details,
    });
  }
}

/** CBOR that is not well formed, or uses what COSE documents never need (indefinite lengths, deep nesting). */
export class CborMalformed extends SkrError {
  constructor(message: string) {
    super('cbor_malformed', 400, message);
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
  constructor(message: string, details?: ErrorDetails) {
    super('uvm_endorsement_malformed', 400, message, details);
  }
}

/** A well-formed endorsement in a format or algorithm the verifier does not accept. */
export class UvmEndorsementUnsupported extends UvmEndorsementRefused {
  constructor(message: string, details?: ErrorDetails) {
    super('uvm_endorsement_unsupported', 400, message, details);
  }
}

export class UvmEndorsementUntrustedIssuer extends UvmEndorsementRefused {
  constructor(message: string, details?: ErrorDetails) {
    super('uvm_endorsement_untrusted_issuer', 400, message, details);
  }
}

export class UvmEndorsementChainInvalid extends UvmEndorsementRefused {
  constructor(message: string, details?: ErrorDetails) {
    super('uvm_endorsement_chain_invalid', 400, message, details);
  }
}

export class UvmEndorsementSignatureInvalid extends UvmEndorsementRefused {
  constructor(message: string, details?: ErrorDetails) {
    super('uvm_endorsement_signature_invalid', 400, message, details);
  }
}

export class UvmEndorsementMeasurementMismatch extends UvmEndorsementRefused {
  constructor(message: string, details?: ErrorDetails) {
    super('uvm_endorsement_measurement_mismatch', 400, message, details);
  }
}

export class UvmEndorsementSvnTooLow extends UvmEndorsementRefused {
  constructor(message: string, details?: ErrorDetails) {
    super('uvm_endorsement_svn_too_low', 400, message, details);
  }
}

// ---- Virtual device (src/snp/virtual) ----------------------------------------------------

/** The virtual device's state directory is damaged or tampered with: a certificate that does not match its key or chain, loose key permissions, a bad device.json. */
export class VirtualStateInvalid extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('virtual_state_invalid', 500, message, details);
  }
}

// ---- sev-guest and sev ioctl devices (src/snp/native, src/snp/device) ----------------------

/** The native ioctl addon (build/Release/sevguest.node) is not built or cannot be loaded. */
export class NativeAddonUnavailable extends SkrError {
  constructor(path: string, reason: string) {
    super('native_addon_unavailable', 503, `the SEV-SNP ioctl addon ${path} cannot be loaded (${reason}); build it with npm run build:native`, { path, reason });
  }
}

/** A system call on the device failed without a firmware or host answer; `errno` is its name (EBADF, ENOTCONN, ...). */
export class DeviceIoError extends SkrError {
  readonly errno: string;

  constructor(operation: string, path: string, errno: string, message = `${operation} on ${path} failed: ${errno}`) {
    super('device_io_error', 502, message, { operation, path, errno });
    this.errno = errno;
  }
}

/**
 * The PSP firmware (fwError, an SEV status code) or the host (vmmError, a GHCB error) refused
 * the guest request; a MSG_REPORT_RSP status is a firmware status too.
 */
export class FirmwareError extends SkrError {
  readonly fwError: number;
  readonly vmmError: number;

  constructor(operation: string, fwError: number, vmmError: number, details?: ErrorDetails) {
    super('firmware_error', 502, `${operation} refused: firmware error 0x${fwError.toString(16)}, VMM error 0x${vmmError.toString(16)}`, {
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
  constructor(operation: string, attempts: number) {
    super('device_busy', 503, `${operation}: the host answered BUSY ${attempts} times`, { operation, attempts });
  }
}

/** The device (an ioctl, or a configfs-tsm attribute) answered, but not with what the kernel ABI promises (e.g. a report of the wrong size). */
export class DeviceOutputMalformed extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('tee_output_malformed', 502, message, details);
  }
}

// ---- Local managed-identity endpoint (src/identity) --------------------------------------

/** An IMDS request without `Metadata: true` (IMDS refuses these so a proxied or forged request cannot obtain tokens). */
export class MetadataHeaderRequired extends SkrError {
  constructor() {
    super('metadata_header_required', 400, 'Required metadata header not specified');
  }
}

/** The request names a managed identity (client, object or resource id) that is not configured. */
export class IdentityNotFound extends SkrError {
  constructor(selector: string, value: string) {
    super('identity_not_found', 400, `Identity not found: no managed identity has ${selector} ${value}`, { selector, value });
  }
}

/**
 * The officer principal was asked for on the IMDS route: its tokens administer the KMS, so they
 * are issued only to a caller that proves the App Service identity header.
 */
export class PrincipalNeedsIdentityHeader extends SkrError {
  constructor() {
    super('identity_header_required', 403, 'this identity is issued only on the App Service route with X-IDENTITY-HEADER');
  }
}

/** A token was asked for a resource outside the endpoint's allow-list. */
export class ResourceNotAllowed extends SkrError {
  constructor(resource: string, allowed: string[]) {
    super('resource_not_allowed', 400, `tokens are not issued for resource ${resource}`, { resource, allowed });
  }
}

// ---- Release policies (src/kms/policy) ---------------------------------------------------

/** A release policy that does not follow the grammar; `details.path` points at the offending node (`$.anyOf[0].allOf[2]`). */
export class ReleasePolicyInvalid extends SkrError {
  /** The offending node, e.g. `$.anyOf[0].allOf[2]`. */
  readonly path: string;
  /** What is wrong there, without the path. */
  readonly reason: string;

  constructor(path: string, reason: string) {
    super('release_policy_invalid', 400, `release policy ${path}: ${reason}`, { path, reason });
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
  constructor(summary: string, details: ErrorDetails & { reason: string }) {
    super('release_policy_not_satisfied', 403, summary, details);
  }
}

// ---- Key wrapping (src/keywrap) ----------------------------------------------------------

/** The material could not be wrapped: an unusable wrapping key, an unknown enc, or unencodable key material. */
export class KeyWrapError extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('key_wrap_failed', 400, message, details);
  }
}

/**
 * A released key could not be opened; `details.reason` says where: `key_hsm_malformed`,
 * `ciphertext_length`, `rsa_oaep` (wrong key or enc, or a tampered KEK), `aes_kwp` (tampered
 * material), `key_invalid` or `material_invalid`.
 */
export class KeyUnwrapError extends SkrError {
  constructor(reason: string, message: string, details?: ErrorDetails) {
    super('key_unwrap_failed', 502, message, { reason, ...details });
  }
}

// ---- Sidecar (src/sidecar) ------------------------------------------------------------------

/** A caller named an endpoint that is not on the sidecar's allow-list. */
export class EndpointNotAllowed extends SkrError {
  constructor(field: string) {
    super('endpoint_not_allowed', 403, `${field} is not on the sidecar's allow-list`, { field });
  }
}

/** The key service refused the release; its explanation (claims, never key material) is passed through. */
export class ReleaseDenied extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('release_denied', 403, message, details);
  }
}

/** The key service's answer does not verify: signature, certificate chain or host name. */
export class ReleaseResponseInvalid extends SkrError {
  constructor(message: string) {
    super('release_response_invalid', 502, message);
  }
}

// ---- Key management service (src/kms) ----------------------------------------------------
// The KMS answers in Key Vault's envelope; src/kms/wire/envelope.ts maps these codes to
// Key Vault's (KeyNotFound, BadParameter, Forbidden, Conflict, NotImplemented).

export class KeyNotFound extends SkrError {
  constructor(name: string, version?: string, deleted = false) {
    super(
      'key_not_found',
      404,
      `${deleted ? 'A deleted key' : 'A key'} with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault`,
      { name, ...(version ? { version } : {}) },
    );
  }
}

/** A method and path Key Vault has no operation for (Key Vault's NotFound). */
export class KmsOperationNotFound extends SkrError {
  constructor(message: string) {
    super('not_found', 404, message);
  }
}

/** A Key Vault request that is well-formed JSON but not an acceptable request (Key Vault's BadParameter). */
export class KmsBadParameter extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('bad_parameter', 400, message, details);
  }
}

/** Deny-by-default RBAC, a disabled or not-yet/no-longer valid key, or an operation the key does not permit. */
export class KmsForbidden extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('forbidden', 403, message, details);
  }
}

/** A release refused because the token's runtime key would not protect the key (see RuntimeKeyUnsafe for `details.reason`). */
export class KmsRuntimeKeyRefused extends SkrError {
  constructor(cause: RuntimeKeyUnsafe) {
    super('runtime_key_refused', 403, `the release is refused: ${cause.message}`, cause.details);
  }
}

/** The name is taken: a live key (restore) or a soft-deleted one (create, import, restore). */
export class KmsConflict extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('conflict', 409, message, details);
  }
}

/** The master key cannot be loaded or used (missing token or key, loose file permissions, wrong PIN). */
export class MasterKeyUnavailable extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('master_key_unavailable', 503, message, details);
  }
}

/**
 * The key store holds material sealed under another master key than the one this KMS opened
 * (`details.found` names them): starting would leave every key unreadable.
 */
export class MasterKeyMismatch extends SkrError {
  constructor(actual: string, found: string[]) {
    super('master_key_mismatch', 409, `the key store was sealed under another master key (${found.join(', ')}), not under ${actual}; start with that master key or another state directory`, {
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
  constructor(message: string, details?: ErrorDetails) {
    super('master_key_release_failed', 502, `master key release: ${message}`, details);
  }
}

/** The sidecar that releases the master key could not be reached within the wait (`details.waitedMs`). */
export class MasterKeySidecarUnreachable extends SkrError {
  constructor(sidecar: string, waitedMs: number, lastError: string) {
    super('master_key_sidecar_unreachable', 504, `master key release: the sidecar at ${sidecar} did not answer within ${waitedMs} ms (${lastError})`, {
      sidecar,
      waitedMs,
    });
  }
}

/** The released master key is not an oct key of exactly 256 bits; `details` says what it is (never its value). */
export class MasterKeyUnsuitable extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('master_key_unsuitable', 502, `master key release: ${message}`, details);
  }
}

/** Sealed key material or a backup did not authenticate under the master key. */
export class SealedDataInvalid extends SkrError {
  constructor(message: string, details?: ErrorDetails) {
    super('sealed_data_invalid', 400, message, details);
  }
}

/**
 * The audit log could not record the request (disk full, database closed, I/O error): the KMS
 * answers nothing it could not audit, so the request fails and no key material leaves.
 */
export class AuditUnavailable extends SkrError {
  constructor() {
    super('audit_unavailable', 503, 'the audit log cannot be written; the request was not answered');
  }
}

/** Too many refused requests from one caller (source address and principal): `details.retryAfter` (seconds) says when to try again. */
export class RequestsThrottled extends SkrError {
  constructor(retryAfter: number) {
    super('requests_throttled', 429, 'too many refused requests from this caller', { retryAfter });
  }
}

// ---- Deployment tooling (src/deploy) ------------------------------------------------------

/** A release policy failed `skr policy lint` and the caller did not accept it explicitly; `details.findings` says why. */
export class ReleasePolicyWeak extends SkrError {
  constructor(findings: unknown[]) {
    super('release_policy_weak', 400, 'the release policy is weak (see details.findings); fix it or pass --allow-weak-policy', { findings });
  }
}

/** The admin API was asked to remove a role assignment that does not exist. */
export class RoleAssignmentNotFound extends SkrError {
  constructor(id: string) {
    super('role_assignment_not_found', 404, `no role assignment has the id ${id}`, { id });
  }
}

// ---- Upstream throttling (src/sidecar/release.ts) ------------------------------------------

/**
 * The upstream kept answering 429 through the retries: it is overloaded, not broken, so this is
 * a 503 the caller may retry later (`details.retryAfter` when the upstream said when), not a 502.
 */
export class UpstreamThrottled extends SkrError {
  constructor(service: string, details?: ErrorDetails) {
    super('upstream_throttled', 503, `${service}: throttled (HTTP 429) through every retry`, { service, upstreamStatus: 429, ...details });
  }
}

// ---- Key broker (src/kbs) ------------------------------------------------------------------
// The KBS answers in trustee's ErrorInformation body; src/kbs/error-body.ts maps these codes to
// its type URIs and says where the status differs from trustee's.

/** The client speaks another KBS protocol version: only an exact match is accepted. */
export class KbsVersionUnsupported extends SkrError {
  constructor(expected: string, actual: unknown) {
    super('kbs_version_unsupported', 401, `KBS Client Protocol Version Mismatch: expect =${expected} while the request is ${String(actual).slice(0, 32)}`, { expected });
  }
}

/** /attest without a live session from /auth: no cookie, an unknown or expired one, or one already spent. */
export class KbsSessionMissing extends SkrError {
  constructor(reason: 'no_cookie' | 'unknown_or_expired' | 'already_attested' | 'nonce_mismatch') {
    super('kbs_session_missing', 401, `no session to attest in (${reason}); start again at /kbs/v0/auth`, { reason });
  }
}

/** The evidence or its binding did not pass the verifier; `details.cause` is the verifier's code. */
export class KbsAttestationRefused extends SkrError {
  constructor(cause: string, message: string) {
    super('kbs_attestation_refused', 401, `Attestation error: ${message}`, { cause });
  }
}

/** The tee-pubkey is not one a response can be wrapped to (see src/kbs/tee-pubkey.ts). */
export class KbsTeePubkeyUnsupported extends SkrError {
  constructor(reason: string) {
    super('kbs_tee_pubkey_unsupported', 400, `tee-pubkey: ${reason}`, { reason });
  }
}

/** A resource request with neither a live attested session nor a bearer token. */
export class KbsTokenMissing extends SkrError {
  constructor() {
    super('kbs_token_missing', 401, 'no attestation token: attest first, or send Authorization: Bearer');
  }
}

/** The attestation token is not one this KBS issued and still honours. */
export class KbsTokenInvalid extends SkrError {
  constructor(reason: string) {
    super('kbs_token_invalid', 401, `attestation token refused: ${reason}`, { reason });
  }
}

/** Not three segments of `[A-Za-z0-9_-][A-Za-z0-9_.-]*` under /kbs/v0/resource. */
export class KbsResourcePathInvalid extends SkrError {
  constructor() {
    super('kbs_resource_path_invalid', 404, 'a resource path is repository/type/tag, each [A-Za-z0-9_-][A-Za-z0-9_.-]*');
  }
}

/** The resource path encodes to a secret name longer than Key Vault allows. */
export class KbsResourceNameUnmappable extends SkrError {
  constructor(length: number) {
    super('kbs_resource_name_unmappable', 400, `the resource path encodes to a ${length}-character secret name; Key Vault allows 127`, { length });
  }
}

/** The policy allows the resource but the backend holds none under its path. */
export class KbsResourceNotFound extends SkrError {
  constructor(path: string) {
    super('kbs_resource_not_found', 404, `no resource ${path}`, { path });
  }
}

/** An admin request without a valid admin token. */
export class KbsAdminUnauthorized extends SkrError {
  constructor(reason: string) {
    super('kbs_admin_unauthorized', 401, `admin token refused: ${reason}`, { reason });
  }
}

/** No KBS route or plugin at that path (trustee's PluginNotFound). */
export class KbsEndpointNotFound extends SkrError {
  constructor() {
    super('kbs_endpoint_not_found', 404, 'no such endpoint');
  }
}

/** An admin asked to detach a resource policy where none is attached. */
export class KbsPolicyNotFound extends SkrError {
  constructor(prefix: string) {
    super('kbs_policy_not_found', 404, `no resource policy is attached at ${prefix}`, { prefix });
  }
}
