/** The Key Vault-compatible KMS: its only public door. */
export { startKms, type KmsOptions, type KmsReleaseOptions, type RunningKms } from './server';
export { releaseSignerFromPem, type ReleaseSigner } from './key-release';
export { kmsPaths, openKeyDatabase } from './paths';
export { parseStoreLocation, type StoreLocation } from './store/store-url';
export { openAuditStore, openRoleStore } from './store/open';
export { migrateSqliteToPostgres, type MigrationCounts } from './store/migrate';
export { PostgresDatabase } from './store/postgres/database';
export { SqliteRoleStore } from './store/sqlite-role-store';
export type { RoleStore } from './store/role-store';
export type { KeyStore, KeySnapshot, KeyVersionWithMaterial } from './store/key-store';
export type { DeletedInfo, KeyAttributes, KeyFamily, KeyMaterial, KeyVersion, ReleasePolicy } from './model';
export { familyOf } from './model';
export type { ReleaseContext, ReleaseFunction, KeyReleaseRequest, ReleaseResult } from './release-context';
export { checkUsable } from './operations/crypto';
export type { Caller } from './auth/bearer';
export { RoleAssignments, type RoleAssignment } from './auth/rbac';
export { ROLES, findRole, type Action, type RoleDefinition } from './auth/roles';
export {
  AuditLog,
  SqliteAuditStore,
  type AuditStore,
  FIELD_LIMITS,
  type AuditEntry,
  type AuditQuery,
  type ChainVerdict,
  type Decision,
  type StoredEntry,
} from './audit';
export { addRoleAudited, removeRoleAudited, type RoleChangeActor } from './auth/audited-roles';
export { keyBundle, keyId } from './wire/bundle';
export { openMasterKey, type MasterKey, type MasterKeyConfig, type Pkcs11MasterKeyOptions, type ReleasedMasterKeyOptions } from './vault';
