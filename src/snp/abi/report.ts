import { ReportMalformed, ReportVersionUnsupported } from '../../errors';
import { POLICY_MBZ_MASK, POLICY_RESERVED_ONE } from './policy';
import type { Cpuid } from './product';

/** ATTESTATION_REPORT, SNP firmware ABI 56860 Table 23; all integers little-endian. */
export const REPORT_SIZE = 0x4a0;
/** The signature covers bytes 0x000–0x29F. */
export const SIGNED_LENGTH = 0x2a0;
export const SIGNATURE_OFFSET = 0x2a0;
/** R and S are 72-byte little-endian fields of which only the low 48 bytes carry the P-384 value. */
export const SIGNATURE_COMPONENT_SIZE = 72;
export const P384_SIZE = 48;
/** REPORT_DATA, the guest's own 64 bytes the report carries (and a report request must give). */
export const REPORT_DATA_SIZE = 64;
/** VMPLs run from 0 (most privileged) to 3. */
export const MAX_VMPL = 3;
export const SUPPORTED_VERSIONS = [2, 3, 5] as const;

export enum SigningKey {
  VCEK = 0,
  VLEK = 1,
  None = 7,
}

export interface SignerInfo {
  authorKeyEn: boolean;
  maskChipKey: boolean;
  signingKey: SigningKey;
}

export interface FirmwareVersion {
  major: number;
  minor: number;
  build: number;
}

export interface ReportSignature {
  /** 72 bytes, little-endian, as stored. */
  r: Buffer;
  s: Buffer;
}

export interface AttestationReport {
  version: number;
  guestSvn: number;
  policy: bigint;
  familyId: Buffer;
  imageId: Buffer;
  vmpl: number;
  signatureAlgo: number;
  currentTcb: bigint;
  platformInfo: bigint;
  signerInfo: SignerInfo;
  reportData: Buffer;
  measurement: Buffer;
  hostData: Buffer;
  idKeyDigest: Buffer;
  authorKeyDigest: Buffer;
  reportId: Buffer;
  reportIdMa: Buffer;
  reportedTcb: bigint;
  /** Present from version 3 on. */
  cpuid?: Cpuid;
  chipId: Buffer;
  committedTcb: bigint;
  currentVersion: FirmwareVersion;
  committedVersion: FirmwareVersion;
  launchTcb: bigint;
  /** Present from version 5 on. */
  launchMitVector?: bigint;
  currentMitVector?: bigint;
  signature: ReportSignature;
}

type ByteField = 'familyId' | 'imageId' | 'reportData' | 'measurement' | 'hostData' | 'idKeyDigest' | 'authorKeyDigest' | 'reportId' | 'reportIdMa' | 'chipId';
type U32Field = 'version' | 'guestSvn' | 'vmpl' | 'signatureAlgo';
type U64Field = 'policy' | 'currentTcb' | 'platformInfo' | 'reportedTcb' | 'committedTcb' | 'launchTcb';

const BYTE_FIELDS: [ByteField, number, number][] = [
  ['familyId', 0x010, 16],
  ['imageId', 0x020, 16],
  ['reportData', 0x050, REPORT_DATA_SIZE],
  ['measurement', 0x090, 48],
  ['hostData', 0x0c0, 32],
  ['idKeyDigest', 0x0e0, 48],
  ['authorKeyDigest', 0x110, 48],
  ['reportId', 0x140, 32],
  ['reportIdMa', 0x160, 32],
  ['chipId', 0x1a0, 64],
];
const U32_FIELDS: [U32Field, number][] = [
  ['version', 0x000],
  ['guestSvn', 0x004],
  ['vmpl', 0x030],
  ['signatureAlgo', 0x034],
];
const U64_FIELDS: [U64Field, number][] = [
  ['policy', 0x008],
  ['currentTcb', 0x038],
  ['platformInfo', 0x040],
  ['reportedTcb', 0x180],
  ['committedTcb', 0x1e0],
  ['launchTcb', 0x1f0],
];
const SIGNER_INFO = 0x048;
const CPUID = 0x188;
const CURRENT_VERSION = 0x1e8;
const COMMITTED_VERSION = 0x1ec;
const LAUNCH_MIT_VECTOR = 0x1f8;
const CURRENT_MIT_VECTOR = 0x200;

