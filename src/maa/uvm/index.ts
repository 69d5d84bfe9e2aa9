/** UVM endorsements (ACI reference info): COSE_Sign1 signed by a pinned did:x509 identity. */
export { appraiseUvmEndorsements, type UvmAppraisal } from './appraise';
export { verifyUvmEndorsement, type UvmEndorsementOptions, type VerifiedUvmEndorsement } from './endorsement';
export { decodeCoseSign1, sign1ToBeSigned, type CoseSign1 } from './cose-sign1';
export { parseDidX509, didX509Of, type DidX509 } from './did-x509';
export { ACI_UVM_ISSUER, uvmIssuer, parseUvmIssuers, type UvmIssuer } from './issuers';
