/**
 * Names for the two halves of exitinfo2 (Linux's uapi sev-guest.h: firmware status in the low
 * 32 bits, VMM error in the high 32): the SEV firmware status codes (SNP Firmware ABI 56860)
 * and the GHCB VMM errors. Errors carry the number and the name.
 */
const FIRMWARE_STATUS: Record<number, string> = {
  0x01: 'INVALID_PLATFORM_STATE',
  0x02: 'INVALID_GUEST_STATE',
  0x04: 'INVALID_LENGTH',
  0x07: 'POLICY_FAILURE',
  0x08: 'INACTIVE',
  0x09: 'INVALID_ADDRESS',
  0x11: 'INVALID_COMMAND',
  0x13: 'HWERROR_PLATFORM',
  0x14: 'HWERROR_UNSAFE',
  0x15: 'UNSUPPORTED',
  0x16: 'INVALID_PARAM',
  0x17: 'RESOURCE_LIMIT',
  0x18: 'SECURE_DATA_INVALID',
  // sev-guest.rst: the driver reports 0xff when the failure did not come from the firmware.
  0xff: 'NOT_FIRMWARE',
};

/** The host could not fit its certificates in certs_len and rewrote it to the size needed. */
export const VMM_ERR_INVALID_LEN = 1;
/** The host is throttling guest requests; retry later. */
export const VMM_ERR_BUSY = 2;

export function firmwareStatusName(code: number): string {
  if (code === 0) return 'SUCCESS';
  return FIRMWARE_STATUS[code] ?? 'UNKNOWN';
}

/** Any VMM error other than the two the GHCB spec defines is host-specific. */
export function vmmErrorName(code: number): string {
  if (code === 0) return 'NONE';
  if (code === VMM_ERR_INVALID_LEN) return 'INVALID_LEN';
  if (code === VMM_ERR_BUSY) return 'BUSY';
  return 'HOST_ERROR';
}
