import { CborMalformed } from '../../errors';

/**
 * A strict decoder for the CBOR (RFC 8949) that COSE documents use: definite lengths only,
 * every byte consumed, text checked as UTF-8, bounded nesting. Integers beyond 2^53 come back
 * as bigint; maps as Map so integer and text labels stay apart.
 */
export type CborValue = number | bigint | string | boolean | null | undefined | Buffer | CborValue[] | Map<CborValue, CborValue> | CborTagged;

export interface CborTagged {
  tag: number | bigint;
  value: CborValue;
}

export function isCborTagged(value: unknown): value is CborTagged {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Map) && !Buffer.isBuffer(value) && 'tag' in value;
}

/** COSE headers nest three or four levels; anything far deeper is hostile. */
const MAX_DEPTH = 16;
const utf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  offset = 0;
  constructor(private readonly bytes: Buffer) {}

  take(length: number): Buffer {
    if (length > this.bytes.length - this.offset) throw new CborMalformed(`a CBOR item runs past the end (needs ${length} bytes at ${this.offset})`);
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  byte(): number {
    return this.take(1)[0]!;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }
}

/** The argument of a head: the count, length, value or tag number (RFC 8949 §3). */
function argument(reader: Reader, info: number): number | bigint {
  if (info < 24) return info;
  if (info === 24) return reader.byte();
  if (info === 25) return reader.take(2).readUInt16BE();
  if (info === 26) return reader.take(4).readUInt32BE();
  if (info === 27) {
    const big = reader.take(8).readBigUInt64BE();
    return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  if (info === 31) throw new CborMalformed('indefinite-length CBOR items are not accepted');
  throw new CborMalformed(`reserved CBOR additional information ${info}`);
}

/** A length or count: it must fit in what is left (each element takes at least one byte). */
function lengthOf(reader: Reader, info: number): number {
  const n = argument(reader, info);
  if (typeof n === 'bigint' || n > reader.remaining) throw new CborMalformed('a CBOR length exceeds the input');
  return n;
}

function halfFloat(bits: number): number {
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  const sign = bits & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function item(reader: Reader, depth: number): CborValue {
  if (depth > MAX_DEPTH) throw new CborMalformed('CBOR nests too deeply');
  const head = reader.byte();
  const major = head >> 5;
  const info = head & 0x1f;
  switch (major) {
    case 0:
      return argument(reader, info);
    case 1: {
      const n = argument(reader, info);
      const value = -1n - BigInt(n);
      return value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value;
    }
    case 2:
      return Buffer.from(reader.take(lengthOf(reader, info)));
    case 3:
      try {
        return utf8.decode(reader.take(lengthOf(reader, info)));
      } catch (error) {
        if (error instanceof CborMalformed) throw error;
        throw new CborMalformed('a CBOR text string is not UTF-8');
      }
    case 4: {
      const count = lengthOf(reader, info);
      const out: CborValue[] = [];
      for (let i = 0; i < count; i++) out.push(item(reader, depth + 1));
      return out;
    }
    case 5: {
      const count = lengthOf(reader, info);
      const out = new Map<CborValue, CborValue>();
      for (let i = 0; i < count; i++) {
        const key = item(reader, depth + 1);
        if (typeof key !== 'number' && typeof key !== 'string' && typeof key !== 'bigint') throw new CborMalformed('a CBOR map key is neither an integer nor text');
        if (out.has(key)) throw new CborMalformed(`a CBOR map repeats the key ${String(key)}`);
        out.set(key, item(reader, depth + 1));
      }
      return out;
    }
    case 6:
      return { tag: argument(reader, info), value: item(reader, depth + 1) };
    default: {
      if (info === 20) return false;
      if (info === 21) return true;
      if (info === 22) return null;
      if (info === 23) return undefined;
      if (info === 25) return halfFloat(reader.take(2).readUInt16BE());
      if (info === 26) return reader.take(4).readFloatBE();
      if (info === 27) return reader.take(8).readDoubleBE();
      throw new CborMalformed(`unsupported CBOR simple value ${info}`);
    }
  }
}

/** Decodes exactly one CBOR item that fills `bytes`. */
export function decodeCbor(bytes: Uint8Array): CborValue {
  const reader = new Reader(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const value = item(reader, 0);
  if (reader.remaining !== 0) throw new CborMalformed(`${reader.remaining} bytes follow the CBOR item`);
  return value;
}
