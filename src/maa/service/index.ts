/** The verifier service: what other roles (the key broker) call in process, and what they configure it with. */
export { appraiseBoundEvidence, type Appraisal, type BoundAppraisalContext, type Revocation } from './attest';
export { loadAppraisalPolicy, parseAppraisalPolicy, type AppraisalPolicy } from './appraisal-policy';
export { ReferenceValueStore } from './reference-values';
export { verifierRevocation } from './revocation';
