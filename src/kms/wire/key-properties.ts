import type { Static } from '@sinclair/typebox';
import { KmsBadParameter } from '../../errors';
import { bytes } from './bytes';
import type { AttributesInput as AttributesSchema, ReleasePolicyInput as ReleasePolicySchema } from './schemas';

/**
 * What the operations read from a key write whose types the route's schema has checked
 * (src/kms/wire/schemas.ts): null read as absent, as Key Vault reads it, and the rules between
 * fields that a schema does not state.
 */

/** The writable key attributes; created/updated/recoveryLevel are read-only and ignored as Key Vault does. */
export interface AttributesInput {
  enabled?: boolean;
  nbf?: number;
  exp?: number;
  exportable?: boolean;
}

export function attributesOf(sent: Static<typeof AttributesSchema> | null | undefined): AttributesInput {
  if (!sent) return {};
  const parsed: AttributesInput = { enabled: sent.enabled ?? undefined, nbf: sent.nbf ?? undefined, exp: sent.exp ?? undefined, exportable: sent.exportable ?? undefined };
  if (parsed.nbf !== undefined && parsed.exp !== undefined && parsed.nbf >= parsed.exp) throw new KmsBadParameter('attributes.nbf must be before attributes.exp');
  return Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== undefined)) as AttributesInput;
}

/** A release policy as sent: `data` is the bytes of UTF-8 JSON. */
export interface ReleasePolicyInput {
  contentType?: string;
  data?: Buffer;
  immutable?: boolean;
}

export function releasePolicyOf(sent: Static<typeof ReleasePolicySchema> | null | undefined): ReleasePolicyInput | undefined {
  if (!sent) return undefined;
  return { contentType: sent.contentType ?? undefined, data: bytes(sent.data), immutable: sent.immutable ?? undefined };
}
