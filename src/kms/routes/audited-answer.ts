import type { Response } from 'express';
import { AuditUnavailable, SkrError, UnauthenticatedThrottled } from '../../errors';
import type { Decision } from '../audit';
import { sendKvError } from '../wire/envelope';
import type { KmsHttpContext } from './context';

/** Audit fields a request accumulates on its way through the app (`res.locals.audit`). */
export interface AuditNote {
  operation: string;
  /** The route pattern, never the raw path. */
  route: string;
  source: string;
  key?: string;
  version?: string;
  principal?: string;
  detail?: string;
  /** Set when the handler already committed the request's entry with its change (role changes). */
  committed?: boolean;
}

function decisionFor(status: number): Decision {
  if (status < 400) return 'allow';
  return status === 401 || status === 403 ? 'deny' : 'error';
}

/**
 * Every KMS answer goes out through here: its audit entry is committed first (group commit)
 * and only then is `send` called — so an answer the client saw, and any key it carries, is on
 * the log, and the entry is written even if the client has gone. If the entry cannot be
 * committed the answer is dropped for a 503 `audit_unavailable`. Unauthenticated requests pass
 * the per-source gate: beyond its rate a 429 with Retry-After, beyond its bound counted rather
 * than stored one by one.
 */
export async function sendAudited(ctx: KmsHttpContext, res: Response, status: number, send: () => void, error?: unknown): Promise<void> {
  const note = res.locals.audit as AuditNote;
  if (status === 401) {
    const admission = ctx.unauthenticated.admit(note.source, Date.now());
    if (admission.kind === 'throttle') {
      res.removeHeader('WWW-Authenticate');
      res.set('Retry-After', String(admission.retryAfter));
      sendKvError(res, new UnauthenticatedThrottled(admission.retryAfter));
      return;
    }
    if (admission.kind === 'count') {
      send();
      return;
    }
  }
  if (!note.committed) {
    const skr = error instanceof SkrError ? error : undefined;
    try {
      await ctx.audit.commit({
        time: ctx.core.now(),
        principal: note.principal,
        operation: note.operation,
        route: note.route,
        key: note.key,
        version: note.version,
        decision: decisionFor(status),
        status,
        reason: skr ? `${skr.code}: ${skr.message}` : status >= 400 ? 'internal error' : undefined,
        source: note.source,
        detail: note.detail,
      });
    } catch {
      res.removeHeader('WWW-Authenticate');
      sendKvError(res, new AuditUnavailable());
      return;
    }
  }
  send();
}
