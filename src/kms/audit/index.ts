/** The KMS's audit log: entries committed before answers, hash-chained, pruned by retention. */
export { AuditLog } from './log';
export { AuditStore, type AuditQuery, type ChainVerdict, type StoredEntry } from './store';
export { FIELD_LIMITS, type AuditEntry, type Decision } from './entry';
export { DEFAULT_UNAUTHENTICATED_LIMITS, UnauthenticatedGate, type Admission, type UnauthenticatedLimits } from './unauthenticated';
