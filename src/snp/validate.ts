import {
  ChipIdMismatch,
  CommittedTcbMismatch,
  CurrentMitVectorInsufficient,
  CurrentTcbTooLow,
  FamilyIdMismatch,
  FirmwareBuildTooLow,
  FirmwareVersionTooLow,
  GuestSvnTooLow,
  HostDataMismatch,
  ImageIdMismatch,
  LaunchMitVectorInsufficient,
  LaunchTcbTooLow,
  MeasurementMismatch,
  MeasurementNotAllowed,
  PlatformInfoAliasCheckCompleteForbidden,
  PlatformInfoAliasCheckCompleteRequired,
  PlatformInfoCiphertextHidingEnabledForbidden,
  PlatformInfoCiphertextHidingEnabledRequired,
  PlatformInfoEccEnabledForbidden,
  PlatformInfoEccEnabledRequired,
  PlatformInfoIommuWriteSafeForbidden,
  PlatformInfoIommuWriteSafeRequired,
  PlatformInfoRaplDisabledForbidden,
  PlatformInfoRaplDisabledRequired,
  PlatformInfoSevTioEnabledForbidden,
  PlatformInfoSevTioEnabledRequired,
  PlatformInfoSmtEnabledForbidden,
  PlatformInfoSmtEnabledRequired,
  PlatformInfoTsmeEnabledForbidden,
  PlatformInfoTsmeEnabledRequired,
  PolicyAbiTooLow,
  PolicyCiphertextHidingRequired,
  PolicyCxlAllowed,
  PolicyDebugAllowed,
  PolicyMemAes256XtsRequired,
  PolicyMigrateMaAllowed,
  PolicyPageSwapDisableRequired,
  PolicyRaplDisRequired,
  PolicySingleSocketRequired,
  PolicySmtAllowed,
  ReportDataMismatch,
  type ReportNotAcceptable,
  ReportedTcbTooLow,
  VmplMismatch,
  type ReportRefusal,
} from '../errors';
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

function fail(Refusal: ReportRefusal, field: string, expected: unknown, actual: unknown): ReportNotAcceptable {
  return new Refusal(`${field}: expected ${describe(expected)}, got ${describe(actual)}`, expected, actual);
}

