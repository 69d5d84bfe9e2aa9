import { InvalidArgument } from '../../errors';

/** SNP_GET_REPORT's REPORT_DATA is exactly this many bytes. */
export const REPORT_DATA_SIZE = 64;
/** The least privileged VMPL a guest can ask a report at. */
export const MAX_VMPL = 3;

/**
 * The checks the firmware would answer with INVALID_PARAM, made before any device is touched:
 * 64 bytes of REPORT_DATA and, when given, a VMPL from `floor` (0, or the guest's own VMPL
 * on a device that knows it) to 3. Every device and the coalescing layer use this one check.
 */
export function checkReportRequest(reportData: unknown, vmpl: unknown, floor = 0): void {
  if (!(reportData instanceof Uint8Array) || reportData.length !== REPORT_DATA_SIZE) {
    throw new InvalidArgument(`reportData must be ${REPORT_DATA_SIZE} bytes`, {
      field: 'reportData',
      expected: REPORT_DATA_SIZE,
      actual: reportData instanceof Uint8Array ? reportData.length : typeof reportData,
    });
  }
  if (vmpl === undefined) return;
  if (typeof vmpl !== 'number' || !Number.isInteger(vmpl) || vmpl < floor || vmpl > MAX_VMPL) {
    throw new InvalidArgument(`vmpl must be an integer from ${floor} to ${MAX_VMPL}, got ${String(vmpl)}`, {
      field: 'vmpl',
      expected: `${floor}..${MAX_VMPL}`,
      actual: typeof vmpl === 'number' ? vmpl : typeof vmpl,
    });
  }
}
