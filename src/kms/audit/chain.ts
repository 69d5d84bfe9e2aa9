import { createHash } from 'node:crypto';

/** The columns a link covers, as stored (NULL for an absent field), in this order. */
export interface ChainedFields {
  time: number;
  principal: string | null;
  operation: string;
  route: string | null;
  key_name: string | null;
  version: string | null;
  decision: string;
  status: number;
  reason: string | null;
  source: string | null;
  count: number;
  detail: string | null;
}

/** The hash the first entry of a log is chained from. */
export const GENESIS_HASH = createHash('sha256').update('skr kms audit genesis').digest('hex');

/** The entry as one unambiguous string: a JSON array of its columns in a fixed order. */
export function canonicalEntry(f: ChainedFields): string {
  return JSON.stringify([f.time, f.principal, f.operation, f.route, f.key_name, f.version, f.decision, f.status, f.reason, f.source, f.count, f.detail]);
}

/** hash = SHA-256(previous hash ‖ canonical entry), hex: an edited, removed or reordered entry breaks every later link. */
export function linkHash(previousHex: string, fields: ChainedFields): string {
  return createHash('sha256').update(Buffer.from(previousHex, 'hex')).update(canonicalEntry(fields)).digest('hex');
}
