import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Action } from '../auth/roles';
import type { KmsHttpContext } from './context';

/** What a route's function answers: a status (200 by default) and a JSON body (none for 204). */
export interface Answer {
  status?: number;
  body?: unknown;
  /** The version the operation touched, for the audit log. */
  version?: string;
}

/** Audit fields a request accumulates; app.ts writes them when the response finishes. */
export interface AuditNote {
  operation: string;
  key?: string;
  version?: string;
  principal?: string;
}

const param = (req: Request, name: string) => {
  const value = req.params[name];
  return typeof value === 'string' ? value : undefined;
};

/**
 * The shape of every keys-API handler: note the operation for the audit log, authorize the
 * caller for `action` (at the key's scope when the route names a key), run `run` — which
 * parses and calls an operation that knows nothing of HTTP — and answer. Always returns
 * after answering; errors go to the app's error handler.
 */
export function operation(ctx: KmsHttpContext, name: string, action: Action, run: (req: Request, res: Response) => Promise<Answer> | Answer): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const note = res.locals.audit as AuditNote;
    note.operation = name;
    note.key = param(req, 'name');
    note.version = param(req, 'version');
    try {
      ctx.rbac.authorize(res.locals.caller.principal as string, action, note.key);
      const answer = await run(req, res);
      if (answer.version) note.version = answer.version;
      if (answer.body === undefined) {
        res.status(answer.status ?? 204).end();
        return;
      }
      res.status(answer.status ?? 200).json(answer.body);
      return;
    } catch (error) {
      next(error);
      return;
    }
  };
}
