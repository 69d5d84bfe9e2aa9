import { ReportNotAcceptable, type ReportRefusalCode } from '../errors';
import { decodeGuestPolicy, decodePlatformInfo, type GuestPolicy, type PlatformInfo } from './abi/policy';
import type { Product } from './abi/product';
import type { AttestationReport } from './abi/report';
import { decodeTcb, tcbEqual, tcbShortfall, type Tcb } from './abi/tcb';

/** Guest-policy requirements: which permissive bits may be set, which hardening bits must be. */
export interface GuestPolicyOptions {
  minAbiMajor?: number;
  minAbiMinor?: number;
  /** Each permissive bit is allowed unless set to false here. `debug` is usually forbidden. */
  allowDebug?: boolean;
  allowSmt?: boolean;
  allowMigrateMa?: boolean;
  allowCxl?: boolean;
  requireSingleSocket?: boolean;
  requireMemAes256Xts?: boolean;
  requireRaplDis?: boolean;
  requireCiphertextHiding?: boolean;
  requirePageSwapDisable?: boolean;
}

/**
 * Is a genuine report acceptable? Every option is a requirement; an absent option checks
 * nothing. Byte fields compare exactly; TCBs compare component-wise.
 */
export interface ValidateOptions {
  /** Shorthand for `guestPolicy.allowDebug = false`. */
  forbidDebug?: boolean;
  guestPolicy?: GuestPolicyOptions;
  vmpl?: number;
  measurement?: Buffer;
  /** The measurement must be one of these. */
  measurements?: Buffer[];
  hostData?: Buffer;
  reportData?: Buffer;
  imageId?: Buffer;
  familyId?: Buffer;
  chipId?: Buffer;
  minimumGuestSvn?: number;
  /** Minimum per component on REPORTED_TCB (and CURRENT_TCB, which must be at least as high). */
  minimumTcb?: Partial<Tcb>;
  minimumLaunchTcb?: Partial<Tcb>;
  /** COMMITTED_TCB must equal CURRENT_TCB unless provisional firmware is permitted (then ≤). */
  requireCommittedTcb?: boolean;
  minimumBuild?: number;
  minimumVersion?: { major: number; minor: number };
  /** PLATFORM_INFO flags that must be set / must be clear. */
  platformInfoRequired?: (keyof PlatformInfo)[];
  platformInfoForbidden?: (keyof PlatformInfo)[];
  /** Bits that must all be present in the mitigation vectors (v5 reports). */
  minimumLaunchMitVector?: bigint;
  minimumCurrentMitVector?: bigint;
}

/** A verified report and the product its TCB layout belongs to. */
export interface ValidationSubject {
  report: AttestationReport;
  product: Product;
}

const hex = (b: Buffer) => b.toString('hex');

function fail(code: ReportRefusalCode, field: string, expected: unknown, actual: unknown): ReportNotAcceptable {
  return new ReportNotAcceptable(code, `${field}: expected ${describe(expected)}, got ${describe(actual)}`, expected, actual);
}

