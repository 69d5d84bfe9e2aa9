import { TAG } from './der';

/**
 * A small DER writer: the counterpart of `der.ts`, enough to assemble X.509 certificates in
 * AMD's shape, which node:crypto cannot mint. Every function returns one complete TLV.
 */

/** Not in the reader's table: certificates it walks never need to decode a BOOLEAN. */
const BOOLEAN = 0x01;

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function derTlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

export function derSequence(...items: Buffer[]): Buffer {
  return derTlv(TAG.SEQUENCE, Buffer.concat(items));
}

/** SET OF: DER orders the elements by their encodings. */
export function derSet(...items: Buffer[]): Buffer {
  return derTlv(TAG.SET, Buffer.concat([...items].sort(Buffer.compare)));
}

/**
 * INTEGER from a number, a bigint (two's complement, so negatives work) or a Buffer read as
 * an unsigned big-endian magnitude (serials, RSA-sized values).
 */
export function derInteger(value: number | bigint | Uint8Array): Buffer {
  if (value instanceof Uint8Array) {
    let start = 0;
    while (start < value.length - 1 && value[start] === 0) start++;
    const magnitude = value.length === 0 ? Buffer.from([0]) : Buffer.from(value.subarray(start));
    return derTlv(TAG.INTEGER, magnitude[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), magnitude]) : magnitude);
  }
  if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new RangeError(`INTEGER ${value} is not a safe integer`);
  let n = BigInt(value);
  const bytes: number[] = [];
  // Emit little-endian bytes until the remainder is pure sign extension of the top byte.
  for (;;) {
    const byte = Number(n & 0xffn);
    bytes.unshift(byte);
    n >>= 8n;
    if ((n === 0n && (byte & 0x80) === 0) || (n === -1n && (byte & 0x80) !== 0)) break;
  }
  return derTlv(TAG.INTEGER, Buffer.from(bytes));
}

export function derOid(oid: string): Buffer {
  const arcs = oid.split('.').map((arc) => {
    if (!/^\d+$/.test(arc)) throw new RangeError(`malformed OID ${oid}`);
    return BigInt(arc);
  });
  if (arcs.length < 2 || arcs[0]! > 2n || (arcs[0]! < 2n && arcs[1]! >= 40n)) throw new RangeError(`malformed OID ${oid}`);
  const out: number[] = [];
  for (const arc of [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)]) {
    const group: number[] = [Number(arc & 0x7fn)];
    for (let rest = arc >> 7n; rest > 0n; rest >>= 7n) group.unshift(Number(rest & 0x7fn) | 0x80);
    out.push(...group);
  }
  return derTlv(TAG.OID, Buffer.from(out));
}

export function derIa5String(text: string): Buffer {
  // eslint-disable-next-line no-control-regex -- IA5String is all of ASCII, control characters included
  if (!/^[\x00-\x7f]*$/.test(text)) throw new RangeError('IA5String holds ASCII only');
  return derTlv(TAG.IA5_STRING, Buffer.from(text, 'latin1'));
}

export function derPrintableString(text: string): Buffer {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text)) throw new RangeError(`"${text}" is not a PrintableString`);
  return derTlv(TAG.PRINTABLE_STRING, Buffer.from(text, 'latin1'));
}

export function derUtf8String(text: string): Buffer {
  return derTlv(TAG.UTF8_STRING, Buffer.from(text, 'utf8'));
}

function timeDigits(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('invalid date');
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}Z`;
}

/** UTCTime (YYMMDDHHMMSSZ, seconds precision: sub-second parts are dropped). */
export function derUtcTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 2049) throw new RangeError(`UTCTime covers 1950–2049, not ${year}`);
  return derTlv(TAG.UTC_TIME, Buffer.from(`${String(year % 100).padStart(2, '0')}${timeDigits(date)}`, 'latin1'));
}

export function derGeneralizedTime(date: Date): Buffer {
  return derTlv(TAG.GENERALIZED_TIME, Buffer.from(`${String(date.getUTCFullYear()).padStart(4, '0')}${timeDigits(date)}`, 'latin1'));
}

/** X.509 Time: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
export function derTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  return year >= 1950 && year <= 2049 ? derUtcTime(date) : derGeneralizedTime(date);
}

export function derBitString(bytes: Uint8Array, unusedBits = 0): Buffer {
  if (unusedBits < 0 || unusedBits > 7 || (bytes.length === 0 && unusedBits !== 0)) throw new RangeError('BIT STRING unused bits out of range');
  return derTlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

export function derOctetString(bytes: Uint8Array): Buffer {
  return derTlv(TAG.OCTET_STRING, bytes);
}

export function derNull(): Buffer {
  return Buffer.from([TAG.NULL, 0]);
}

export function derBoolean(value: boolean): Buffer {
  return derTlv(BOOLEAN, Buffer.from([value ? 0xff : 0]));
}

/**
 * A context-specific tag [n]: `explicit` wraps one complete TLV (constructed); implicit
 * replaces the tag of `inner`, keeping its constructed bit.
 */
export function derContext(n: number, inner: Buffer, mode: 'explicit' | 'implicit' = 'explicit'): Buffer {
  if (n < 0 || n > 30) throw new RangeError('context tag number must be 0..30');
  if (mode === 'explicit') return derTlv(0xa0 | n, inner);
  const out = Buffer.from(inner);
  out[0] = 0x80 | (inner[0]! & 0x20) | n;
  return out;
}
