import { SharedNextCall } from '../../lib/shared-next-call';
import { checkReportRequest } from './request';
import type { DeviceReport, ReportDevice, ReportRequest } from './types';

/**
 * Requests for the same report (REPORT_DATA, VMPL, with or without the certificate table) that
 * arrive while one is being made wait for the next one and share it (SharedNextCall). Each
 * caller's report is still made after its request arrived, as its own would have been; a report
 * holds nothing per call (no nonce, no time) but its randomised signature, so sharing changes no
 * field a verifier checks. Devices take one request at a time (the PSP serialises guest
 * requests), so a burst of N identical requests costs two reports instead of N queued ones.
 */
export class CoalescingDevice implements ReportDevice {
  readonly name;
  readonly path;
  readonly virtual;
  private readonly shared = new SharedNextCall<DeviceReport>(copyOf);

  constructor(private readonly device: ReportDevice) {
    this.name = device.name;
    this.path = device.path;
    this.virtual = device.virtual;
  }

  async getReport(request: ReportRequest): Promise<DeviceReport> {
    checkReportRequest(request.reportData, request.vmpl);
    // The caller's buffer may change once it has its answer; a shared request keeps its own.
    const own = { ...request, reportData: Buffer.from(request.reportData) };
    return this.shared.call(flightKey(own), () => this.device.getReport(own));
  }

  close(): Promise<void> {
    return this.device.close();
  }
}

function flightKey({ reportData, vmpl, withCerts }: ReportRequest): string {
  return `${vmpl ?? '-'}:${withCerts === true ? 'c' : '-'}:${Buffer.from(reportData.buffer, reportData.byteOffset, reportData.byteLength).toString('hex')}`;
}

/** Every caller gets buffers of its own. */
function copyOf(result: DeviceReport): DeviceReport {
  return result.certTable ? { report: Buffer.from(result.report), certTable: Buffer.from(result.certTable) } : { report: Buffer.from(result.report) };
}