function describe(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

function checkBytes(out: ReportNotAcceptable[], field: string, code: ReportRefusalCode, expected: Buffer | undefined, actual: Buffer): void {
  if (expected !== undefined && !expected.equals(actual)) out.push(fail(code, field, hex(expected), hex(actual)));
}

function checkPolicy(out: ReportNotAcceptable[], policy: GuestPolicy, o: GuestPolicyOptions): void {
  if (o.minAbiMajor !== undefined || o.minAbiMinor !== undefined) {
    const want = [o.minAbiMajor ?? 0, o.minAbiMinor ?? 0];
    if (policy.abiMajor < want[0]! || (policy.abiMajor === want[0] && policy.abiMinor < want[1]!)) {
      out.push(fail('policy_abi_too_low', 'policy.abi', `>= ${want.join('.')}`, `${policy.abiMajor}.${policy.abiMinor}`));
    }
  }
  const permissive: [keyof GuestPolicy, boolean | undefined, ReportRefusalCode][] = [
    ['debug', o.allowDebug, 'policy_debug_allowed'],
    ['smt', o.allowSmt, 'policy_smt_allowed'],
    ['migrateMa', o.allowMigrateMa, 'policy_migrate_ma_allowed'],
    ['cxlAllow', o.allowCxl, 'policy_cxl_allowed'],
  ];
  for (const [flag, allowed, code] of permissive) {
    if (allowed === false && policy[flag] === true) out.push(fail(code, `policy.${flag}`, false, true));
  }
  const hardening: [keyof GuestPolicy, boolean | undefined, ReportRefusalCode][] = [
    ['singleSocket', o.requireSingleSocket, 'policy_single_socket_required'],
    ['memAes256Xts', o.requireMemAes256Xts, 'policy_mem_aes_256_xts_required'],
    ['raplDis', o.requireRaplDis, 'policy_rapl_dis_required'],
    ['ciphertextHiding', o.requireCiphertextHiding, 'policy_ciphertext_hiding_required'],
    ['pageSwapDisable', o.requirePageSwapDisable, 'policy_page_swap_disable_required'],
  ];
  for (const [flag, required, code] of hardening) {
    if (required === true && policy[flag] !== true) out.push(fail(code, `policy.${flag}`, true, false));
  }
}

function checkTcbMinimum(out: ReportNotAcceptable[], field: string, code: ReportRefusalCode, actual: Tcb, minimum: Partial<Tcb> | undefined): void {
  if (!minimum) return;
  for (const component of tcbShortfall(actual, minimum)) {
    out.push(fail(code, `${field}.${component}`, `>= ${minimum[component]}`, actual[component] ?? 0));
  }
}

/** Every way the report falls short of the options; empty when it is acceptable. */
export function checkReport(subject: ValidationSubject, options: ValidateOptions): ReportNotAcceptable[] {
  const { report, product } = subject;
  const out: ReportNotAcceptable[] = [];
  const policy = decodeGuestPolicy(report.policy);
  const policyOptions: GuestPolicyOptions = { ...options.guestPolicy };
  if (options.forbidDebug) policyOptions.allowDebug = false;
  checkPolicy(out, policy, policyOptions);

  if (options.vmpl !== undefined && report.vmpl !== options.vmpl) out.push(fail('vmpl_mismatch', 'vmpl', options.vmpl, report.vmpl));
  checkBytes(out, 'measurement', 'measurement_mismatch', options.measurement, report.measurement);
  if (options.measurements && !options.measurements.some((m) => m.equals(report.measurement))) {
    out.push(fail('measurement_not_allowed', 'measurement', options.measurements.map(hex), hex(report.measurement)));
  }
  checkBytes(out, 'host_data', 'host_data_mismatch', options.hostData, report.hostData);
  checkBytes(out, 'report_data', 'report_data_mismatch', options.reportData, report.reportData);
  checkBytes(out, 'image_id', 'image_id_mismatch', options.imageId, report.imageId);
  checkBytes(out, 'family_id', 'family_id_mismatch', options.familyId, report.familyId);
  checkBytes(out, 'chip_id', 'chip_id_mismatch', options.chipId, report.chipId);
  if (options.minimumGuestSvn !== undefined && report.guestSvn < options.minimumGuestSvn) {
    out.push(fail('guest_svn_too_low', 'guest_svn', `>= ${options.minimumGuestSvn}`, report.guestSvn));
  }

  const reported = decodeTcb(report.reportedTcb, product);
  const current = decodeTcb(report.currentTcb, product);
  const committed = decodeTcb(report.committedTcb, product);
  const launch = decodeTcb(report.launchTcb, product);
  checkTcbMinimum(out, 'reported_tcb', 'reported_tcb_too_low', reported, options.minimumTcb);
  checkTcbMinimum(out, 'current_tcb', 'current_tcb_too_low', current, options.minimumTcb);
  checkTcbMinimum(out, 'launch_tcb', 'launch_tcb_too_low', launch, options.minimumLaunchTcb);
  if (options.requireCommittedTcb && !tcbEqual(committed, current)) {
    out.push(fail('committed_tcb_mismatch', 'committed_tcb', current, committed));
  }

  const fw = report.currentVersion;
  if (options.minimumBuild !== undefined && fw.build < options.minimumBuild) {
    out.push(fail('firmware_build_too_low', 'current_build', `>= ${options.minimumBuild}`, fw.build));
  }
  const minVersion = options.minimumVersion;
  if (minVersion && (fw.major < minVersion.major || (fw.major === minVersion.major && fw.minor < minVersion.minor))) {
    out.push(fail('firmware_version_too_low', 'current_version', `>= ${minVersion.major}.${minVersion.minor}`, `${fw.major}.${fw.minor}`));
  }

  const info = decodePlatformInfo(report.platformInfo);
  for (const flag of options.platformInfoRequired ?? []) {
    if (!info[flag]) out.push(fail(PLATFORM_INFO_CODES[flag].required, `platform_info.${flag}`, true, false));
  }
  for (const flag of options.platformInfoForbidden ?? []) {
    if (info[flag]) out.push(fail(PLATFORM_INFO_CODES[flag].forbidden, `platform_info.${flag}`, false, true));
  }

  const mit: [bigint | undefined, bigint | undefined, string, ReportRefusalCode][] = [
    [options.minimumLaunchMitVector, report.launchMitVector, 'launch_mit_vector', 'launch_mit_vector_insufficient'],
    [options.minimumCurrentMitVector, report.currentMitVector, 'current_mit_vector', 'current_mit_vector_insufficient'],
  ];
  for (const [required, actual, field, code] of mit) {
    if (required !== undefined && ((actual ?? 0n) & required) !== required) {
      out.push(fail(code, field, `0x${required.toString(16)}`, actual === undefined ? 'absent' : `0x${actual.toString(16)}`));
    }
  }
  return out;
}

/** Throws the first failure of `checkReport`. Validation never runs inside `verifyReport`. */
export function validateReport(subject: ValidationSubject, options: ValidateOptions): void {
  const [first] = checkReport(subject, options);
  if (first) throw first;
}

/** The refusal code for each PLATFORM_INFO flag an appraisal requires or forbids. */
const PLATFORM_INFO_CODES: Record<keyof PlatformInfo, { required: ReportRefusalCode; forbidden: ReportRefusalCode }> = {
  smtEnabled: { required: 'platform_info_smt_enabled_required', forbidden: 'platform_info_smt_enabled_forbidden' },
  tsmeEnabled: { required: 'platform_info_tsme_enabled_required', forbidden: 'platform_info_tsme_enabled_forbidden' },
  eccEnabled: { required: 'platform_info_ecc_enabled_required', forbidden: 'platform_info_ecc_enabled_forbidden' },
  raplDisabled: { required: 'platform_info_rapl_disabled_required', forbidden: 'platform_info_rapl_disabled_forbidden' },
  ciphertextHidingEnabled: { required: 'platform_info_ciphertext_hiding_enabled_required', forbidden: 'platform_info_ciphertext_hiding_enabled_forbidden' },
  aliasCheckComplete: { required: 'platform_info_alias_check_complete_required', forbidden: 'platform_info_alias_check_complete_forbidden' },
  iommuWriteSafe: { required: 'platform_info_iommu_write_safe_required', forbidden: 'platform_info_iommu_write_safe_forbidden' },
  sevTioEnabled: { required: 'platform_info_sev_tio_enabled_required', forbidden: 'platform_info_sev_tio_enabled_forbidden' },
};
