import { Type } from '@sinclair/typebox';
import { route, type RouteSchema } from '../../lib/route';
import {
  ApiVersionQuery,
  CreateKeyBody,
  CryptoBody,
  DeletedKeyBundle,
  DeletedKeyItemPage,
  DeletedSecretBundle,
  DeletedSecretItemPage,
  ImportKeyBody,
  KeyBundle,
  KeyItemPage,
  KeyOperationResult,
  KeyVerifyResult,
  Nullable,
  OneOf,
  PageQuery,
  ReleaseBody,
  RotationPolicy,
  RotationPolicyBody,
  SecretBundle,
  SecretItemPage,
  SetSecretBody,
  UpdateSecretBody,
  UpdateKeyBody,
  Base64Url,
  ValueResult,
} from '../wire/schemas';

/**
 * The KMS's routes, one schema each, in Key Vault's wire shapes. They validate requests
 * (src/kms/app.ts mounts them) and are the KMS's /openapi.json.
 *
 * Statuses every keys-API route can answer: 400 (a request that breaks its schema or is not
 * JSON), 401 (the challenge), 403 (no role for the operation), 413 (a body over the limit: every
 * request's body is read), 429 (a caller over its rate of refusals) and 503 (the audit log
 * cannot take the entry, so nothing is answered).
 */
const ALWAYS = [400, 401, 403, 413, 429, 503];
/** …and on a route naming a key (or secret), 404 for a key (or version) that is not there. */
const ON_KEY = [...ALWAYS, 404];

const Name = Type.String({ description: 'the key name' });
/** Where a key is created or imported, its name must be Key Vault's: 1-127 of 0-9, a-z, A-Z and -. */
const NewName = Type.String({ pattern: '^[0-9a-zA-Z-]{1,127}$', description: 'the key name: 1-127 of 0-9, a-z, A-Z and -' });
/** Any text: a version that is not one of the key's finds no key (404), as in Key Vault. */
const Version = Type.String({ description: 'the key version (32 hex characters)' });
const KeyParams = Type.Object({ name: Name });
const VersionParams = Type.Object({ name: Name, version: Version });

const bundle = { 200: { description: 'KeyBundle', schema: KeyBundle } };

/** Key Vault's lower-case paths of the six cryptographic operations, and what each body carries. */
export const CRYPTO_PATHS = ['encrypt', 'decrypt', 'wrapkey', 'unwrapkey', 'sign', 'verify'] as const;
export type CryptoPath = (typeof CRYPTO_PATHS)[number];

function cryptoRoute(path: CryptoPath, versioned: boolean) {
  const wrap = path === 'wrapkey' || path === 'unwrapkey';
  return route({
    method: 'post',
    path: versioned ? `/keys/:name/:version/${path}` : `/keys/:name/${path}`,
    summary: `${path} with ${versioned ? 'one version of a key' : 'the latest version of a key'}`,
    params: versioned ? VersionParams : KeyParams,
    query: ApiVersionQuery,
    body: CryptoBody({ nonEmptyValue: wrap, digest: path === 'verify' }),
    responses: { 200: path === 'verify' ? { description: 'KeyVerifyResult', schema: KeyVerifyResult } : { description: 'KeyOperationResult', schema: KeyOperationResult } },
    errors: ON_KEY,
  });
}

function releaseRoute(versioned: boolean) {
  return route({
    method: 'post',
    path: versioned ? '/keys/:name/:version/release' : '/keys/:name/release',
    summary: `Secure key release of ${versioned ? 'one version of a key' : 'the latest version of a key'}: its material wrapped to the attested TEE key, as a JWS`,
    params: versioned ? VersionParams : KeyParams,
    query: ApiVersionQuery,
    body: ReleaseBody,
    responses: { 200: { description: 'KeyReleaseResult: a JWS with x5c', schema: ValueResult } },
    errors: ON_KEY,
  });
}

const crypto = Object.fromEntries(
  CRYPTO_PATHS.flatMap((path) => [
    [path, cryptoRoute(path, false)],
    [`${path}Version`, cryptoRoute(path, true)],
  ]),
) as Record<CryptoPath | `${CryptoPath}Version`, ReturnType<typeof cryptoRoute>>;

