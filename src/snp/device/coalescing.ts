import { checkReportRequest } from './request';
import type { DeviceReport, ReportDevice, ReportRequest } from './types';

/**
 * Requests for the same report (REPORT_DATA, VMPL, with or without the certificate table) that
 * arrive while one is being made wait for the next one and share it. Each caller's report is
 * still made after its request arrived, as its own would have been; a report holds nothing per
 * call (no nonce, no time) but its randomised signature, so sharing changes no field a verifier
 * checks. Devices take one request at a time (the PSP serialises guest requests), so a burst of
 * N identical requests costs two reports instead of N queued ones.
 */
export class CoalescingDevice implements ReportDevice {
  readonly name;
  readonly path;
  readonly virtual;
  private readonly flights = new Map<string, Flight>();

  constructor(private readonly device: ReportDevice) {
    this.name = device.name;
    this.path = device.path;
    this.virtual = device.virtual;
  }

  async getReport(request: ReportRequest): Promise<DeviceReport> {
    checkReportRequest(request.reportData, request.vmpl);
    const key = flightKey(request);
    const flight = this.flights.get(key);
    if (!flight) return copyOf(await this.start(key, request));
    flight.next ??= new Promise<DeviceReport>((resolve, reject) => {
      // The caller's buffer may change once it has its answer; the shared request keeps its own.
      const own = { ...request, reportData: Buffer.from(request.reportData) };
      flight.startNext = () => this.start(key, own).then(resolve, reject);
    });
    return copyOf(await flight.next);
  }

  close(): Promise<void> {
    return this.device.close();
  }

  /** Makes a report for `key`; when it is done, the requests that arrived meanwhile get the next one. */
  private start(key: string, request: ReportRequest): Promise<DeviceReport> {
    const flight: Flight = {};
    this.flights.set(key, flight);
    const running = this.device.getReport(request);
    const settled = () => {
      if (flight.startNext) void flight.startNext();
      else this.flights.delete(key);
    };
    running.then(settled, settled);
    return running;
  }
}

interface Flight {
  /** The report the requests that arrived during this one will share. */
  next?: Promise<DeviceReport>;
  startNext?: () => Promise<void>;
}

function flightKey({ reportData, vmpl, withCerts }: ReportRequest): string {
  return `${vmpl ?? '-'}:${withCerts === true ? 'c' : '-'}:${Buffer.from(reportData.buffer, reportData.byteOffset, reportData.byteLength).toString('hex')}`;
}

/** Every caller gets buffers of its own. */
function copyOf(result: DeviceReport): DeviceReport {
  return result.certTable ? { report: Buffer.from(result.report), certTable: Buffer.from(result.certTable) } : { report: Buffer.from(result.report) };
}
