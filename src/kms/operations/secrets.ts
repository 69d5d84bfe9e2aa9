import type { Static } from '@sinclair/typebox';
import { KmsBadParameter, KmsForbidden } from '../../errors';
import type { Page, SecretAttributes, SecretVersion } from '../model';
import type { DeletedSecret, SecretVersionWithValue } from '../store/secret-store';
import { MAX_SECRET_VALUE_BYTES, type SecretAttributesInput, type SetSecretBody, type UpdateSecretBody } from '../wire/schemas';
import type { KmsCore } from './core';

/**
 * Key Vault's secrets data plane over the secret store: set (a new version), get (the value
 * of an enabled version), properties, lists, soft delete with the keys' retention, recovery
 * and purge. A value is only ever returned by `getSecret`; nothing here logs one.
 */

export type SetSecretInput = Static<typeof SetSecretBody>;
export type UpdateSecretInput = Static<typeof UpdateSecretBody>;

/** The writable attributes sent, null read as absent, with nbf before exp. */
function attributesSent(sent: Static<typeof SecretAttributesInput> | null | undefined): Partial<Pick<SecretAttributes, 'enabled' | 'nbf' | 'exp'>> {
  const parsed = { enabled: sent?.enabled ?? undefined, nbf: sent?.nbf ?? undefined, exp: sent?.exp ?? undefined };
  return Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== undefined));
}

function checkValidity(a: Pick<SecretAttributes, 'nbf' | 'exp'>): void {
  if (a.nbf !== undefined && a.exp !== undefined && a.nbf >= a.exp) throw new KmsBadParameter('attributes.nbf must be before attributes.exp');
}

/** `PUT /secrets/{name}`: a new secret, or a new version of an existing one. */
export function setSecret(core: KmsCore, name: string, b: SetSecretInput): Promise<SecretVersion> {
  if (Buffer.byteLength(b.value, 'utf8') > MAX_SECRET_VALUE_BYTES) throw new KmsBadParameter(`the secret value is over ${MAX_SECRET_VALUE_BYTES} bytes`);
  const now = core.now();
  const sent = attributesSent(b.attributes);
  const attributes: SecretAttributes = {
    enabled: sent.enabled ?? true,
    ...(sent.nbf !== undefined ? { nbf: sent.nbf } : {}),
    ...(sent.exp !== undefined ? { exp: sent.exp } : {}),
    created: now,
    updated: now,
  };
  checkValidity(attributes);
  return core.secrets.addVersion({ name, value: b.value, ...(b.contentType != null ? { contentType: b.contentType } : {}), attributes, tags: b.tags ?? {} }, now);
}

/** `GET /secrets/{name}[/{version}]`: the value too, as Key Vault answers — refused for a disabled version. */
export async function getSecret(core: KmsCore, name: string, version?: string): Promise<SecretVersionWithValue> {
  const found = await core.secrets.getWithValue(name, version);
  if (!found.version.attributes.enabled) throw new KmsForbidden('Operation get is not allowed on a disabled secret.', { reason: 'secret_disabled' });
  return found;
}

/** `PATCH /secrets/{name}/{version}`: content type, enabled/nbf/exp and tags of one version. */
export function updateSecret(core: KmsCore, name: string, version: string | undefined, b: UpdateSecretInput): Promise<SecretVersion> {
  const sent = attributesSent(b.attributes);
  return core.secrets.update(name, version, (current) => {
    const attributes = { ...current.attributes, ...sent, updated: core.now() };
    checkValidity(attributes);
    const contentType = b.contentType ?? current.contentType;
    return { ...(contentType !== undefined ? { contentType } : {}), attributes, tags: b.tags ?? current.tags };
  });
}

export function listSecrets(core: KmsCore, limit: number, after?: string): Promise<Page<SecretVersion>> {
  return core.secrets.list(limit, after);
}

export function listSecretVersions(core: KmsCore, name: string, limit: number, after?: string): Promise<Page<SecretVersion>> {
  return core.secrets.listVersions(name, limit, after);
}

/** Soft delete, with the keys' retention (recoverableDays). */
export function deleteSecret(core: KmsCore, name: string): Promise<DeletedSecret> {
  const now = core.now();
  return core.secrets.softDelete(name, now, now + core.recoverableDays * 86_400);
}

export function getDeletedSecret(core: KmsCore, name: string): Promise<DeletedSecret> {
  return core.secrets.getDeleted(name);
}

export function listDeletedSecrets(core: KmsCore, limit: number, after?: string): Promise<Page<DeletedSecret>> {
  return core.secrets.listDeleted(limit, after);
}

export function recoverDeletedSecret(core: KmsCore, name: string): Promise<SecretVersion> {
  return core.secrets.recover(name);
}

export function purgeDeletedSecret(core: KmsCore, name: string): Promise<void> {
  return core.secrets.purge(name);
}

/** Purges secrets whose retention has passed (run periodically by the server, with the keys'). */
export function purgeExpiredSecrets(core: KmsCore): Promise<string[]> {
  return core.secrets.purgeDue(core.now());
}
