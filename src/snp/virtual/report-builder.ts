import { InvalidArgument } from '../../errors';
import { encodeGuestPolicy, type GuestPolicy } from '../abi/policy';
import { hasFmc, type Cpuid, type Product } from '../abi/product';
import { REPORT_DATA_SIZE, SigningKey, serializeReport, SIGNATURE_COMPONENT_SIZE, type AttestationReport, type FirmwareVersion } from '../abi/report';
import { encodeTcb, TCB_COMPONENTS, type Tcb } from '../abi/tcb';
import { checkUint, toBytes } from './bytes';
import { PRODUCT_PROFILES } from './profiles';
import type { BytesInput, ReportVersion, VirtualDeviceConfig } from './types';

/**
 * Every field of an ATTESTATION_REPORT, settable; what is left out takes the value a current
 * machine of the product line would report (byte fields zero, REPORT_ID_MA all-FF).
 */
export interface ReportSpec {
  product: Product;
  /** Default 5. */
  version?: ReportVersion;
  guestSvn?: number;
  policy?: bigint | GuestPolicy;
  familyId?: BytesInput;
  imageId?: BytesInput;
  vmpl?: number;
  /** Default: the product's usual TCB. */
  reportedTcb?: Tcb;
  /** Each defaults to the reported TCB. */
  currentTcb?: Tcb;
  committedTcb?: Tcb;
  launchTcb?: Tcb;
  platformInfo?: bigint;
  signingKey?: SigningKey;
  authorKeyEn?: boolean;
  maskChipKey?: boolean;
  reportData?: BytesInput;
  measurement?: BytesInput;
  hostData?: BytesInput;
  idKeyDigest?: BytesInput;
  authorKeyDigest?: BytesInput;
  reportId?: BytesInput;
  reportIdMa?: BytesInput;
  chipId?: BytesInput;
  /** Version 3+: default the product's CPUID. */
  cpuid?: Cpuid;
  currentVersion?: FirmwareVersion;
  /** Default: the current version. */
  committedVersion?: FirmwareVersion;
  /** Version 5 only; default 0. */
  launchMitVector?: bigint;
  currentMitVector?: bigint;
}

const REPORT_VERSIONS: readonly number[] = [2, 3, 5];

function bytes(field: string, value: BytesInput | undefined, size: number, fill = 0): Buffer {
  return value === undefined ? Buffer.alloc(size, fill) : toBytes(field, value, size);
}

/** Checks the components the product's layout has (fmc on Turin only) and encodes them. */
function tcbField(field: string, tcb: Tcb, product: Product): bigint {
  for (const component of TCB_COMPONENTS) {
    const value = tcb[component];
    if (component === 'fmc' && !hasFmc(product)) {
      if (value !== undefined && value !== 0) throw new InvalidArgument(`${field}: ${product} has no FMC component`, { field });
      continue;
    }
    checkUint(`${field}.${component}`, value ?? 0, 8);
  }
  return encodeTcb(tcb, product);
}

function firmwareField(field: string, v: FirmwareVersion): FirmwareVersion {
  for (const part of ['major', 'minor', 'build'] as const) checkUint(`${field}.${part}`, v[part], 8);
  return { ...v };
}

