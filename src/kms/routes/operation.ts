import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Checked, mounter, RouteSchema } from '../../lib/route';
import type { Action } from '../auth/roles';
import { noteFields, sendAudited, type AuditNote } from './audited-answer';
import type { KmsHttpContext } from './context';

/** What a route's function answers: a status (200 by default) and a JSON body (none for 204). */
export interface Answer {
  status?: number;
  body?: unknown;
  /** The version the operation touched, for the audit log. */
  version?: string;
}

/** A route's function: the request already checked against its schema, the result for the wire. */
export type Run<R extends RouteSchema> = (input: Checked<R>, req: Request, res: Response) => Promise<Answer> | Answer;

/** Mounts one keys-API route: its schema, its audit name, the action it needs and its function. */
export type OperationMount = <R extends RouteSchema>(schema: R, name: string, action: Action, run: Run<R>) => void;

/** The actions that change the vault: an intent entry is committed before each is performed. */
const CHANGES: ReadonlySet<Action> = new Set<Action>([
  'keys/create',
  'keys/import',
  'keys/update',
  'keys/delete',
  'keys/restore',
  'keys/rotate',
  'keys/rotationpolicy/write',
  'deletedkeys/recover',
  'deletedkeys/purge',
  'secrets/setSecret',
  'secrets/update',
  'secrets/delete',
  'secrets/restore',
  'secrets/recover',
  'secrets/purge',
]);

const param = (req: Request, name: string) => {
  const value = req.params[name];
  return typeof value === 'string' ? value : undefined;
};

function commitIntent(ctx: KmsHttpContext, note: AuditNote): Promise<void> {
  return ctx.audit.commit({ ...noteFields(ctx, note), decision: 'intent', status: 0 });
}

/**
 * Runs before the route's schema is checked: notes the operation and its route pattern for
 * the audit log and authorizes the caller for `action` (at the key's scope when the route
 * names a key or a secret), so a caller without the right learns nothing from how its request fails. A
 * change is preceded by a committed intent entry: if the log cannot take it, nothing is
 * changed (503).
 */
function authorize(ctx: KmsHttpContext, name: string, action: Action): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const note = res.locals.audit as AuditNote;
    note.operation = name;
    note.route = (req.route as { path: string }).path;
    note.key = param(req, 'name');
    note.version = param(req, 'version');
    try {
      await ctx.rbac.authorize(res.locals.caller.principal as string, action, note.key);
      if (CHANGES.has(action)) await commitIntent(ctx, note);
    } catch (error) {
      next(error);
      return;
    }
    next();
  };
}

/**
 * The shape of every keys-API route, mounted with the service's mounter `on`: authorize (and
 * commit the intent of a change), check the request against the route's schema, run `run` —
 * which calls an operation that knows nothing of HTTP — then commit the audit entry and only
 * then answer (sendAudited). A refusal at any step goes to the app's error handler, which
 * answers through the same door.
 */
export function operations(ctx: KmsHttpContext, on: ReturnType<typeof mounter>): OperationMount {
  return (schema, name, action, run) =>
    on(
      schema,
      async (input, req, res) => {
        const answer = await run(input, req, res);
        if (answer.version) (res.locals.audit as AuditNote).version = answer.version;
        const status = answer.status ?? (answer.body === undefined ? 204 : 200);
        await sendAudited(ctx, res, status, () => (answer.body === undefined ? res.status(status).end() : res.status(status).json(answer.body)));
      },
      authorize(ctx, name, action),
    );
}
