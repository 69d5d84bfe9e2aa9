/**
 * The SEV-SNP guest ioctls through the native addon (sevguest.cc, built by binding.gyp into
 * build/Release/sevguest.node): the loader, and the device node that turns raw outcomes into
 * reports or typed errors.
 */
export { ADDON_PATH, loadSevGuestAddon, type NativeExtReportResult, type NativeReportResult, type SevGuestAddon } from './load';
export { SevDeviceNode, type DeviceNodeOptions, type ExtReport } from './device-node';
export { firmwareStatusName, vmmErrorName, VMM_ERR_BUSY, VMM_ERR_INVALID_LEN } from './status';
