import { InvalidArgument, NoTeeDevice, SkrError } from '../../errors';
import { DEFAULT_SEV_PATH, openSevLegacy } from './sev';
import { DEFAULT_SEV_GUEST_PATH, openSevGuest } from './sev-guest';
import { DEFAULT_TSM_ROOT, openTsmDevice } from './tsm';
import type { DeviceName, ReportDevice } from './types';
import { openVirtualDevice } from './virtual';

export type DeviceChoice = DeviceName | 'auto';
export const DEVICE_CHOICES: readonly DeviceChoice[] = ['auto', 'sev-guest', 'sev', 'tsm', 'virtual'];

export interface OpenDeviceOptions {
  device?: DeviceChoice;
  /** Overrides the device node (sev-guest, sev) or configfs root (tsm). */
  path?: string;
  /** Where the virtual device keeps its PKI; required for `virtual`. */
  stateDir?: string;
}

export function isDeviceChoice(value: string): value is DeviceChoice {
  return (DEVICE_CHOICES as readonly string[]).includes(value);
}

/**
 * Opens a report source. `auto` tries configfs-tsm, then /dev/sev-guest, then the 5.15
 * /dev/sev of Azure Container Instances — hardware only: the virtual device is never chosen
 * unless asked for by name, so a missing TEE is an error, not a fake report.
 */
export async function openDevice(options: OpenDeviceOptions = {}): Promise<ReportDevice> {
  const device = options.device ?? 'auto';
  switch (device) {
    case 'virtual':
      if (!options.stateDir) throw new InvalidArgument('the virtual device needs a state directory');
      return openVirtualDevice(options.stateDir);
    case 'tsm':
      return openTsmDevice({ root: options.path ?? DEFAULT_TSM_ROOT });
    case 'sev-guest':
      return openSevGuest(options.path ?? DEFAULT_SEV_GUEST_PATH);
    case 'sev':
      return openSevLegacy(options.path ?? DEFAULT_SEV_PATH);
    case 'auto':
      return detectDevice();
    default:
      throw new InvalidArgument(`unknown device "${String(device)}"`);
  }
}

async function detectDevice(): Promise<ReportDevice> {
  const attempts: [string, () => Promise<ReportDevice>][] = [
    [DEFAULT_TSM_ROOT, () => openTsmDevice({ root: DEFAULT_TSM_ROOT })],
    [DEFAULT_SEV_GUEST_PATH, () => openSevGuest(DEFAULT_SEV_GUEST_PATH)],
    [DEFAULT_SEV_PATH, () => openSevLegacy(DEFAULT_SEV_PATH)],
  ];
  const looked: { path: string; reason: string }[] = [];
  for (const [path, open] of attempts) {
    try {
      return await open();
    } catch (error) {
      // Only "not here" moves on; a device that exists but fails is reported as it is.
      if (!(error instanceof SkrError) || !['no_tee_device', 'tsm_provider_unsupported', 'native_addon_unavailable'].includes(error.code)) throw error;
      looked.push({ path, reason: error.code === 'no_tee_device' ? 'absent' : error.message });
    }
  }
  throw new NoTeeDevice(`no SEV-SNP device: looked at ${looked.map((l) => `${l.path} (${l.reason})`).join(', ')}`, { looked });
}

export { CoalescingDevice } from './coalescing';
export type { DeviceName, DeviceReport, ReportDevice, ReportRequest } from './types';
