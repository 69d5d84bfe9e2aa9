import { ProductUnknown } from '../../errors';

/** AMD product lines with their own ARK, and their own TCB layout (Turin onward). */
export const PRODUCTS = ['Milan', 'Genoa', 'Turin'] as const;
export type Product = (typeof PRODUCTS)[number];

export interface Cpuid {
  family: number;
  model: number;
  stepping: number;
}

export function isProduct(value: string): value is Product {
  return (PRODUCTS as readonly string[]).includes(value);
}

/** Product line from the CPUID bytes of a v3+ report (AMD family/model ranges). */
export function productFromCpuid(cpuid: Cpuid): Product {
  const { family, model } = cpuid;
  if (family === 0x19 && model <= 0x0f) return 'Milan';
  // Bergamo and Siena parts (0xA0–0xAF) use the Genoa KDS path and ARK.
  if (family === 0x19 && ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf))) return 'Genoa';
  if (family === 0x1a && model <= 0x11) return 'Turin';
  throw new ProductUnknown(`CPUID family 0x${family.toString(16)} model 0x${model.toString(16)} is not a known SEV-SNP product`, {
    family,
    model,
  });
}

/**
 * Product line from a VEK productName extension: "Milan-B0" and "Genoa" carry a stepping
 * suffix or not; only the part before the dash names the line.
 */
export function productFromName(name: string): Product {
  const line = name.split('-')[0];
  if (line !== undefined && isProduct(line)) return line;
  throw new ProductUnknown(`productName "${name}" is not a known SEV-SNP product`, { productName: name });
}

/** Turin and later put FMC first and shift the other components (SNP firmware ABI 56860, TCB_VERSION). */
export function hasFmc(product: Product): boolean {
  return product === 'Turin';
}
