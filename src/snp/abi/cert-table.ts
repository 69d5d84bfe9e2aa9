import { EvidenceMalformed } from '../../errors';

/**
 * The GHCB extended-report certificate table (GHCB 56421 §4.1.8.1): 24-byte entries
 * {GUID[16], offset u32, length u32} ended by an all-zero entry, then the blobs. Offsets count
 * from the table start. GUID bytes are in RFC 4122 order (the string's hex left to right).
 */
export const CERT_GUIDS = {
  ark: 'c0b406a4-a803-4952-9743-3fb6014cd0ae',
  /** Also carries the ASVK when the signer is a VLEK. */
  ask: '4ab7b379-bbac-4fe4-a02f-05aef327c782',
  vcek: '63da758d-e664-4564-adc5-f4b93be8accd',
  vlek: 'a8074bc2-a25a-483e-aae6-39c045a0b8a1',
  crl: '92f81bc3-5811-4d3d-97ff-d19f88dc67ea',
} as const;

export interface CertTableEntry {
  guid: string;
  data: Buffer;
}

const ENTRY_SIZE = 24;
const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function guidToString(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function guidToBytes(guid: string): Buffer {
  const lower = guid.toLowerCase();
  if (!GUID_PATTERN.test(lower)) throw new RangeError(`not a GUID: ${guid}`);
  return Buffer.from(lower.replace(/-/g, ''), 'hex');
}

/** Decodes a certificate table; an empty buffer (host supplied nothing) is an empty table. */
export function parseCertTable(bytes: Uint8Array): CertTableEntry[] {
  const buf = Buffer.from(bytes);
  const entries: CertTableEntry[] = [];
  if (buf.length === 0) return entries;
  const headers: { guid: string; offset: number; length: number }[] = [];
  for (let at = 0; ; at += ENTRY_SIZE) {
    if (at + ENTRY_SIZE > buf.length) throw new EvidenceMalformed('certificate table has no terminating zero entry');
    const guid = buf.subarray(at, at + 16);
    const offset = buf.readUInt32LE(at + 16);
    const length = buf.readUInt32LE(at + 20);
    if (guid.every((b) => b === 0) && offset === 0 && length === 0) break;
    headers.push({ guid: guidToString(guid), offset, length });
  }
  const headerEnd = (headers.length + 1) * ENTRY_SIZE;
  const seen = new Set<string>();
  for (const { guid, offset, length } of headers) {
    if (offset < headerEnd || offset + length > buf.length) {
      throw new EvidenceMalformed(`certificate table entry ${guid} points outside the table`, { guid, offset, length });
    }
    if (seen.has(guid)) throw new EvidenceMalformed(`certificate table lists ${guid} twice`, { guid });
    seen.add(guid);
    entries.push({ guid, data: Buffer.from(buf.subarray(offset, offset + length)) });
  }
  return entries;
}

/** Encodes entries as a certificate table, blobs in entry order after the headers. */
export function serializeCertTable(entries: CertTableEntry[]): Buffer {
  const headerEnd = (entries.length + 1) * ENTRY_SIZE;
  const header = Buffer.alloc(headerEnd);
  let offset = headerEnd;
  entries.forEach((entry, i) => {
    guidToBytes(entry.guid).copy(header, i * ENTRY_SIZE);
    header.writeUInt32LE(offset, i * ENTRY_SIZE + 16);
    header.writeUInt32LE(entry.data.length, i * ENTRY_SIZE + 20);
    offset += entry.data.length;
  });
  return Buffer.concat([header, ...entries.map((e) => e.data)]);
}

export function findCert(entries: CertTableEntry[], guid: string): Buffer | undefined {
  return entries.find((e) => e.guid === guid.toLowerCase())?.data;
}

/** What a certificate table holds for one signer: its VEK, and the chain above it, ASK (or ASVK) then ARK. */
export interface TableCertificates {
  vek?: Buffer;
  chain: Buffer[];
}

/**
 * The one place VEK, ASK and ARK are picked out of a certificate table: the VCEK or VLEK entry
 * by the report's signer, then the ASK entry (which carries the ASVK for a VLEK) and the ARK,
 * each only when present. No table, or an empty one, holds nothing.
 */
export function certificatesOf(table: Uint8Array | undefined, signer: 'VCEK' | 'VLEK'): TableCertificates {
  const entries = table ? parseCertTable(table) : [];
  const vek = findCert(entries, signer === 'VLEK' ? CERT_GUIDS.vlek : CERT_GUIDS.vcek);
  const chain = [CERT_GUIDS.ask, CERT_GUIDS.ark].flatMap((guid) => findCert(entries, guid) ?? []);
  return vek ? { vek, chain } : { chain };
}
