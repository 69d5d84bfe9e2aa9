import { InvalidArgument } from '../../errors';
import type { BytesInput } from './types';

/** A fixed-size byte field from a Buffer or a hex string; anything else is the caller's error. */
export function toBytes(field: string, value: BytesInput, size: number): Buffer {
  let bytes: Buffer;
  if (typeof value === 'string') {
    const hex = value.startsWith('0x') ? value.slice(2) : value;
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new InvalidArgument(`${field} is not hex`, { field });
    bytes = Buffer.from(hex, 'hex');
  } else {
    bytes = Buffer.from(value);
  }
  if (bytes.length !== size) throw new InvalidArgument(`${field} must be ${size} bytes, got ${bytes.length}`, { field, expected: size, actual: bytes.length });
  return bytes;
}

export function checkUint(field: string, value: number | bigint, bits: 8 | 32 | 64): void {
  const ok = typeof value === 'bigint' ? value >= 0n && value < 1n << BigInt(bits) : Number.isInteger(value) && value >= 0 && value < 2 ** bits;
  if (!ok) throw new InvalidArgument(`${field} must be an unsigned ${bits}-bit integer, got ${String(value)}`, { field, actual: String(value) });
}
