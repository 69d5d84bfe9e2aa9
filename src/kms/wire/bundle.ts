import type { DeletedInfo, KeyAttributes, KeyVersion, SecretAttributes } from '../model';

/** Key Vault's JSON shapes (KeyBundle, KeyItem, DeletedKeyBundle) from stored keys. Public parts only. */

export const RECOVERY_LEVEL = 'Recoverable+Purgeable';

export function keyId(vaultUrl: string, name: string, version?: string): string {
  return `${vaultUrl}/keys/${name}${version ? `/${version}` : ''}`;
}

/** Key Vault's attributes object as keys and secrets share it (a key's adds `exportable`). */
export function commonAttributes(a: SecretAttributes, recoverableDays: number): Record<string, unknown> {
  return {
    enabled: a.enabled,
    ...(a.nbf !== undefined ? { nbf: a.nbf } : {}),
    ...(a.exp !== undefined ? { exp: a.exp } : {}),
    created: a.created,
    updated: a.updated,
    recoveryLevel: RECOVERY_LEVEL,
    recoverableDays,
  };
}

function attributes(a: KeyAttributes, recoverableDays: number): Record<string, unknown> {
  return { ...commonAttributes(a, recoverableDays), exportable: a.exportable };
}

export interface BundleContext {
  vaultUrl: string;
  recoverableDays: number;
}

export function keyBundle(ctx: BundleContext, v: KeyVersion): Record<string, unknown> {
  return {
    key: { kid: keyId(ctx.vaultUrl, v.name, v.version), kty: v.kty, key_ops: v.keyOps, ...v.publicJwk },
    attributes: attributes(v.attributes, ctx.recoverableDays),
    tags: v.tags,
    ...(v.managed ? { managed: true } : {}),
    ...(v.releasePolicy ? { release_policy: v.releasePolicy } : {}),
  };
}

/** A list item: versionless kid in the key list, versioned in the versions list. */
export function keyItem(ctx: BundleContext, v: KeyVersion, versioned: boolean): Record<string, unknown> {
  return {
    kid: keyId(ctx.vaultUrl, v.name, versioned ? v.version : undefined),
    attributes: attributes(v.attributes, ctx.recoverableDays),
    tags: v.tags,
    ...(v.managed ? { managed: true } : {}),
  };
}

function deletedFields(ctx: BundleContext, name: string, d: DeletedInfo): Record<string, unknown> {
  return { recoveryId: `${ctx.vaultUrl}/deletedkeys/${name}`, deletedDate: d.deletedDate, scheduledPurgeDate: d.scheduledPurgeDate };
}

export function deletedKeyBundle(ctx: BundleContext, v: KeyVersion, d: DeletedInfo): Record<string, unknown> {
  return { ...keyBundle(ctx, v), ...deletedFields(ctx, v.name, d) };
}

export function deletedKeyItem(ctx: BundleContext, v: KeyVersion, d: DeletedInfo): Record<string, unknown> {
  return { ...keyItem(ctx, v, false), ...deletedFields(ctx, v.name, d) };
}