/** Secrets: names and versions as for keys; a route naming a secret answers 404 for a secret (or version) that is not there. */
const SecretParams = Type.Object({ name: Type.String({ description: 'the secret name' }) });
const SecretVersionParams = Type.Object({ name: Type.String({ description: 'the secret name' }), version: Type.String({ description: 'the secret version (32 hex characters)' }) });
/** `outContentType` is the certificate-backed secrets' format switch (PFX/PEM); plain secrets answer their value as stored. */
const GetSecretQuery = Type.Object({ 'api-version': ApiVersionQuery.properties['api-version'], outContentType: Type.Optional(Type.String()) });
const secretBundle = (description: string) => ({ 200: { description, schema: SecretBundle } });
const deletedSecret = { 200: { description: 'DeletedSecretBundle (no value)', schema: DeletedSecretBundle } };

const SECRET_ROUTES = {
  listSecrets: route({
    method: 'get',
    path: '/secrets',
    summary: 'Lists the secrets (latest versions, no values)',
    query: PageQuery,
    responses: { 200: { description: 'SecretListResult', schema: SecretItemPage } },
    errors: ALWAYS,
  }),
  restoreSecret: route({
    method: 'post',
    path: '/secrets/restore',
    summary: 'Restores a secret from a backup made under the same master key',
    query: ApiVersionQuery,
    body: Type.Object({ value: Base64Url({ description: 'the backup blob' }) }),
    responses: secretBundle('SecretBundle (no value)'),
    errors: [...ALWAYS, 409],
  }),
  setSecret: route({
    method: 'put',
    path: '/secrets/:name',
    summary: 'Sets a secret: a new secret, or a new version of it',
    params: Type.Object({ name: Type.String({ pattern: '^[0-9a-zA-Z-]{1,127}$', description: 'the secret name: 1-127 of 0-9, a-z, A-Z and -' }) }),
    query: ApiVersionQuery,
    body: SetSecretBody,
    responses: secretBundle('SecretBundle (with the value)'),
    errors: [...ALWAYS, 409],
  }),
  listSecretVersions: route({
    method: 'get',
    path: '/secrets/:name/versions',
    summary: 'Lists the versions of a secret (no values)',
    params: SecretParams,
    query: PageQuery,
    responses: { 200: { description: 'SecretListResult', schema: SecretItemPage } },
    errors: ON_KEY,
  }),
  backupSecret: route({
    method: 'post',
    path: '/secrets/:name/backup',
    summary: 'Backs up every version of a secret, sealed under the master key',
    params: SecretParams,
    query: ApiVersionQuery,
    responses: { 200: { description: 'BackupSecretResult', schema: ValueResult } },
    errors: ON_KEY,
  }),
  getSecret: route({
    method: 'get',
    path: '/secrets/:name',
    summary: 'The latest version of a secret, with its value',
    params: SecretParams,
    query: GetSecretQuery,
    responses: secretBundle('SecretBundle (with the value)'),
    errors: ON_KEY,
  }),
  getSecretVersion: route({
    method: 'get',
    path: '/secrets/:name/:version',
    summary: 'One version of a secret, with its value',
    params: SecretVersionParams,
    query: GetSecretQuery,
    responses: secretBundle('SecretBundle (with the value)'),
    errors: ON_KEY,
  }),
  updateSecretVersion: route({
    method: 'patch',
    path: '/secrets/:name/:version',
    summary: "Updates one version's properties (never its value)",
    params: SecretVersionParams,
    query: ApiVersionQuery,
    body: UpdateSecretBody,
    responses: secretBundle('SecretBundle (no value)'),
    errors: ON_KEY,
  }),
  deleteSecret: route({
    method: 'delete',
    path: '/secrets/:name',
    summary: 'Soft-deletes a secret: recoverable until its scheduled purge date',
    params: SecretParams,
    query: ApiVersionQuery,
    responses: deletedSecret,
    errors: ON_KEY,
  }),
  listDeletedSecrets: route({
    method: 'get',
    path: '/deletedsecrets',
    summary: 'Lists the deleted secrets',
    query: PageQuery,
    responses: { 200: { description: 'DeletedSecretListResult', schema: DeletedSecretItemPage } },
    errors: ALWAYS,
  }),
  getDeletedSecret: route({ method: 'get', path: '/deletedsecrets/:name', summary: 'A deleted secret', params: SecretParams, query: ApiVersionQuery, responses: deletedSecret, errors: ON_KEY }),
  recoverSecret: route({
    method: 'post',
    path: '/deletedsecrets/:name/recover',
    summary: 'Recovers a deleted secret',
    params: SecretParams,
    query: ApiVersionQuery,
    responses: secretBundle('SecretBundle (no value)'),
    errors: ON_KEY,
  }),
  purgeSecret: route({
    method: 'delete',
    path: '/deletedsecrets/:name',
    summary: 'Purges a deleted secret for good',
    params: SecretParams,
    query: ApiVersionQuery,
    responses: { 204: { description: 'Purged' } },
    errors: ON_KEY,
  }),
} satisfies Record<string, RouteSchema>;

