/** The attester role: SEV-SNP evidence formats, authenticity and acceptability. */
export * from './abi';
export { parseVek, splitPem, toDer, readExtensions, type VekCertificate, type VekKind } from './x509';
export { amdRoots, configuredRoot, type TrustedRoot } from './roots';
export { verifyReport, type Evidence, type VerifyOptions, type VerifiedReport, type VekFetcher, type VekRequest } from './verify';
export { checkReport, validateReport, type ValidateOptions, type GuestPolicyOptions, type ValidationSubject } from './validate';
export { summarizeReport, type ReportSummary } from './summary';
export { checkReportRequest, isReportData, isVmpl } from './device/request';
export type { DeviceReport, ReportDevice, ReportRequest } from './device/types';
export type { DeviceName } from './device/registry';
