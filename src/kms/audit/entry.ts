/**
 * allow: performed; deny: refused by authentication, RBAC or policy; error: failed otherwise;
 * intent: a change authorized and about to be made (status 0), committed before it is made so
 * that no change happens unaudited — the entry of its outcome follows.
 */
export type Decision = 'allow' | 'deny' | 'error' | 'intent';

/** One audited request or event; never key material, tokens, request bodies or raw paths. */
export interface AuditEntry {
  /** Unix seconds. */
  time: number;
  principal?: string;
  /** What was asked: `release`, `create`, `role.add`, `unauthenticated`, … */
  operation: string;
  /** The route pattern that answered (`/keys/:name/release`), never the path as sent. */
  route?: string;
  key?: string;
  version?: string;
  decision: Decision;
  status: number;
  /** Why (an error code and message). */
  reason?: string;
  /** The peer address, kept for unauthenticated requests (who floods). */
  source?: string;
  /** How many requests the entry stands for: 1, or more for a summary of counted ones. */
  count?: number;
  /** What changed, for changes that are not requests on a key (role assignments, pruning). */
  detail?: string;
}

/** allow below 400; deny for a refusal of authentication, rights or rate (401, 403, 429); error otherwise. */
export function decisionFor(status: number): Decision {
  if (status < 400) return 'allow';
  return status === 401 || status === 403 || status === 429 ? 'deny' : 'error';
}

/** One refused request counted rather than stored (src/lib/refusal-gate.ts). */
export interface RefusalCount {
  /** Unix seconds. */
  time: number;
  source: string;
  principal?: string;
  /** The answer's status (429 when throttled). */
  status: number;
}

/**
 * The most characters each field keeps: a row is at most a few kilobytes whatever a caller
 * sends. Key names are at most 127 characters in Key Vault, versions 32 hex digits; principals
 * are object ids or `operator:<uid>`; a longer value is cut and marked with `…`.
 */
export const FIELD_LIMITS = {
  principal: 256,
  operation: 64,
  route: 64,
  key: 127,
  version: 64,
  reason: 512,
  source: 64,
  detail: 512,
} as const;

const cut = (value: string | undefined, max: number): string | undefined => (value === undefined || value.length <= max ? value : `${value.slice(0, max - 1)}…`);

/** The entry with every text field within FIELD_LIMITS and a count of at least 1. */
export function boundEntry(entry: AuditEntry): AuditEntry {
  const bounded: AuditEntry = { time: Math.floor(entry.time), operation: cut(entry.operation, FIELD_LIMITS.operation)!, decision: entry.decision, status: entry.status };
  for (const field of ['principal', 'route', 'key', 'version', 'reason', 'source', 'detail'] as const) {
    const value = cut(entry[field], FIELD_LIMITS[field]);
    if (value !== undefined) bounded[field] = value;
  }
  if (entry.count !== undefined && entry.count > 1) bounded.count = Math.floor(entry.count);
  return bounded;
}

/** The count with its caller's fields within FIELD_LIMITS. */
export function boundCount(count: RefusalCount): RefusalCount {
  return {
    time: Math.floor(count.time),
    source: cut(count.source, FIELD_LIMITS.source)!,
    ...(count.principal ? { principal: cut(count.principal, FIELD_LIMITS.principal) } : {}),
    status: count.status,
  };
}
