import { SevDeviceNode, type DeviceNodeOptions } from '../native';
import { checkReportRequest } from './request';
import type { DeviceReport, ReportDevice, ReportRequest } from './types';

/**
 * The pre-upstream Linux 5.15 driver of Azure Container Instances: /dev/sev with
 * SEV_SNP_GUEST_MSG_REPORT. It has no extended report, so `withCerts`
 * yields the report alone; the certificates come from the other sources (THIM, KDS).
 */
export const DEFAULT_SEV_PATH = '/dev/sev';

export class SevLegacyDevice implements ReportDevice {
  readonly name = 'sev' as const;
  readonly virtual = false;
  readonly path: string;

  constructor(private readonly node: SevDeviceNode) {
    this.path = node.path;
  }

  async getReport(request: ReportRequest): Promise<DeviceReport> {
    checkReportRequest(request.reportData, request.vmpl);
    // Copied now: the request may wait in the queue while the caller reuses its buffer.
    return { report: await this.node.getLegacyReport(Buffer.from(request.reportData), request.vmpl ?? 0) };
  }

  close(): Promise<void> {
    return this.node.close();
  }
}

/** Opens /dev/sev (or `path`) now; fails with no_tee_device when it is absent. */
export async function openSevLegacy(path = DEFAULT_SEV_PATH, options: DeviceNodeOptions = {}): Promise<SevLegacyDevice> {
  return new SevLegacyDevice(await SevDeviceNode.open(path, options));
}
