import { decodeGuestPolicy, decodePlatformInfo, type GuestPolicy, type PlatformInfo } from './abi/policy';
import type { FirmwareVersion } from './abi/report';
import { decodeTcb, type Tcb } from './abi/tcb';
import type { VerifiedReport } from './verify';

/** A verified report as plain JSON: hex strings lowercase, numbers as numbers, policy as 0x-hex. */
export interface ReportSummary {
  version: number;
  product: string;
  signer: 'VCEK' | 'VLEK';
  genuine: boolean;
  vmpl: number;
  guestSvn: number;
  policy: string;
  debug: boolean;
  measurement: string;
  hostData: string;
  reportData: string;
  chipId: string;
  familyId: string;
  imageId: string;
  idKeyDigest: string;
  authorKeyDigest: string;
  reportId: string;
  platformInfo: string;
  platformFlags: PlatformInfo;
  guestPolicy: GuestPolicy;
  reportedTcb: Tcb;
  currentTcb: Tcb;
  committedTcb: Tcb;
  launchTcb: Tcb;
  currentFirmware: string;
  committedFirmware: string;
  cpuid?: { family: number; model: number; stepping: number };
  launchMitVector?: string;
  currentMitVector?: string;
  vek: { subject: string; productName: string; notBefore: string; notAfter: string; cspId?: string };
}

const version = (v: FirmwareVersion) => `${v.major}.${v.minor}.${v.build}`;
const hex64 = (v: bigint) => `0x${v.toString(16)}`;

export function summarizeReport(verified: VerifiedReport): ReportSummary {
  const { report, product, vek } = verified;
  const summary: ReportSummary = {
    version: report.version,
    product,
    signer: verified.signer,
    genuine: verified.genuine,
    vmpl: report.vmpl,
    guestSvn: report.guestSvn,
    policy: hex64(report.policy),
    debug: decodeGuestPolicy(report.policy).debug,
    measurement: report.measurement.toString('hex'),
    hostData: report.hostData.toString('hex'),
    reportData: report.reportData.toString('hex'),
    chipId: report.chipId.toString('hex'),
    familyId: report.familyId.toString('hex'),
    imageId: report.imageId.toString('hex'),
    idKeyDigest: report.idKeyDigest.toString('hex'),
    authorKeyDigest: report.authorKeyDigest.toString('hex'),
    reportId: report.reportId.toString('hex'),
    platformInfo: hex64(report.platformInfo),
    platformFlags: decodePlatformInfo(report.platformInfo),
    guestPolicy: decodeGuestPolicy(report.policy),
    reportedTcb: verified.reportedTcb,
    currentTcb: decodeTcb(report.currentTcb, product),
    committedTcb: decodeTcb(report.committedTcb, product),
    launchTcb: decodeTcb(report.launchTcb, product),
    currentFirmware: version(report.currentVersion),
    committedFirmware: version(report.committedVersion),
    vek: {
      subject: vek.cert.subject.split('\n').join(', '),
      productName: vek.productName,
      notBefore: new Date(vek.cert.validFrom).toISOString(),
      notAfter: new Date(vek.cert.validTo).toISOString(),
    },
  };
  if (report.cpuid) summary.cpuid = report.cpuid;
  if (report.launchMitVector !== undefined) summary.launchMitVector = hex64(report.launchMitVector);
  if (report.currentMitVector !== undefined) summary.currentMitVector = hex64(report.currentMitVector);
  if (vek.cspId !== undefined) summary.vek.cspId = vek.cspId;
  return summary;
}
