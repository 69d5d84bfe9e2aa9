import type { Response } from 'express';
import { AuditUnavailable, RequestsThrottled, SkrError } from '../../errors';
import { decisionFor } from '../audit';
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

/** The fields of an audit entry that come from the request's note (who, what, where from). */
export function noteFields(ctx: KmsHttpContext, note: AuditNote) {
  return { time: ctx.core.now(), principal: note.principal, operation: note.operation, route: note.route, key: note.key, version: note.version, source: note.source };
}

/**
 * Every KMS answer goes out through here: its audit entry is committed first (group commit)
 * and only then is `send` called — so an answer the client saw, and any key it carries, is on
 * the log, and the entry is written even if the client has gone. If the entry cannot be
 * committed the answer is dropped for a 503 `audit_unavailable`. Refused requests (status 400
 * and above, authenticated or not) pass the per-caller gate: beyond its rate a 429 with
 * Retry-After, beyond its bound counted rather than stored one by one — and the count, like an
 * entry, is committed before the answer leaves.
 */
export async function sendAudited(ctx: KmsHttpContext, res: Response, status: number, send: () => void, error?: unknown): Promise<void> {
  const note = res.locals.audit as AuditNote;
  if (status >= 400 && !note.committed) {
    const admission = ctx.refusals.admit({ source: note.source, principal: note.principal }, Date.now());
    if (admission.kind !== 'store') {
      const throttled = admission.kind === 'throttle';
      try {
        await ctx.audit.commitCount({ time: ctx.core.now(), ...admission.caller, status: throttled ? 429 : status });
      } catch {
        res.removeHeader('WWW-Authenticate');
        sendKvError(res, new AuditUnavailable());
        return;
      }
      if (!throttled) return send();
      res.removeHeader('WWW-Authenticate');
      res.set('Retry-After', String(admission.retryAfter));
      sendKvError(res, new RequestsThrottled(admission.retryAfter));
      return;
    }
  }
  if (!note.committed) {
    const skr = error instanceof SkrError ? error : undefined;
    try {
      await ctx.audit.commit({
        ...noteFields(ctx, note),
        decision: decisionFor(status),
        status,
        reason: skr ? `${skr.code}: ${skr.message}` : status >= 400 ? 'internal error' : undefined,
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
