import { InvalidArgument } from '../../errors';
import { MAX_VMPL, REPORT_DATA_SIZE } from '../abi/report';

/**
 * The argument checks of a report request, kept once for every caller: the devices, the
 * coalescing layer, the CLI flags, the virtual device's configuration and the verifier's
 * appraisal policy. Each caller words its own error (a flag, a field, a policy key).
 */

/** Whether `value` can be REPORT_DATA: exactly 64 bytes. */
export function isReportData(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === REPORT_DATA_SIZE;
}

/** Whether `value` is a VMPL from `floor` (0, or the guest's own VMPL where known) to 3. */
export function isVmpl(value: unknown, floor = 0): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= floor && value <= MAX_VMPL;
}

/**
 * The checks the firmware would answer with INVALID_PARAM, made before any device is touched:
 * 64 bytes of REPORT_DATA and, when given, a VMPL from `floor` to 3.
 */
export function checkReportRequest(reportData: unknown, vmpl: unknown, floor = 0): void {
  if (!isReportData(reportData)) {
    throw new InvalidArgument(`reportData must be ${REPORT_DATA_SIZE} bytes`, {
      field: 'reportData',
      expected: REPORT_DATA_SIZE,
      actual: reportData instanceof Uint8Array ? reportData.length : typeof reportData,
    });
  }
  if (vmpl !== undefined && !isVmpl(vmpl, floor)) {
    throw new InvalidArgument(`vmpl must be an integer from ${floor} to ${MAX_VMPL}, got ${String(vmpl)}`, {
      field: 'vmpl',
      expected: `${floor}..${MAX_VMPL}`,
      actual: typeof vmpl === 'number' ? vmpl : typeof vmpl,
    });
  }
}
