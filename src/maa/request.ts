import { InvalidRequest } from '../errors';
import { decodeBase64Url, encodeBase64Url } from '../lib/base64url';

/**
 * The body of MAA's `POST /attest/SevSnpVm`, shared by the client (which builds it as
 * Microsoft's sidecar does) and the verifier (which parses it strictly).
 */
export type DataType = 'JSON' | 'Binary';

export interface TypedData {
  data: Buffer;
  dataType: DataType;
}

export interface AttestRequest {
  /** The 1184-byte SNP report. */
  report: Buffer;
  /** PEM: the VCEK/VLEK, then ASK/ASVK and ARK, concatenated. */
  vcekCertChain: string;
  /** UVM endorsements (COSE_Sign1 reference info), as ACI supplies them. */
  uvmEndorsements?: Buffer[];
  runtimeData?: TypedData;
  /** Absent when empty: Microsoft's sidecar sends `{"data":"","dataType":""}`. */
  initTimeData?: TypedData;
  nonce?: string;
}

/** The JSON body, base64url with padding as Microsoft's sidecar sends it (MAA accepts both). */
export function encodeAttestRequest(request: AttestRequest): Record<string, unknown> {
  const b64 = (bytes: Uint8Array) => encodeBase64Url(bytes, true);
  const inner: Record<string, unknown> = { SnpReport: b64(request.report), VcekCertChain: b64(Buffer.from(request.vcekCertChain)) };
  if (request.uvmEndorsements?.length) {
    inner.Endorsements = b64(Buffer.from(JSON.stringify({ Uvm: request.uvmEndorsements.map((e) => b64(e)) })));
  }
  const body: Record<string, unknown> = { report: b64(Buffer.from(JSON.stringify(inner))) };
  if (request.runtimeData) body.runtimeData = { data: b64(request.runtimeData.data), dataType: request.runtimeData.dataType };
  body.initTimeData = request.initTimeData ? { data: b64(request.initTimeData.data), dataType: request.initTimeData.dataType } : { data: '', dataType: '' };
  if (request.nonce !== undefined) body.nonce = request.nonce;
  return body;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function b64Field(value: unknown, field: string): Buffer {
  if (typeof value !== 'string') throw new InvalidRequest(`${field} must be a base64url string`, { field });
  const bytes = decodeBase64Url(value);
  if (!bytes) throw new InvalidRequest(`${field} is not valid base64url`, { field });
  return bytes;
}

function jsonField(bytes: Buffer, field: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new InvalidRequest(`${field} does not decode to JSON`, { field });
  }
  if (!isRecord(parsed)) throw new InvalidRequest(`${field} must decode to a JSON object`, { field });
  return parsed;
}

function typedData(value: unknown, field: string): TypedData | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw new InvalidRequest(`${field} must be an object {data, dataType}`, { field });
  const data = b64Field(value.data ?? '', `${field}.data`);
  if (data.length === 0) return undefined;
  const dataType = value.dataType;
  if (dataType !== 'JSON' && dataType !== 'Binary') throw new InvalidRequest(`${field}.dataType must be "JSON" or "Binary"`, { field });
  return { data, dataType };
}

/** Size caps that keep a hostile body from costing more than a genuine one. */
const MAX_CHAIN_BYTES = 64 * 1024;
const MAX_NONCE_LENGTH = 256;
const MAX_ENDORSEMENTS = 16;

export function decodeAttestRequest(body: unknown): AttestRequest {
  if (!isRecord(body)) throw new InvalidRequest('the request body must be a JSON object');
  const inner = jsonField(b64Field(body.report, 'report'), 'report');
  const report = b64Field(inner.SnpReport, 'report.SnpReport');
  const chain = b64Field(inner.VcekCertChain, 'report.VcekCertChain');
  if (chain.length > MAX_CHAIN_BYTES) throw new InvalidRequest('report.VcekCertChain is too large', { field: 'report.VcekCertChain' });
  const request: AttestRequest = { report, vcekCertChain: chain.toString('latin1') };
  if (inner.Endorsements !== undefined) {
    const endorsements = jsonField(b64Field(inner.Endorsements, 'report.Endorsements'), 'report.Endorsements');
    const uvm = endorsements.Uvm;
    if (!Array.isArray(uvm) || uvm.length > MAX_ENDORSEMENTS) {
      throw new InvalidRequest('report.Endorsements.Uvm must be an array of base64url strings', { field: 'report.Endorsements' });
    }
    request.uvmEndorsements = uvm.map((e, i) => b64Field(e, `report.Endorsements.Uvm[${i}]`));
  }
  const runtimeData = typedData(body.runtimeData, 'runtimeData');
  if (runtimeData) request.runtimeData = runtimeData;
  const initTimeData = typedData(body.initTimeData, 'initTimeData');
  if (initTimeData) request.initTimeData = initTimeData;
  if (body.nonce !== undefined && body.nonce !== null) {
    // Microsoft's sidecar sends a random uint64 as a JSON number.
    if ((typeof body.nonce !== 'string' && typeof body.nonce !== 'number') || String(body.nonce).length > MAX_NONCE_LENGTH) {
      throw new InvalidRequest('nonce must be a string or number', { field: 'nonce' });
    }
    request.nonce = String(body.nonce);
  }
  return request;
}
