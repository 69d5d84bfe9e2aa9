import { InvalidArgument, NativeAddonUnavailable, NoTeeDevice, TsmProviderUnsupported } from '../../errors';
import { DEVICE_TYPES, type DeviceChoice, type DeviceOpenOptions } from './registry';
import type { ReportDevice } from './types';

export interface OpenDeviceOptions extends DeviceOpenOptions {
  device?: DeviceChoice;
}

/** Opens a report source by name, or with `auto` the first of the registry's probes that answers. */
export async function openDevice(options: OpenDeviceOptions = {}): Promise<ReportDevice> {
  const device = options.device ?? 'auto';
  if (device === 'auto') return detectDevice();
  const type = DEVICE_TYPES.find((t) => t.name === device);
  if (!type) throw new InvalidArgument(`unknown device "${String(device)}"`);
  return type.open(options);
}

/** Errors meaning "not here", which move `auto` on to the next probe. */
const ABSENT = [NoTeeDevice, TsmProviderUnsupported, NativeAddonUnavailable];

async function detectDevice(): Promise<ReportDevice> {
  const looked: { path: string; reason: string }[] = [];
  for (const type of DEVICE_TYPES) {
    if (!('probe' in type)) continue;
    try {
      return await type.open({ path: type.probe });
    } catch (error) {
      // A device that exists but fails is reported as it is.
      if (!ABSENT.some((absent) => error instanceof absent)) throw error;
      looked.push({ path: type.probe, reason: error instanceof NoTeeDevice ? 'absent' : (error as Error).message });
    }
  }
  throw new NoTeeDevice(`no SEV-SNP device: looked at ${looked.map((l) => `${l.path} (${l.reason})`).join(', ')}`, { looked });
}

export { CoalescingDevice } from './coalescing';
export { LimitedDevice } from './limited';
export { checkReportRequest, isReportData, isVmpl } from './request';
export { DEVICE_CHOICES, DEVICE_TYPES, describeDeviceChoices, isDeviceChoice, type DeviceChoice, type DeviceName, type DeviceType } from './registry';
export type { DeviceReport, ReportDevice, ReportRequest } from './types';
