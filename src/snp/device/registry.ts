import { InvalidArgument } from '../../errors';
import { DEFAULT_SEV_PATH, openSevLegacy } from './sev';
import { DEFAULT_SEV_GUEST_PATH, openSevGuest } from './sev-guest';
import { DEFAULT_TSM_ROOT, openTsmDevice } from './tsm';
import type { ReportDevice } from './types';
import { openVirtualDevice } from './virtual';

export interface DeviceOpenOptions {
  /** Overrides the device node (sev-guest, sev) or configfs root (tsm). */
  path?: string;
  /** Where the virtual device keeps its PKI; required for `virtual`. */
  stateDir?: string;
}

/** One kind of report source: the name the CLI and config accept, where `auto` looks, how to open it. */
export interface DeviceType {
  readonly name: string;
  /** The location `auto` tries, in registry order; none for a device `auto` must never pick. */
  readonly probe?: string;
  open(options: DeviceOpenOptions): Promise<ReportDevice>;
}

/**
 * Every device skr knows, in the order `auto` tries them: configfs-tsm, then /dev/sev-guest,
 * then the 5.15 /dev/sev of Azure Container Instances. The virtual device has no probe: it is
 * never chosen unless asked for by name, so a missing TEE is an error, not a fake report.
 * Adding a device = its module + one entry here.
 */
export const DEVICE_TYPES = [
  { name: 'tsm', probe: DEFAULT_TSM_ROOT, open: ({ path }) => openTsmDevice({ root: path ?? DEFAULT_TSM_ROOT }) },
  { name: 'sev-guest', probe: DEFAULT_SEV_GUEST_PATH, open: ({ path }) => openSevGuest(path ?? DEFAULT_SEV_GUEST_PATH) },
  { name: 'sev', probe: DEFAULT_SEV_PATH, open: ({ path }) => openSevLegacy(path ?? DEFAULT_SEV_PATH) },
  {
    name: 'virtual',
    open: ({ stateDir }) => {
      if (!stateDir) throw new InvalidArgument('the virtual device needs a state directory');
      return openVirtualDevice(stateDir);
    },
  },
] as const satisfies readonly DeviceType[];

export type DeviceName = (typeof DEVICE_TYPES)[number]['name'];
export type DeviceChoice = DeviceName | 'auto';

/** What `--device` / SKR_DEVICE accept: `auto`, then the registry's names. */
export const DEVICE_CHOICES: readonly DeviceChoice[] = ['auto', ...DEVICE_TYPES.map((type) => type.name)];

export function isDeviceChoice(value: string): value is DeviceChoice {
  return (DEVICE_CHOICES as readonly string[]).includes(value);
}

/** "auto, tsm, sev-guest, sev or virtual": the choices for an error message. */
export function describeDeviceChoices(): string {
  return `${DEVICE_CHOICES.slice(0, -1).join(', ')} or ${DEVICE_CHOICES[DEVICE_CHOICES.length - 1]}`;
}
