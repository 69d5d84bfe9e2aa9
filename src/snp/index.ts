/**
 * The attester role: SEV-SNP evidence formats, authenticity and acceptability, the report
 * devices, the VEK and CRL sources, and the virtual machine. Its only public door.
 */
export * from './abi';
export { parseVek, splitPem, toDer, readExtensions, type VekCertificate, type VekKind } from './x509';
export { amdRoots, configuredRoot, type TrustedRoot } from './roots';
export { verifyReport, type CrlGetter, type Evidence, type VerifyOptions, type VerifiedReport, type VekFetcher, type VekRequest } from './verify';
export { checkReport, validateReport, type ValidateOptions, type GuestPolicyOptions, type ValidationSubject } from './validate';
export { summarizeReport, type ReportSummary } from './summary';
export {
  openDevice,
  CoalescingDevice,
  LimitedDevice,
  DEVICE_CHOICES,
  describeDeviceChoices,
  isDeviceChoice,
  type DeviceChoice,
  type DeviceName,
  type DeviceReport,
  type ReportDevice,
  type ReportRequest,
} from './device';
export { checkReportRequest, isReportData, isVmpl } from './device/request';
export { createCertSources, createCrlSource, type CertSources, type HttpGetter, type KdsOptions } from './certs';
export { loadOrCreateVirtualPki, virtualInit, virtualSecurityContextDir, virtualUvmIssuer, VIRTUAL_FILES } from './virtual';
