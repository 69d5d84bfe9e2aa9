import { EvidenceMalformed } from '../../errors';
import { REPORT_SIZE } from './report';

/**
 * The Azure HCL report read from the vTPM NV index on SEV-SNP CVMs behind a paravisor:
 * a 0x20-byte "HCLA" header, the SNP report at 0x20, then the IGVM request data
 * {data_size, version, report_type, hash_type, var_data_size} and the runtime JSON, whose
 * SHA-256 is REPORT_DATA[0:32] of the SNP report.
 */
export interface HclReport {
  header: { version: number; reportSize: number; requestType: number; status: number };
  report: Buffer;
  igvm: { dataSize: number; version: number; reportType: number; hashType: number; varDataSize: number };
  /** The runtime data bytes exactly as hashed. */
  runtimeData: Buffer;
  /** The runtime data parsed as JSON (keys incl. HCLAkPub). */
  runtimeClaims: unknown;
}

const MAGIC = 'HCLA';
const HEADER_SIZE = 0x20;
const IGVM_OFFSET = HEADER_SIZE + REPORT_SIZE;
const IGVM_HEADER_SIZE = 20;
const HASH_SHA256 = 1;

export function parseHclReport(bytes: Uint8Array): HclReport {
  const buf = Buffer.from(bytes);
  if (buf.length < IGVM_OFFSET + IGVM_HEADER_SIZE) throw new EvidenceMalformed(`HCL report too short (${buf.length} bytes)`);
  if (buf.subarray(0, 4).toString('latin1') !== MAGIC) throw new EvidenceMalformed('HCL report does not start with "HCLA"');
  const header = {
    version: buf.readUInt32LE(4),
    reportSize: buf.readUInt32LE(8),
    requestType: buf.readUInt32LE(12),
    status: buf.readUInt32LE(16),
  };
  const igvm = {
    dataSize: buf.readUInt32LE(IGVM_OFFSET),
    version: buf.readUInt32LE(IGVM_OFFSET + 4),
    reportType: buf.readUInt32LE(IGVM_OFFSET + 8),
    hashType: buf.readUInt32LE(IGVM_OFFSET + 12),
    varDataSize: buf.readUInt32LE(IGVM_OFFSET + 16),
  };
  const dataStart = IGVM_OFFSET + IGVM_HEADER_SIZE;
  if (dataStart + igvm.varDataSize > buf.length) {
    throw new EvidenceMalformed('HCL runtime data runs past the end of the report', { varDataSize: igvm.varDataSize });
  }
  if (igvm.hashType !== HASH_SHA256) throw new EvidenceMalformed(`HCL hash type ${igvm.hashType} is not SHA-256 (1)`);
  const runtimeData = Buffer.from(buf.subarray(dataStart, dataStart + igvm.varDataSize));
  let runtimeClaims: unknown;
  try {
    runtimeClaims = JSON.parse(runtimeData.toString('utf8'));
  } catch {
    throw new EvidenceMalformed('HCL runtime data is not JSON');
  }
  return { header, report: Buffer.from(buf.subarray(HEADER_SIZE, IGVM_OFFSET)), igvm, runtimeData, runtimeClaims };
}
