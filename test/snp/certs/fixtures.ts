import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { productFromCpuid, type Product } from '../../../src/snp/abi/product';
import { parseReport, SigningKey } from '../../../src/snp/abi/report';
import { decodeTcb } from '../../../src/snp/abi/tcb';
import type { VekRequest } from '../../../src/snp/verify';

export const FIXTURES = join(__dirname, '../../fixtures');

export function fixture(id: string, file: string): Buffer {
  return readFileSync(join(FIXTURES, 'snp', id, file));
}

export function amdRootFile(file: string): string {
  return readFileSync(join(FIXTURES, 'amd-roots', file), 'latin1');
}

/** The VekRequest verifyReport would make for a genuine vector (v2 reports need the product named). */
export function vector(id: string, v2Product?: Product): { report: Buffer; vek: Buffer; request: VekRequest } {
  const report = fixture(id, 'report.bin');
  const parsed = parseReport(report);
  const product = parsed.cpuid ? productFromCpuid(parsed.cpuid) : v2Product!;
  return {
    report,
    vek: fixture(id, 'vek.der'),
    request: {
      product,
      kind: parsed.signerInfo.signingKey === SigningKey.VLEK ? 'VLEK' : 'VCEK',
      chipId: parsed.chipId,
      reportedTcb: decodeTcb(parsed.reportedTcb, product),
    },
  };
}
