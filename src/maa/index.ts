/** The verifier role: MAA's wire format, the client that calls any MAA, and the token verifier. */
export { MaaClient, type MaaClientOptions, type EvidenceSource, type AttestationToken } from './client';
export { TokenVerifier, type TokenVerifierOptions, type TokenAlgorithm } from '../oidc';
export { encodeAttestRequest, decodeAttestRequest, type AttestRequest, type TypedData } from './request';
export { sevSnpClaims } from './sev-snp-claims';
