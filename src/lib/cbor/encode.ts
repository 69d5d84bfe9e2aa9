import { InvalidArgument } from '../../errors';
import type { CborValue } from './decode';

/**
 * Encodes the CBOR COSE needs (RFC 8949 §4.2.1 preferred serialisation: shortest heads,
 * definite lengths): integers, byte and text strings, arrays, maps in the order given, tags,
 * booleans and null. Floats are not needed and refused.
 */
function head(major: number, value: number | bigint): Buffer {
  const n = BigInt(value);
  if (n < 0n || n > 0xffff_ffff_ffff_ffffn) throw new InvalidArgument('CBOR argument out of range');
  const top = major << 5;
  if (n < 24n) return Buffer.from([top | Number(n)]);
  if (n <= 0xffn) return Buffer.from([top | 24, Number(n)]);
  if (n <= 0xffffn) {
    const out = Buffer.alloc(3);
    out[0] = top | 25;
    out.writeUInt16BE(Number(n), 1);
    return out;
  }
  if (n <= 0xffff_ffffn) {
    const out = Buffer.alloc(5);
    out[0] = top | 26;
    out.writeUInt32BE(Number(n), 1);
    return out;
  }
  const out = Buffer.alloc(9);
  out[0] = top | 27;
  out.writeBigUInt64BE(n, 1);
  return out;
}

export function encodeCbor(value: CborValue): Buffer {
  if (typeof value === 'number' || typeof value === 'bigint') {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new InvalidArgument('CBOR numbers here are safe integers');
    const n = BigInt(value);
    return n >= 0n ? head(0, n) : head(1, -1n - n);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  if (value === false) return Buffer.from([0xf4]);
  if (value === true) return Buffer.from([0xf5]);
  if (value === null) return Buffer.from([0xf6]);
  if (value === undefined) throw new InvalidArgument('CBOR undefined is not encoded here');
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(encodeCbor)]);
  if (value instanceof Map) {
    const parts: Buffer[] = [head(5, value.size)];
    for (const [k, v] of value) parts.push(encodeCbor(k), encodeCbor(v));
    return Buffer.concat(parts);
  }
  return Buffer.concat([head(6, value.tag), encodeCbor(value.value)]);
}