function describe(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

function checkBytes(out: ReportNotAcceptable[], field: string, Refusal: ReportRefusal, expected: Buffer | undefined, actual: Buffer): void {
  if (expected !== undefined && !expected.equals(actual)) out.push(fail(Refusal, field, hex(expected), hex(actual)));
}

function checkPolicy(out: ReportNotAcceptable[], policy: GuestPolicy, o: GuestPolicyOptions): void {
  if (o.minAbiMajor !== undefined || o.minAbiMinor !== undefined) {
    const want = [o.minAbiMajor ?? 0, o.minAbiMinor ?? 0];
    if (policy.abiMajor < want[0]! || (policy.abiMajor === want[0] && policy.abiMinor < want[1]!)) {
      out.push(fail(PolicyAbiTooLow, 'policy.abi', `>= ${want.join('.')}`, `${policy.abiMajor}.${policy.abiMinor}`));
    }
  }
  const permissive: [keyof GuestPolicy, boolean | undefined, ReportRefusal][] = [
    ['debug', o.allowDebug, PolicyDebugAllowed],
    ['smt', o.allowSmt, PolicySmtAllowed],
    ['migrateMa', o.allowMigrateMa, PolicyMigrateMaAllowed],
    ['cxlAllow', o.allowCxl, PolicyCxlAllowed],
  ];
  for (const [flag, allowed, Refusal] of permissive) {
    if (allowed === false && policy[flag] === true) out.push(fail(Refusal, `policy.${flag}`, false, true));
  }
  const hardening: [keyof GuestPolicy, boolean | undefined, ReportRefusal][] = [
    ['singleSocket', o.requireSingleSocket, PolicySingleSocketRequired],
    ['memAes256Xts', o.requireMemAes256Xts, PolicyMemAes256XtsRequired],
    ['raplDis', o.requireRaplDis, PolicyRaplDisRequired],
    ['ciphertextHiding', o.requireCiphertextHiding, PolicyCiphertextHidingRequired],
    ['pageSwapDisable', o.requirePageSwapDisable, PolicyPageSwapDisableRequired],
  ];
  for (const [flag, required, Refusal] of hardening) {
    if (required === true && policy[flag] !== true) out.push(fail(Refusal, `policy.${flag}`, true, false));
  }
}

function checkTcbMinimum(out: ReportNotAcceptable[], field: string, Refusal: ReportRefusal, actual: Tcb, minimum: Partial<Tcb> | undefined): void {
  if (!minimum) return;
  for (const component of tcbShortfall(actual, minimum)) {
    out.push(fail(Refusal, `${field}.${component}`, `>= ${minimum[component]}`, actual[component] ?? 0));
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

  if (options.vmpl !== undefined && report.vmpl !== options.vmpl) out.push(fail(VmplMismatch, 'vmpl', options.vmpl, report.vmpl));
  checkBytes(out, 'measurement', MeasurementMismatch, options.measurement, report.measurement);
  if (options.measurements && !options.measurements.some((m) => m.equals(report.measurement))) {
    out.push(fail(MeasurementNotAllowed, 'measurement', options.measurements.map(hex), hex(report.measurement)));
  }
  checkBytes(out, 'host_data', HostDataMismatch, options.hostData, report.hostData);
  checkBytes(out, 'report_data', ReportDataMismatch, options.reportData, report.reportData);
  checkBytes(out, 'image_id', ImageIdMismatch, options.imageId, report.imageId);
  checkBytes(out, 'family_id', FamilyIdMismatch, options.familyId, report.familyId);
  checkBytes(out, 'chip_id', ChipIdMismatch, options.chipId, report.chipId);
  if (options.minimumGuestSvn !== undefined && report.guestSvn < options.minimumGuestSvn) {
    out.push(fail(GuestSvnTooLow, 'guest_svn', `>= ${options.minimumGuestSvn}`, report.guestSvn));
  }

  const reported = decodeTcb(report.reportedTcb, product);
  const current = decodeTcb(report.currentTcb, product);
  const committed = decodeTcb(report.committedTcb, product);
  const launch = decodeTcb(report.launchTcb, product);
  checkTcbMinimum(out, 'reported_tcb', ReportedTcbTooLow, reported, options.minimumTcb);
  checkTcbMinimum(out, 'current_tcb', CurrentTcbTooLow, current, options.minimumTcb);
  checkTcbMinimum(out, 'launch_tcb', LaunchTcbTooLow, launch, options.minimumLaunchTcb);
  if (options.requireCommittedTcb && !tcbEqual(committed, current)) {
    out.push(fail(CommittedTcbMismatch, 'committed_tcb', current, committed));
  }

  const fw = report.currentVersion;
  if (options.minimumBuild !== undefined && fw.build < options.minimumBuild) {
    out.push(fail(FirmwareBuildTooLow, 'current_build', `>= ${options.minimumBuild}`, fw.build));
  }
  const minVersion = options.minimumVersion;
  if (minVersion && (fw.major < minVersion.major || (fw.major === minVersion.major && fw.minor < minVersion.minor))) {
    out.push(fail(FirmwareVersionTooLow, 'current_version', `>= ${minVersion.major}.${minVersion.minor}`, `${fw.major}.${fw.minor}`));
  }

  const info = decodePlatformInfo(report.platformInfo);
  for (const flag of options.platformInfoRequired ?? []) {
    if (!info[flag]) out.push(fail(PLATFORM_INFO_REFUSALS[flag].required, `platform_info.${flag}`, true, false));
  }
  for (const flag of options.platformInfoForbidden ?? []) {
    if (info[flag]) out.push(fail(PLATFORM_INFO_REFUSALS[flag].forbidden, `platform_info.${flag}`, false, true));
  }

  const mit: [bigint | undefined, bigint | undefined, string, ReportRefusal][] = [
    [options.minimumLaunchMitVector, report.launchMitVector, 'launch_mit_vector', LaunchMitVectorInsufficient],
    [options.minimumCurrentMitVector, report.currentMitVector, 'current_mit_vector', CurrentMitVectorInsufficient],
  ];
  for (const [required, actual, field, Refusal] of mit) {
    if (required !== undefined && ((actual ?? 0n) & required) !== required) {
      out.push(fail(Refusal, field, `0x${required.toString(16)}`, actual === undefined ? 'absent' : `0x${actual.toString(16)}`));
    }
  }
  return out;
}

/** Throws the first failure of `checkReport`. Validation never runs inside `verifyReport`. */
export function validateReport(subject: ValidationSubject, options: ValidateOptions): void {
  const [first] = checkReport(subject, options);
  if (first) throw first;
}

/** The refusal for each PLATFORM_INFO flag an appraisal requires or forbids. */
const PLATFORM_INFO_REFUSALS: Record<keyof PlatformInfo, { required: ReportRefusal; forbidden: ReportRefusal }> = {
  smtEnabled: { required: PlatformInfoSmtEnabledRequired, forbidden: PlatformInfoSmtEnabledForbidden },
  tsmeEnabled: { required: PlatformInfoTsmeEnabledRequired, forbidden: PlatformInfoTsmeEnabledForbidden },
  eccEnabled: { required: PlatformInfoEccEnabledRequired, forbidden: PlatformInfoEccEnabledForbidden },
  raplDisabled: { required: PlatformInfoRaplDisabledRequired, forbidden: PlatformInfoRaplDisabledForbidden },
  ciphertextHidingEnabled: { required: PlatformInfoCiphertextHidingEnabledRequired, forbidden: PlatformInfoCiphertextHidingEnabledForbidden },
  aliasCheckComplete: { required: PlatformInfoAliasCheckCompleteRequired, forbidden: PlatformInfoAliasCheckCompleteForbidden },
  iommuWriteSafe: { required: PlatformInfoIommuWriteSafeRequired, forbidden: PlatformInfoIommuWriteSafeForbidden },
  sevTioEnabled: { required: PlatformInfoSevTioEnabledRequired, forbidden: PlatformInfoSevTioEnabledForbidden },
};
