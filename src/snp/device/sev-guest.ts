import { InvalidArgument } from '../../errors';
import { loadSevGuestAddon, SevDeviceNode, type DeviceNodeOptions } from '../native';
import type { DeviceReport, ReportDevice, ReportRequest } from './types';

/**
 * The upstream SEV-SNP guest driver (Linux ≥ 5.19): SNP_GET_REPORT, and SNP_GET_EXT_REPORT
 * when the certificate table is wanted (sev-snp-evidence §4).
 */
export const DEFAULT_SEV_GUEST_PATH = '/dev/sev-guest';

const REPORT_DATA_SIZE = 64;
const PAGE = 4096;
/** Mainline's SEV_FW_BLOB_MAX_SIZE: large enough for VCEK, ASK and ARK, so one call usually does. */
const DEFAULT_CERTS_LEN = 16 * 1024;

export interface SevGuestOptions extends DeviceNodeOptions {
  /** The first certificate buffer for `withCerts`, in whole pages; the addon grows it once when the host asks for more. */
  certsLen?: number;
}

/** The checks the firmware would answer with INVALID_PARAM, made before any syscall; returns the VMPL to use. */
export function checkReportRequest(request: ReportRequest): number {
  const { reportData } = request;
  if (!(reportData instanceof Uint8Array) || reportData.length !== REPORT_DATA_SIZE) {
    throw new InvalidArgument(`reportData must be ${REPORT_DATA_SIZE} bytes`, {
      field: 'reportData',
      expected: REPORT_DATA_SIZE,
      actual: reportData instanceof Uint8Array ? reportData.length : typeof reportData,
    });
  }
  const vmpl = request.vmpl ?? 0;
  if (!Number.isInteger(vmpl) || vmpl < 0 || vmpl > 3) {
    throw new InvalidArgument(`vmpl must be an integer from 0 to 3, got ${String(vmpl)}`, { field: 'vmpl', expected: '0..3', actual: vmpl });
  }
  return vmpl;
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
    const vmpl = checkReportRequest(request);
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
