import { InvalidArgument } from '../../errors';
import { loadSevGuestAddon, SevDeviceNode, type DeviceNodeOptions } from '../native';
import { checkReportRequest } from './request';
import type { DeviceReport, ReportDevice, ReportRequest } from './types';

/**
 * The upstream SEV-SNP guest driver (Linux ≥ 5.19): SNP_GET_REPORT, and SNP_GET_EXT_REPORT
 * when the certificate table is wanted (Linux's include/uapi/linux/sev-guest.h).
 */
export const DEFAULT_SEV_GUEST_PATH = '/dev/sev-guest';

const PAGE = 4096;
/** Mainline's SEV_FW_BLOB_MAX_SIZE: large enough for VCEK, ASK and ARK, so one call usually does. */
const DEFAULT_CERTS_LEN = 16 * 1024;

export interface SevGuestOptions extends DeviceNodeOptions {
  /** The first certificate buffer for `withCerts`, in whole pages; the addon grows it once when the host asks for more. */
  certsLen?: number;
}

export class SevGuestDevice implements ReportDevice {
  readonly name = 'sev-guest' as const;
  readonly virtual = false;
  readonly path: string;

  constructor(
    private readonly node: SevDeviceNode,
    private readonly certsLen: number,
  ) {
    this.path = node.path;
  }

  async getReport(request: ReportRequest): Promise<DeviceReport> {
    checkReportRequest(request.reportData, request.vmpl);
    const vmpl = request.vmpl ?? 0;
    // Copied now: the request may wait in the queue while the caller reuses its buffer.
    const reportData = Buffer.from(request.reportData);
    if (!request.withCerts) return { report: await this.node.getReport(reportData, vmpl) };
    const { report, certTable } = await this.node.getExtReport(reportData, vmpl, this.certsLen);
    return certTable.length > 0 ? { report, certTable } : { report };
  }

  close(): Promise<void> {
    return this.node.close();
  }
}

/** Opens /dev/sev-guest (or `path`) now; fails with no_tee_device when it is absent. */
export async function openSevGuest(path = DEFAULT_SEV_GUEST_PATH, options: SevGuestOptions = {}): Promise<SevGuestDevice> {
  const addon = options.addon ?? loadSevGuestAddon();
  const certsLen = options.certsLen ?? DEFAULT_CERTS_LEN;
  if (!Number.isInteger(certsLen) || certsLen <= 0 || certsLen % PAGE !== 0 || certsLen > addon.maxCertsLen) {
    throw new InvalidArgument(`certsLen must be a positive multiple of ${PAGE} up to ${addon.maxCertsLen}`, { field: 'certsLen', actual: certsLen });
  }
  return new SevGuestDevice(await SevDeviceNode.open(path, { ...options, addon }), certsLen);
}