/** Reserved (must-be-zero) ranges [start, end) per version; CPUID and mitigation vectors shrink them. */
function reservedRanges(version: number): [number, number][] {
  return [
    [0x04c, 0x050],
    version >= 3 ? [0x18b, 0x1a0] : [0x188, 0x1a0],
    [0x1eb, 0x1ec],
    [0x1ef, 0x1f0],
    version >= 5 ? [0x208, 0x2a0] : [0x1f8, 0x2a0],
    // The top 24 bytes of R and of S, and everything after S.
    [SIGNATURE_OFFSET + P384_SIZE, SIGNATURE_OFFSET + SIGNATURE_COMPONENT_SIZE],
    [SIGNATURE_OFFSET + SIGNATURE_COMPONENT_SIZE + P384_SIZE, SIGNATURE_OFFSET + 2 * SIGNATURE_COMPONENT_SIZE],
    [SIGNATURE_OFFSET + 2 * SIGNATURE_COMPONENT_SIZE, REPORT_SIZE],
  ];
}

function firstNonZero(buf: Buffer, start: number, end: number): number {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return i;
  return -1;
}

/**
 * Decodes an ATTESTATION_REPORT strictly: exact size, version 2/3/5, reserved ranges zero,
 * signature algorithm 1 (ECDSA P-384 SHA-384), signing key VCEK or VLEK, policy bit 17 set.
 * The returned buffers are copies, so the caller's bytes may be reused.
 */
export function parseReport(bytes: Uint8Array): AttestationReport {
  if (bytes.length !== REPORT_SIZE) {
    throw new ReportMalformed(`report must be ${REPORT_SIZE} bytes, got ${bytes.length}`, { field: 'size', expected: REPORT_SIZE, actual: bytes.length });
  }
  const buf = Buffer.from(bytes);
  const version = buf.readUInt32LE(0);
  if (!(SUPPORTED_VERSIONS as readonly number[]).includes(version)) throw new ReportVersionUnsupported(version);

  for (const [start, end] of reservedRanges(version)) {
    const at = firstNonZero(buf, start, end);
    if (at >= 0) {
      throw new ReportMalformed(`reserved byte at 0x${at.toString(16)} is not zero`, { field: 'reserved', offset: at });
    }
  }

  const report = {} as AttestationReport;
  for (const [name, offset] of U32_FIELDS) report[name] = buf.readUInt32LE(offset);
  for (const [name, offset] of U64_FIELDS) report[name] = buf.readBigUInt64LE(offset);
  for (const [name, offset, size] of BYTE_FIELDS) report[name] = Buffer.from(buf.subarray(offset, offset + size));

  if (report.signatureAlgo !== 1) {
    throw new ReportMalformed(`signature algorithm ${report.signatureAlgo} is not ECDSA P-384 with SHA-384 (1)`, {
      field: 'signature_algo',
      expected: 1,
      actual: report.signatureAlgo,
    });
  }
  if (report.vmpl > MAX_VMPL) throw new ReportMalformed(`VMPL ${report.vmpl} is out of range 0..${MAX_VMPL}`, { field: 'vmpl', actual: report.vmpl });
  if ((report.policy & POLICY_RESERVED_ONE) === 0n || (report.policy & POLICY_MBZ_MASK) !== 0n) {
    throw new ReportMalformed(`guest policy 0x${report.policy.toString(16)} has reserved bits wrong (bit 17 must be 1, 63:26 zero)`, {
      field: 'policy',
      actual: `0x${report.policy.toString(16)}`,
    });
  }
  report.signerInfo = decodeSignerInfo(buf.readUInt32LE(SIGNER_INFO));
  if (version >= 3) report.cpuid = { family: buf[CPUID]!, model: buf[CPUID + 1]!, stepping: buf[CPUID + 2]! };
  report.currentVersion = readVersion(buf, CURRENT_VERSION);
  report.committedVersion = readVersion(buf, COMMITTED_VERSION);
  if (version >= 5) {
    report.launchMitVector = buf.readBigUInt64LE(LAUNCH_MIT_VECTOR);
    report.currentMitVector = buf.readBigUInt64LE(CURRENT_MIT_VECTOR);
  }
  report.signature = {
    r: Buffer.from(buf.subarray(SIGNATURE_OFFSET, SIGNATURE_OFFSET + SIGNATURE_COMPONENT_SIZE)),
    s: Buffer.from(buf.subarray(SIGNATURE_OFFSET + SIGNATURE_COMPONENT_SIZE, SIGNATURE_OFFSET + 2 * SIGNATURE_COMPONENT_SIZE)),
  };
  return report;
}

