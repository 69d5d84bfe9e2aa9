/**
 * MAA's wire format, the client that calls any MAA, the SEV-SNP claims and UVM endorsements:
 * its only public door (the verifier service is `maa/service`).
 */
export { MaaClient, type MaaClientOptions, type EvidenceSource, type AttestationToken } from './client';
export { TokenVerifier, type TokenVerifierOptions, type TokenAlgorithm } from '../oidc';
export { encodeAttestRequest, decodeAttestRequest, type AttestRequest, type TypedData } from './request';
export { sevSnpClaims } from './sev-snp-claims';
export { ACI_UVM_ISSUER, appraiseUvmEndorsements, parseUvmIssuers, uvmIssuer, type UvmIssuer } from './uvm';
