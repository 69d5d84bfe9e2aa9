export * from './vek';
export { readTlv, readSingle, children, decodeOid, TAG, type Tlv } from './der';
export * from './der-writer';
export { buildCertificate, encodeTbsCertificate, encodeName, basicConstraintsExtension, keyUsageExtension } from './cert-builder';
export type { CertificateSpec, CertificateExtension, DistinguishedName, NameAttributeType, KeyUsage } from './cert-builder';
