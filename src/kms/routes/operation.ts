import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Action } from '../auth/roles';
import { sendAudited, type AuditNote } from './audited-answer';
import type { KmsHttpContext } from './context';

export type { AuditNote } from './audited-answer';

/** What a route's function answers: a status (200 by default) and a JSON body (none for 204). */
export interface Answer {
  status?: number;
  body?: unknown;
  /** The version the operation touched, for the audit log. */
  version?: string;
}

const param = (req: Request, name: string) => {
  const value = req.params[name];
  return typeof value === 'string' ? value : undefined;
};

/**
 * The shape of every keys-API handler: note the operation and its route pattern for the audit
 * log, authorize the caller for `action` (at the key's scope when the route names a key), run
 * `run` — which parses and calls an operation that knows nothing of HTTP — then commit the
 * audit entry and only then answer (sendAudited). Errors go to the app's error handler, which
 * answers through the same door.
 */
export function operation(ctx: KmsHttpContext, name: string, action: Action, run: (req: Request, res: Response) => Promise<Answer> | Answer): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const note = res.locals.audit as AuditNote;
    note.operation = name;
    note.route = (req.route as { path: string }).path;
    note.key = param(req, 'name');
    note.version = param(req, 'version');
    let answer: Answer;
    try {
      ctx.rbac.authorize(res.locals.caller.principal as string, action, note.key);
      answer = await run(req, res);
    } catch (error) {
      next(error);
      return;
    }
    if (answer.version) note.version = answer.version;
    const status = answer.status ?? (answer.body === undefined ? 204 : 200);
    await sendAudited(ctx, res, status, () => (answer.body === undefined ? res.status(status).end() : res.status(status).json(answer.body)));
  };
}