/** The report as a struct, signature zero. */
export function reportStruct(spec: ReportSpec): AttestationReport {
  const profile = PRODUCT_PROFILES[spec.product];
  if (!profile) throw new InvalidArgument(`unknown product ${String(spec.product)}`, { field: 'product' });
  const version = spec.version ?? 5;
  if (!REPORT_VERSIONS.includes(version)) throw new InvalidArgument(`report version ${version} is not one of 2, 3, 5`, { field: 'version' });
  const policy = typeof spec.policy === 'object' ? encodeGuestPolicy(spec.policy) : (spec.policy ?? 0x30000n);
  checkUint('policy', policy, 64);
  checkUint('guestSvn', spec.guestSvn ?? 0, 32);
  checkUint('vmpl', spec.vmpl ?? 0, 32);
  const platformInfo = spec.platformInfo ?? profile.platformInfo;
  checkUint('platformInfo', platformInfo, 64);
  const signingKey = spec.signingKey ?? SigningKey.VCEK;
  checkUint('signingKey', signingKey, 8);
  if (signingKey > 7) throw new InvalidArgument('signingKey is a 3-bit field', { field: 'signingKey' });
  const reported = spec.reportedTcb ?? profile.tcb;
  // Checked first, so an error names the field the caller set rather than one defaulted from it.
  const reportedTcb = tcbField('reportedTcb', reported, spec.product);
  const current = spec.currentVersion ? firmwareField('currentVersion', spec.currentVersion) : { ...profile.firmware };

  const report: AttestationReport = {
    version,
    guestSvn: spec.guestSvn ?? 0,
    policy,
    familyId: bytes('familyId', spec.familyId, 16),
    imageId: bytes('imageId', spec.imageId, 16),
    vmpl: spec.vmpl ?? 0,
    signatureAlgo: 1,
    currentTcb: tcbField('currentTcb', spec.currentTcb ?? reported, spec.product),
    platformInfo,
    signerInfo: { authorKeyEn: spec.authorKeyEn ?? false, maskChipKey: spec.maskChipKey ?? false, signingKey },
    reportData: bytes('reportData', spec.reportData, REPORT_DATA_SIZE),
    measurement: bytes('measurement', spec.measurement, 48),
    hostData: bytes('hostData', spec.hostData, 32),
    idKeyDigest: bytes('idKeyDigest', spec.idKeyDigest, 48),
    authorKeyDigest: bytes('authorKeyDigest', spec.authorKeyDigest, 48),
    reportId: bytes('reportId', spec.reportId, 32),
    // 0xFF throughout means "no migration agent".
    reportIdMa: bytes('reportIdMa', spec.reportIdMa, 32, 0xff),
    reportedTcb,
    chipId: bytes('chipId', spec.chipId, 64),
    committedTcb: tcbField('committedTcb', spec.committedTcb ?? reported, spec.product),
    currentVersion: current,
    committedVersion: spec.committedVersion ? firmwareField('committedVersion', spec.committedVersion) : { ...current },
    launchTcb: tcbField('launchTcb', spec.launchTcb ?? reported, spec.product),
    signature: { r: Buffer.alloc(SIGNATURE_COMPONENT_SIZE), s: Buffer.alloc(SIGNATURE_COMPONENT_SIZE) },
  };
  if (version >= 3) {
    const cpuid = spec.cpuid ?? profile.cpuid;
    for (const part of ['family', 'model', 'stepping'] as const) checkUint(`cpuid.${part}`, cpuid[part], 8);
    report.cpuid = { ...cpuid };
  }
  if (version >= 5) {
    report.launchMitVector = spec.launchMitVector ?? 0n;
    report.currentMitVector = spec.currentMitVector ?? 0n;
    checkUint('launchMitVector', report.launchMitVector, 64);
    checkUint('currentMitVector', report.currentMitVector, 64);
  }
  return report;
}

/** The unsigned 0x4A0 bytes of a report (signature area zero), ready for `signReport`. */
export function buildReport(spec: ReportSpec): Buffer {
  return serializeReport(reportStruct(spec));
}

/** The report a virtual device answers with, before REPORT_DATA, VMPL and the signature are set. */
export function reportSpecFromConfig(config: VirtualDeviceConfig): ReportSpec {
  const { guest } = config;
  return {
    product: config.product,
    version: guest.version,
    guestSvn: guest.guestSvn,
    policy: guest.policy,
    familyId: guest.familyId,
    imageId: guest.imageId,
    vmpl: guest.vmpl,
    reportedTcb: config.tcb,
    platformInfo: config.platformInfo,
    measurement: guest.measurement,
    hostData: guest.hostData,
    idKeyDigest: guest.idKeyDigest,
    authorKeyDigest: guest.authorKeyDigest,
    authorKeyEn: !guest.authorKeyDigest.every((b) => b === 0),
    reportId: config.reportId,
    chipId: config.chipId,
    currentVersion: config.firmware,
    launchMitVector: config.mitigationVector,
    currentMitVector: config.mitigationVector,
  };
}
