import { hasFmc, type Product } from './product';

/** TCB_VERSION components; `fmc` exists on Turin only. */
export interface Tcb {
  fmc?: number;
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
}

export const TCB_COMPONENTS = ['fmc', 'bootloader', 'tee', 'snp', 'microcode'] as const;
export type TcbComponent = (typeof TCB_COMPONENTS)[number];

function byteAt(raw: bigint, index: number): number {
  return Number((raw >> BigInt(index * 8)) & 0xffn);
}

/** Byte positions per family, in memory order (little-endian u64). */
function positions(product: Product): Record<TcbComponent, number | undefined> {
  return hasFmc(product) ? { fmc: 0, bootloader: 1, tee: 2, snp: 3, microcode: 7 } : { fmc: undefined, bootloader: 0, tee: 1, snp: 6, microcode: 7 };
}

/** Decodes a raw TCB_VERSION with the layout of the product; never guessed from the value. */
export function decodeTcb(raw: bigint, product: Product): Tcb {
  const at = positions(product);
  const tcb: Tcb = {
    bootloader: byteAt(raw, at.bootloader!),
    tee: byteAt(raw, at.tee!),
    snp: byteAt(raw, at.snp!),
    microcode: byteAt(raw, at.microcode!),
  };
  if (at.fmc !== undefined) tcb.fmc = byteAt(raw, at.fmc);
  return tcb;
}

export function encodeTcb(tcb: Tcb, product: Product): bigint {
  const at = positions(product);
  let raw = 0n;
  for (const component of TCB_COMPONENTS) {
    const index = at[component];
    if (index === undefined) continue;
    const value = tcb[component] ?? 0;
    if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new RangeError(`TCB ${component} must be 0..255, got ${value}`);
    raw |= BigInt(value) << BigInt(index * 8);
  }
  return raw;
}

/** Components of `actual` below `minimum` (component-wise, never as integers); empty when none. */
export function tcbShortfall(actual: Tcb, minimum: Partial<Tcb>): TcbComponent[] {
  return TCB_COMPONENTS.filter((c) => minimum[c] !== undefined && (actual[c] ?? 0) < (minimum[c] as number));
}

export function tcbEqual(a: Tcb, b: Tcb): boolean {
  return TCB_COMPONENTS.every((c) => (a[c] ?? 0) === (b[c] ?? 0));
}
