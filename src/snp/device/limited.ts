import { Semaphore } from '../../lib/semaphore';
import type { DeviceReport, ReportDevice, ReportRequest } from './types';

/**
 * At most `limit` report requests at the device at once; the rest queue in arrival order. Put
 * under CoalescingDevice, so a burst of identical requests takes one place here, not one each.
 */
export class LimitedDevice implements ReportDevice {
  readonly name;
  readonly path;
  readonly virtual;
  private readonly gate: Semaphore;

  constructor(
    private readonly device: ReportDevice,
    limit: number,
  ) {
    this.name = device.name;
    this.path = device.path;
    this.virtual = device.virtual;
    this.gate = new Semaphore(limit);
  }

  getReport(request: ReportRequest): Promise<DeviceReport> {
    return this.gate.run(() => this.device.getReport(request));
  }

  close(): Promise<void> {
    return this.device.close();
  }
}
