import type { DeletedInfo, SecretVersion } from '../model';
import { commonAttributes as attributes, type BundleContext } from './bundle';

/** Key Vault's JSON shapes of secrets (SecretBundle, SecretItem, DeletedSecretBundle). Only SecretBundle carries a value. */

export function secretId(vaultUrl: string, name: string, version?: string): string {
  return `${vaultUrl}/secrets/${name}${version ? `/${version}` : ''}`;
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
