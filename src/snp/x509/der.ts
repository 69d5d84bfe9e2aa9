import { CertificateMalformed } from '../../errors';

/**
 * A small DER reader: enough to walk an X.509 certificate to its extensions, which
 * node:crypto does not expose. Definite lengths only, as DER requires.
 */
export interface Tlv {
  tag: number;
  /** The content octets. */
  value: Buffer;
  /** The whole encoding, header included. */
  raw: Buffer;
}

export const TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Reads one TLV at `offset`; returns it and the offset after it. */
export function readTlv(buf: Buffer, offset = 0): { tlv: Tlv; next: number } {
  if (offset + 2 > buf.length) throw new CertificateMalformed('DER value truncated');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new CertificateMalformed('DER multi-byte tags are not used in certificates');
  let length = buf[offset + 1]!;
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new CertificateMalformed('DER length form not allowed');
    if (offset + 2 + count > buf.length) throw new CertificateMalformed('DER length truncated');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[offset + 2 + i]!;
    header += count;
  }
  const end = offset + header + length;
  if (end > buf.length) throw new CertificateMalformed('DER value runs past its container');
  return { tlv: { tag, value: buf.subarray(offset + header, end), raw: buf.subarray(offset, end) }, next: end };
}

/** Reads exactly one TLV spanning the whole buffer. */
export function readSingle(buf: Buffer): Tlv {
  const { tlv, next } = readTlv(buf, 0);
  if (next !== buf.length) throw new CertificateMalformed('trailing bytes after DER value');
  return tlv;
}

/** The children of a constructed value. */
export function children(tlv: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = 0; at < tlv.value.length;) {
    const { tlv: child, next } = readTlv(tlv.value, at);
    out.push(child);
    at = next;
  }
  return out;
}

export function expectTag(tlv: Tlv, tag: number, what: string): Tlv {
  if (tlv.tag !== tag) throw new CertificateMalformed(`${what}: expected tag 0x${tag.toString(16)}, got 0x${tlv.tag.toString(16)}`);
  return tlv;
}

export function decodeOid(value: Buffer): string {
  if (value.length === 0) throw new CertificateMalformed('empty OID');
  const arcs: number[] = [];
  let acc = 0;
  for (const byte of value) {
    acc = acc * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(acc);
      acc = 0;
    }
  }
  const first = arcs.shift()!;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...arcs].join('.');
}

/** A non-negative INTEGER that fits a JS number (the SPL values). */
export function decodeSmallInteger(tlv: Tlv): number {
  expectTag(tlv, TAG.INTEGER, 'INTEGER');
  if (tlv.value.length === 0 || tlv.value.length > 6) throw new CertificateMalformed('INTEGER out of range');
  if (tlv.value[0]! & 0x80) throw new CertificateMalformed('negative INTEGER where a count was expected');
  return tlv.value.reduce((acc, b) => acc * 256 + b, 0);
}
