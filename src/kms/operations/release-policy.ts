import { KmsBadParameter } from '../../errors';
import { encodeBase64Url } from '../../lib/base64url';
import type { ReleasePolicy } from '../model';
import type { ReleasePolicyInput } from '../wire/key-properties';
import type { KmsCore } from './core';

export const DEFAULT_POLICY_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * The release policy a version ends up with: `input` applied over `previous`. Policy JSON is
 * validated when set; an immutable policy can never change (Key Vault's rule), though it may
 * be re-sent unchanged.
 */
export function resolveReleasePolicy(core: KmsCore, input: ReleasePolicyInput | undefined, previous?: ReleasePolicy): ReleasePolicy | undefined {
  if (!input) return previous;
  const data = input.data ? encodeBase64Url(input.data) : previous?.data;
  if (!data || (!input.data && !previous)) throw new KmsBadParameter('release_policy.data is required');
  const next: ReleasePolicy = {
    contentType: input.contentType ?? previous?.contentType ?? DEFAULT_POLICY_CONTENT_TYPE,
    data,
    immutable: input.immutable ?? previous?.immutable ?? false,
  };
  if (previous?.immutable && (next.data !== previous.data || next.contentType !== previous.contentType || !next.immutable)) {
    throw new KmsBadParameter('The release policy of this key is immutable and cannot be changed');
  }
  if (input.data) {
    let policy: unknown;
    try {
      policy = JSON.parse(input.data.toString('utf8'));
    } catch {
      throw new KmsBadParameter('Key Release Policy: data is not valid JSON');
    }
    if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) throw new KmsBadParameter('Key Release Policy: data must be a JSON object');
    core.validateReleasePolicy(policy);
  }
  return next;
}

/** Key Vault refuses an exportable key without a release policy (AKV.SKR.1004). */
export function checkExportable(exportable: boolean, policy: ReleasePolicy | undefined): void {
  if (exportable && !policy) throw new KmsBadParameter('AKV.SKR.1004: Exportable keys must have release policy.');
}
