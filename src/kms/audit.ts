/** The KMS's audit log: entries committed before answers, hash-chained, pruned by retention. */
export { AuditLog } from './audit/log';
export { SqliteAuditStore, type AuditStore, type AuditQuery, type ChainVerdict, type Checkpoint, type StoredEntry } from './audit/store';
export { decisionFor, FIELD_LIMITS, type AuditEntry, type Decision, type RefusalCount } from './audit/entry';
