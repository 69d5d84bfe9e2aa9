/**
 * Where VCEKs and VLEKs come from: the extended report's certificate table, the UVM security
 * context, Azure THIM and AMD KDS, tried in order behind a memory and disk cache.
 */
export { createCertSources, DEFAULT_SOURCE_ORDER, type CertSources, type CertSourcesOptions } from './fetcher';
export { vekCachePath } from './cache';
export { parseCrl, verifyCrl, assertNotRevoked, assertCrlCurrent, crlsFromFile, type Crl } from './crl';
export { createCrlSource, type CrlSource, type CrlGetterOptions } from './crl-source';
export { DEFAULT_KDS_BASE, kdsVcekUrl, kdsChainUrl, kdsCrlUrl, fetchKdsChain, fetchKdsCrl, type KdsOptions } from './kds';
export { DEFAULT_THIM_URL, parseThimCertification, fetchThimCertification, type ThimCertification, type ThimOptions } from './thim';
export { readSecurityContext, findSecurityContextDir, KATA_SECURITY_CONTEXT_DIR, type SecurityContext, type SecurityContextOptions } from './security-context';
export type { HttpGetter } from './getter';
export type { CertSourceName } from './source';
