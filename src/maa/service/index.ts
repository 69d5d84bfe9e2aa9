/**
 * The verifier service: MAA's attest endpoint, its signing keys and appraisal policy, reference
 * values and revocation. Its only public door (the MAA wire format and client are `maa`'s).
 */
export { startVerifier, DEFAULT_TOKEN_LIFETIME_SECONDS, type RunningVerifier, type VerifierOptions } from './server';
export { loadAppraisalPolicy, parseAppraisalPolicy, type AppraisalPolicy } from './appraisal-policy';
export { DEFAULT_CHALLENGE_OPTIONS } from './challenges';
export { checkStoreUrl, openVerifierStores, redactStoreUrl, type VerifierStores } from './store';
export { VerifierDatabase } from './store/postgres-pool';
export { verifierRevocation, type RevocationSettings } from './revocation';
export type { Revocation } from './attest';
export { appraiseBoundEvidence, type Appraisal, type BoundAppraisalContext } from './attest';
export { FileReferenceValueStore, type ReferenceValueStore } from './reference-values';
