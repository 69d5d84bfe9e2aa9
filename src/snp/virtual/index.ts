/** The simulated AMD SEV-SNP machine: PKI, report builder and signer, test forgeries. */
export { loadOrCreateVirtualPki, virtualSecurityContextDir, VIRTUAL_FILES } from './pki';
export { virtualInit, type VirtualInitResult } from './init';
export { buildReport, reportStruct, reportSpecFromConfig, type ReportSpec } from './report-builder';
export { signReport } from './signer';
export { mintCrl, type CrlSpec } from './crl';
export { mintUvmSigner, signUvmEndorsement, virtualUvmIssuer, UVM_SIGNER_EKU, VIRTUAL_UVM_FEED, VIRTUAL_UVM_SVN, type VirtualUvmSigner } from './uvm-endorsement';
export { generateP384Key } from './keys';
export { mintVek, vcekExtensions, hwIdOf, VEK_VALIDITY_YEARS, type VekOverrides, type VekIssuer, type VcekFields } from './mint-vek';
export { PRODUCT_PROFILES, amdName, type ProductProfile } from './profiles';
export type { BytesInput, GuestConfig, GuestOptions, KeyedCertificate, ReportVersion, VirtualDeviceConfig, VirtualPki, VirtualPkiOptions, VirtualUvm } from './types';