function decodeSignerInfo(value: number): SignerInfo {
  if (value >>> 5 !== 0) {
    throw new ReportMalformed(`signer info 0x${value.toString(16)} has reserved bits 31:5 set`, { field: 'signer_info', actual: value });
  }
  const signingKey = (value >>> 2) & 0x7;
  if (signingKey !== SigningKey.VCEK && signingKey !== SigningKey.VLEK) {
    throw new ReportMalformed(`signing key ${signingKey} is neither VCEK (0) nor VLEK (1)`, { field: 'signing_key', actual: signingKey });
  }
  return { authorKeyEn: (value & 1) === 1, maskChipKey: (value & 2) === 2, signingKey };
}

function encodeSignerInfo(info: SignerInfo): number {
  return (info.authorKeyEn ? 1 : 0) | (info.maskChipKey ? 2 : 0) | ((info.signingKey & 0x7) << 2);
}

function readVersion(buf: Buffer, offset: number): FirmwareVersion {
  return { build: buf[offset]!, minor: buf[offset + 1]!, major: buf[offset + 2]! };
}

/**
 * Encodes a report back to its 0x4A0 bytes; reserved ranges are written as zero, so
 * `serializeReport(parseReport(b))` equals `b` for every report `parseReport` accepts.
 */
export function serializeReport(report: AttestationReport): Buffer {
  if (!(SUPPORTED_VERSIONS as readonly number[]).includes(report.version)) throw new ReportVersionUnsupported(report.version);
  const buf = Buffer.alloc(REPORT_SIZE);
  for (const [name, offset] of U32_FIELDS) buf.writeUInt32LE(report[name], offset);
  for (const [name, offset] of U64_FIELDS) buf.writeBigUInt64LE(report[name], offset);
  for (const [name, offset, size] of BYTE_FIELDS) {
    const value = report[name];
    if (value.length !== size) throw new RangeError(`${name} must be ${size} bytes, got ${value.length}`);
    value.copy(buf, offset);
  }
  buf.writeUInt32LE(encodeSignerInfo(report.signerInfo), SIGNER_INFO);
  if (report.version >= 3) {
    const cpuid = report.cpuid ?? { family: 0, model: 0, stepping: 0 };
    buf[CPUID] = cpuid.family;
    buf[CPUID + 1] = cpuid.model;
    buf[CPUID + 2] = cpuid.stepping;
  }
  writeVersion(buf, CURRENT_VERSION, report.currentVersion);
  writeVersion(buf, COMMITTED_VERSION, report.committedVersion);
  if (report.version >= 5) {
    buf.writeBigUInt64LE(report.launchMitVector ?? 0n, LAUNCH_MIT_VECTOR);
    buf.writeBigUInt64LE(report.currentMitVector ?? 0n, CURRENT_MIT_VECTOR);
  }
  writeSignature(buf, report.signature);
  return buf;
}

function writeVersion(buf: Buffer, offset: number, v: FirmwareVersion): void {
  buf[offset] = v.build;
  buf[offset + 1] = v.minor;
  buf[offset + 2] = v.major;
}

function writeSignature(buf: Buffer, signature: ReportSignature): void {
  for (const [component, offset] of [
    [signature.r, SIGNATURE_OFFSET],
    [signature.s, SIGNATURE_OFFSET + SIGNATURE_COMPONENT_SIZE],
  ] as const) {
    if (component.length !== SIGNATURE_COMPONENT_SIZE) throw new RangeError(`signature components are ${SIGNATURE_COMPONENT_SIZE} bytes`);
    component.copy(buf, offset);
  }
}

/** The bytes the signature covers. */
export function signedBytes(report: Uint8Array): Buffer {
  return Buffer.from(report.subarray(0, SIGNED_LENGTH));
}

/** R ‖ S as 96 big-endian bytes (ieee-p1363), from the 72-byte little-endian fields. */
export function signatureToP1363(signature: ReportSignature): Buffer {
  const half = (le: Buffer) => Buffer.from(le.subarray(0, P384_SIZE)).reverse();
  return Buffer.concat([half(signature.r), half(signature.s)]);
}

/** The inverse of `signatureToP1363`: 96 big-endian bytes to the report's two 72-byte fields. */
export function signatureFromP1363(p1363: Uint8Array): ReportSignature {
  if (p1363.length !== 2 * P384_SIZE) throw new RangeError(`a P-384 signature is ${2 * P384_SIZE} bytes`);
  const field = (be: Uint8Array) => {
    const out = Buffer.alloc(SIGNATURE_COMPONENT_SIZE);
    Buffer.from(be).reverse().copy(out, 0);
    return out;
  };
  return { r: field(p1363.subarray(0, P384_SIZE)), s: field(p1363.subarray(P384_SIZE)) };
}
