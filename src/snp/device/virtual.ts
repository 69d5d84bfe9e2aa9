import { loadOrCreateVirtualPki } from '../virtual/pki';
import { buildReport, reportSpecFromConfig, type ReportSpec } from '../virtual/report-builder';
import { signReport } from '../virtual/signer';
import type { VirtualPki, VirtualPkiOptions } from '../virtual/types';
import { checkReportRequest } from './request';
import type { DeviceReport, ReportDevice, ReportRequest } from './types';

/**
 * A simulated SEV-SNP guest device: reports in the genuine format, signed by the virtual
 * VCEK, so the real verifier checks them — and accepts them only where the virtual ARK is
 * configured as a trusted root. Never chosen implicitly: a missing TEE is an error, not a fake report.
 */
export class VirtualDevice implements ReportDevice {
  readonly name = 'virtual' as const;
  readonly virtual = true;
  readonly path: string;
  readonly pki: VirtualPki;
  private readonly spec: ReportSpec;

  constructor(pki: VirtualPki) {
    this.pki = pki;
    this.path = pki.stateDir;
    this.spec = reportSpecFromConfig(pki.config);
  }

  /**
   * Checks the request as the firmware would (0x16 invalid parameter), with the guest's own
   * VMPL as the most privileged one it may ask for.
   */
  async getReport(request: ReportRequest): Promise<DeviceReport> {
    const { reportData, withCerts } = request ?? ({} as ReportRequest);
    const floor = this.pki.config.guest.vmpl;
    checkReportRequest(reportData, request?.vmpl, floor);
    const vmpl = request.vmpl ?? floor;
    const report = await signReport(buildReport({ ...this.spec, reportData, vmpl }), this.pki.vcek.key);
    return withCerts ? { report, certTable: Buffer.from(this.pki.certTable) } : { report };
  }

  /** Nothing to release: the keys are plain in-memory objects and no descriptor is open. */
  async close(): Promise<void> {}
}

/** Opens (creating when absent) the virtual device kept in `stateDir`; options as `loadOrCreateVirtualPki`. */
export async function openVirtualDevice(stateDir: string, options: VirtualPkiOptions = {}): Promise<VirtualDevice> {
  return new VirtualDevice(await loadOrCreateVirtualPki(stateDir, options));
}
