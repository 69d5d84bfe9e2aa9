import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeAttestRequest } from '../../src/maa/request';
import { openVirtualDevice, type VirtualDevice } from '../../src/snp/device/virtual';
import type { VirtualPkiOptions } from '../../src/snp/virtual';
import { uvmIssuer, type UvmIssuer } from '../../src/maa/uvm';

/** A virtual SEV-SNP guest in a fresh state directory, and MAA request bodies built from it. */
export async function virtualGuest(options: VirtualPkiOptions = {}): Promise<VirtualDevice> {
  return openVirtualDevice(mkdtempSync(join(tmpdir(), 'skr-virtual-')), options);
}

export function chainPem(device: VirtualDevice): string {
  return device.pki.vcek.pem + device.pki.ask.pem + device.pki.ark.pem;
}

/** The verifier-side identity of the guest's virtual UVM signer. */
export function virtualUvmIssuerOf(device: VirtualDevice): UvmIssuer {
  return uvmIssuer(device.pki.uvm.issuer.did, device.pki.uvm.issuer.feed);
}

/** The body carries the guest's UVM endorsement, as the sidecar sends it, unless `uvm` says otherwise. */
export async function attestBody(device: VirtualDevice, runtime: unknown, extra: { vmpl?: number; chain?: string; mutate?: (report: Buffer) => void; uvm?: Buffer[] } = {}) {
  const data = Buffer.from(JSON.stringify(runtime));
  const reportData = Buffer.concat([createHash('sha256').update(data).digest(), Buffer.alloc(32)]);
  const { report } = await device.getReport({ reportData, vmpl: extra.vmpl });
  extra.mutate?.(report);
  return encodeAttestRequest({
    report,
    vcekCertChain: extra.chain ?? chainPem(device),
    uvmEndorsements: extra.uvm ?? [device.pki.uvm.endorsement],
    runtimeData: { data, dataType: 'JSON' },
  });
}
