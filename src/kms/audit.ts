/** The KMS's audit log: entries committed before answers, hash-chained, pruned by retention. */
export { AuditLog } from './audit/log';
export { AuditStore, type AuditQuery, type ChainVerdict, type Checkpoint, type StoredEntry } from './audit/store';
export { FIELD_LIMITS, type AuditEntry, type Decision } from './audit/entry';
export { DEFAULT_UNAUTHENTICATED_LIMITS, UnauthenticatedGate, type Admission, type UnauthenticatedLimits } from './audit/unauthenticated';
