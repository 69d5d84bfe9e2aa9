import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InvalidArgument } from '../errors';
import { isProduct, isVmpl, MAX_VMPL, type Product } from '../snp';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Strict flag parsing: unknown flags and stray positionals are usage errors. */
export function parseFlags<T extends Options>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new InvalidArgument(error instanceof Error ? error.message : String(error));
  }
}

export function required<T>(value: T | undefined, flag: string): T {
  if (value === undefined) throw new InvalidArgument(`--${flag} is required`);
  return value;
}

export async function readInputFile(path: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new InvalidArgument(`--${flag} ${path}: ${reason}`, { flag, path });
  }
}

export function parseHex(value: string, flag: string, bytes?: number): Buffer {
  const clean = value.startsWith('0x') ? value.slice(2) : value;
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(clean) || (bytes !== undefined && clean.length !== bytes * 2)) {
    throw new InvalidArgument(`--${flag} must be ${bytes !== undefined ? `${bytes} bytes of ` : ''}hex`, { flag });
  }
  return Buffer.from(clean, 'hex');
}

export function parseInteger(value: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new InvalidArgument(`--${flag} must be an integer ${min}..${max}`, { flag });
  }
  return Number(value);
}

/** `--vmpl N`, checked as every report request's VMPL is. */
export function parseVmpl(value: string): number {
  const vmpl = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!isVmpl(vmpl)) throw new InvalidArgument(`--vmpl must be an integer 0..${MAX_VMPL}`, { flag: 'vmpl' });
  return vmpl;
}

export function parseProduct(value: string | undefined): Product | undefined {
  if (value === undefined) return undefined;
  if (!isProduct(value)) throw new InvalidArgument('--product must be Milan, Genoa or Turin', { flag: 'product' });
  return value;
}

export function parseInstant(value: string | undefined, flag: string): Date {
  if (value === undefined) return new Date();
  const at = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(at.getTime())) throw new InvalidArgument(`--${flag} must be an ISO 8601 time`, { flag });
  return at;
}
