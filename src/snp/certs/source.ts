import type { Tcb } from '../abi/tcb';
import type { VekRequest } from '../verify';
import type { VekCertificate } from '../x509/vek';

export type CertSourceName = 'cert-table' | 'security-context' | 'thim' | 'kds';

/** A VEK and the certificates above it (ASK/ASVK, ARK), all DER. */
export interface VekBundle {
  vek: Buffer;
  chain: Buffer[];
}

/**
 * One place a VEK can come from. `get` rejects with a message saying why this source has
 * nothing for the request; the fetcher collects those reasons into its final error.
 */
export interface VekSource {
  readonly name: CertSourceName;
  get(request: VekRequest): Promise<VekBundle>;
}

function formatTcb(tcb: Partial<Tcb>): string {
  const parts = [`bl=${tcb.bootloader}`, `tee=${tcb.tee}`, `snp=${tcb.snp}`, `ucode=${tcb.microcode}`];
  if (tcb.fmc !== undefined) parts.push(`fmc=${tcb.fmc}`);
  return parts.join(' ');
}

/** The bytes of CHIP_ID a VCEK's hwID binds: all 64, or the first 8 on Turin. */
export function hwIdOf(request: VekRequest): Buffer {
  return request.chipId.subarray(0, request.product === 'Turin' ? 8 : 64);
}

/**
 * Why `vek` is not the certificate for `request`, or undefined when it is. Every source's
 * answer and every cache entry passes through this: a VCEK is per chip and per TCB, and a
 * host's THIM copy or an old cache file may be for another TCB.
 */
export function vekMismatch(vek: VekCertificate, request: VekRequest): string | undefined {
  if (vek.kind !== request.kind) return `it holds a ${vek.kind}, not a ${request.kind}`;
  if (vek.product !== request.product) return `its certificate is for ${vek.product}, not ${request.product}`;
  const wanted = request.reportedTcb;
  const differs =
    vek.tcb.bootloader !== wanted.bootloader ||
    vek.tcb.tee !== wanted.tee ||
    vek.tcb.snp !== wanted.snp ||
    vek.tcb.microcode !== wanted.microcode ||
    (wanted.fmc !== undefined && vek.tcb.fmc !== wanted.fmc);
  if (differs) return `its ${vek.kind} is for TCB ${formatTcb(vek.tcb)}, not the reported ${formatTcb(wanted)}`;
  if (vek.kind === 'VCEK' && !(vek.hwId && vek.hwId.equals(hwIdOf(request)))) return 'its VCEK is for another chip';
  return undefined;
}
