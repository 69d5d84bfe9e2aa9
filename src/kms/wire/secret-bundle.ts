import type { DeletedInfo, SecretAttributes, SecretVersion } from '../model';
import { RECOVERY_LEVEL, type BundleContext } from './bundle';

/** Key Vault's JSON shapes of secrets (SecretBundle, SecretItem, DeletedSecretBundle). Only SecretBundle carries a value. */

export function secretId(vaultUrl: string, name: string, version?: string): string {
  return `${vaultUrl}/secrets/${name}${version ? `/${version}` : ''}`;
}

function attributes(a: SecretAttributes, recoverableDays: number): Record<string, unknown> {
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

/** A list item: versionless id in the secret list, versioned in the versions list. */
export function secretItem(ctx: BundleContext, v: SecretVersion, versioned: boolean): Record<string, unknown> {
  return {
    id: secretId(ctx.vaultUrl, v.name, versioned ? v.version : undefined),
    attributes: attributes(v.attributes, ctx.recoverableDays),
    tags: v.tags,
    ...(v.contentType !== undefined ? { contentType: v.contentType } : {}),
  };
}

/** A version's properties with its value (get, set); without a value (update, recover), Key Vault's answer has none. */
export function secretBundle(ctx: BundleContext, v: SecretVersion, value?: string): Record<string, unknown> {
  return { ...(value !== undefined ? { value } : {}), ...secretItem(ctx, v, true) };
}

export function deletedSecretBundle(ctx: BundleContext, v: SecretVersion, d: DeletedInfo, versioned = true): Record<string, unknown> {
  return { ...secretItem(ctx, v, versioned), recoveryId: `${ctx.vaultUrl}/deletedsecrets/${v.name}`, deletedDate: d.deletedDate, scheduledPurgeDate: d.scheduledPurgeDate };
}