/** The admin API needs `Authorization: Bearer <admin token>` (401 otherwise) and no api-version. */
const ADMIN = [400, 401, 413, 429, 503];
const RoleAssignment = Type.Object({ id: Type.String(), principal: Type.String(), role: Type.String(), scope: Type.String(), created: Type.Integer() });
const AuditEntry = Type.Object({ id: Type.Integer(), time: Type.Integer(), operation: Type.String(), decision: Type.String(), status: Type.Integer() });
const DECISIONS = ['allow', 'deny', 'error', 'intent'] as const;

export const KMS_ROUTES = {
  listKeys: route({
    method: 'get',
    path: '/keys',
    summary: 'Lists the keys (latest versions)',
    query: PageQuery,
    responses: { 200: { description: 'KeyListResult', schema: KeyItemPage } },
    errors: ALWAYS,
  }),
  createKey: route({
    method: 'post',
    path: '/keys/:name/create',
    summary: 'Creates a key, or a new version of it',
    params: Type.Object({ name: NewName }),
    query: ApiVersionQuery,
    body: CreateKeyBody,
    responses: bundle,
    errors: [...ALWAYS, 409],
  }),
  importKey: route({
    method: 'put',
    path: '/keys/:name',
    summary: 'Imports a private JWK as a key, or a new version of it',
    params: Type.Object({ name: NewName }),
    query: ApiVersionQuery,
    body: ImportKeyBody,
    responses: bundle,
    errors: [...ALWAYS, 409],
  }),
  listVersions: route({
    method: 'get',
    path: '/keys/:name/versions',
    summary: 'Lists the versions of a key',
    params: KeyParams,
    query: PageQuery,
    responses: { 200: { description: 'KeyListResult', schema: KeyItemPage } },
    errors: ON_KEY,
  }),
  rotate: route({ method: 'post', path: '/keys/:name/rotate', summary: 'A new version of the same kind', params: KeyParams, query: ApiVersionQuery, responses: bundle, errors: ON_KEY }),
  getRotationPolicy: route({
    method: 'get',
    path: '/keys/:name/rotationpolicy',
    summary: "The key's rotation policy (Key Vault's default when none is set)",
    params: KeyParams,
    query: ApiVersionQuery,
    responses: { 200: { description: 'KeyRotationPolicy', schema: RotationPolicy } },
    errors: ON_KEY,
  }),
  setRotationPolicy: route({
    method: 'put',
    path: '/keys/:name/rotationpolicy',
    summary: "Sets the key's rotation policy",
    params: KeyParams,
    query: ApiVersionQuery,
    body: RotationPolicyBody,
    responses: { 200: { description: 'KeyRotationPolicy', schema: RotationPolicy } },
    errors: ON_KEY,
  }),
  getKey: route({ method: 'get', path: '/keys/:name', summary: 'The latest version of a key', params: KeyParams, query: ApiVersionQuery, responses: bundle, errors: ON_KEY }),
  getKeyVersion: route({ method: 'get', path: '/keys/:name/:version', summary: 'One version of a key', params: VersionParams, query: ApiVersionQuery, responses: bundle, errors: ON_KEY }),
  updateKey: route({
    method: 'patch',
    path: '/keys/:name',
    summary: 'Updates the latest version of a key',
    params: KeyParams,
    query: ApiVersionQuery,
    body: UpdateKeyBody,
    responses: bundle,
    errors: ON_KEY,
  }),
  updateKeyVersion: route({
    method: 'patch',
    path: '/keys/:name/:version',
    summary: 'Updates one version of a key',
    params: VersionParams,
    query: ApiVersionQuery,
    body: UpdateKeyBody,
    responses: bundle,
    errors: ON_KEY,
  }),

  deleteKey: route({
    method: 'delete',
    path: '/keys/:name',
    summary: 'Soft-deletes a key: recoverable until its scheduled purge date',
    params: KeyParams,
    query: ApiVersionQuery,
    responses: { 200: { description: 'DeletedKeyBundle', schema: DeletedKeyBundle } },
    errors: ON_KEY,
  }),
  listDeleted: route({
    method: 'get',
    path: '/deletedkeys',
    summary: 'Lists the deleted keys',
    query: PageQuery,
    responses: { 200: { description: 'DeletedKeyListResult', schema: DeletedKeyItemPage } },
    errors: ALWAYS,
  }),
  getDeleted: route({
    method: 'get',
    path: '/deletedkeys/:name',
    summary: 'A deleted key',
    params: KeyParams,
    query: ApiVersionQuery,
    responses: { 200: { description: 'DeletedKeyBundle', schema: DeletedKeyBundle } },
    errors: ON_KEY,
  }),
  recover: route({ method: 'post', path: '/deletedkeys/:name/recover', summary: 'Recovers a deleted key', params: KeyParams, query: ApiVersionQuery, responses: bundle, errors: ON_KEY }),
  purge: route({
    method: 'delete',
    path: '/deletedkeys/:name',
    summary: 'Purges a deleted key for good',
    params: KeyParams,
    query: ApiVersionQuery,
    responses: { 204: { description: 'Purged' } },
    errors: ON_KEY,
  }),

  ...crypto,

  restore: route({
    method: 'post',
    path: '/keys/restore',
    summary: 'Restores a key from a backup made under the same master key',
    query: ApiVersionQuery,
    body: Type.Object({ value: Base64Url({ description: 'the backup blob' }) }),
    responses: bundle,
    errors: [...ALWAYS, 409],
  }),
  backup: route({
    method: 'post',
    path: '/keys/:name/backup',
    summary: 'Backs up every version of a key, sealed under the master key',
    params: KeyParams,
    query: ApiVersionQuery,
    responses: { 200: { description: 'BackupKeyResult', schema: ValueResult } },
    errors: ON_KEY,
  }),

  release: releaseRoute(false),
  releaseVersion: releaseRoute(true),

  ...SECRET_ROUTES,

  rng: route({
    method: 'post',
    path: '/rng',
    summary: "Managed HSM's random bytes",
    query: ApiVersionQuery,
    body: Type.Object({ count: Type.Integer({ minimum: 1, maximum: 128 }) }),
    responses: { 200: { description: 'RandomNumberResult', schema: ValueResult } },
    errors: ALWAYS,
  }),

  listRoles: route({
    method: 'get',
    path: '/admin/roles',
    summary: 'Role assignments, of one principal or all (admin)',
    query: Type.Object({ principal: Type.Optional(Type.String()) }),
    responses: { 200: { description: 'Role assignments', schema: Type.Object({ value: Type.Array(RoleAssignment) }) } },
    errors: ADMIN,
  }),
  addRole: route({
    method: 'post',
    path: '/admin/roles',
    summary: 'Assigns a role at the vault or a key scope (admin)',
    body: Type.Object({ principal: Type.String({ minLength: 1 }), role: Type.String({ minLength: 1 }), scope: Nullable(Type.String()) }),
    responses: { 201: { description: 'The assignment', schema: RoleAssignment } },
    errors: ADMIN,
  }),
  removeRole: route({
    method: 'delete',
    path: '/admin/roles/:id',
    summary: 'Removes a role assignment (admin)',
    params: Type.Object({ id: Type.String() }),
    responses: { 204: { description: 'Removed' } },
    errors: [...ADMIN, 404],
  }),
  queryAudit: route({
    method: 'get',
    path: '/admin/audit',
    summary: 'Audit entries matching the query (admin)',
    query: Type.Object({
      key: Type.Optional(Type.String()),
      principal: Type.Optional(Type.String()),
      decision: Type.Optional(OneOf(DECISIONS)),
      since: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'Unix seconds, inclusive' })),
      limit: Type.Optional(Type.String({ pattern: '^0*(?:[1-9][0-9]{0,2}|1000)$', description: 'an integer 1..1000' })),
    }),
    responses: { 200: { description: 'Audit entries', schema: Type.Object({ value: Type.Array(AuditEntry) }) } },
    errors: ADMIN,
  }),

  openapi: route({
    method: 'get',
    path: '/openapi.json',
    summary: 'This document (any caller the KMS authenticates, no role needed)',
    responses: { 200: { description: 'OpenAPI 3.1', contentType: 'application/json' } },
    errors: [400, 401, 413, 429, 503],
  }),

  ready: route({
    method: 'get',
    path: '/ready',
    summary: 'Readiness: 200 while the key store and the audit log answer (no token, not audited)',
    responses: { 200: { description: 'Ready', schema: Type.Object({ status: Type.Literal('ready') }) } },
    errors: [400, 503],
  }),
} satisfies Record<string, RouteSchema>;
