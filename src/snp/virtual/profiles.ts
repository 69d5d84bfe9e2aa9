import type { Cpuid, Product } from '../abi/product';
import type { FirmwareVersion } from '../abi/report';
import type { Tcb } from '../abi/tcb';
import type { DistinguishedName } from '../x509/cert-builder';

/**
 * What distinguishes the product lines in the evidence, with defaults taken from genuine
 * reports (the vectors in test/fixtures/snp): the virtual device should look like a
 * current machine of the chosen line, so the real verifier runs on it unchanged.
 */
export interface ProductProfile {
  product: Product;
  /** The VCEK productName extension. */
  productName: string;
  structVersion: number;
  cpuid: Cpuid;
  /** Significant CHIP_ID bytes (and hwID length): 8 on Turin, 64 before. */
  chipIdLength: number;
  tcb: Tcb;
  firmware: FirmwareVersion;
  platformInfo: bigint;
}

export const PRODUCT_PROFILES: Record<Product, ProductProfile> = {
  Milan: {
    product: 'Milan',
    productName: 'Milan-B0',
    structVersion: 0,
    cpuid: { family: 0x19, model: 0x01, stepping: 1 },
    chipIdLength: 64,
    tcb: { bootloader: 4, tee: 0, snp: 24, microcode: 219 },
    firmware: { major: 1, minor: 55, build: 35 },
    platformInfo: 0x25n,
  },
  Genoa: {
    product: 'Genoa',
    productName: 'Genoa',
    structVersion: 0,
    cpuid: { family: 0x19, model: 0x11, stepping: 1 },
    chipIdLength: 64,
    tcb: { bootloader: 10, tee: 0, snp: 25, microcode: 84 },
    firmware: { major: 1, minor: 55, build: 43 },
    platformInfo: 0x25n,
  },
  Turin: {
    product: 'Turin',
    productName: 'Turin',
    structVersion: 1,
    cpuid: { family: 0x1a, model: 0x02, stepping: 1 },
    chipIdLength: 8,
    tcb: { fmc: 0, bootloader: 1, tee: 0, snp: 2, microcode: 71 },
    firmware: { major: 1, minor: 55, build: 61 },
    platformInfo: 0x67n,
  },
};

/** AMD's subject/issuer shape: OU, C, L, ST, O, then the CN. */
export function amdName(commonName: string): DistinguishedName {
  return [
    ['OU', 'Engineering'],
    ['C', 'US'],
    ['L', 'Santa Clara'],
    ['ST', 'CA'],
    ['O', 'Advanced Micro Devices'],
    ['CN', commonName],
  ];
}
