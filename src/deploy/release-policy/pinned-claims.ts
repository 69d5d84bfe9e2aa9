/** The MAA SEV-SNP container claims a hardened Key Vault release policy pins. */
export const CLAIM_HOSTDATA = 'x-ms-sevsnpvm-hostdata';
export const CLAIM_COMPLIANCE = 'x-ms-compliance-status';
export const CLAIM_DEBUGGABLE = 'x-ms-sevsnpvm-is-debuggable';
export const CLAIM_VMPL = 'x-ms-sevsnpvm-vmpl';

/** What MAA says of a UVM Microsoft signed and measured (the confidential ACI utility VM). */
export const COMPLIANT_UVM = 'azure-compliant-uvm';

export const HOSTDATA_PATTERN = /^[0-9a-f]{64}$/;

/** What a VM launched without host data reports (Azure CVMs, most non-ACI guests): binds nothing. */
export const ZERO_HOSTDATA = '0'.repeat(64);
