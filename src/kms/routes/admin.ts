import { timingSafeEqual } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { KmsBadParameter, RoleAssignmentNotFound, Unauthorized } from '../../errors';
import type { Decision } from '../audit';
import { addRoleAudited, removeRoleAudited } from '../auth/audited-roles';
import { sendAudited, type AuditNote } from './audited-answer';
import { body, optionalString, requiredString } from '../wire/fields';
import type { KmsHttpContext } from './context';

/**
 * The admin API (role assignments, audit queries), authorized by the KMS's admin token
 * (0600 in its state directory) rather than by a role: it is what grants roles. Answers leave
 * through sendAudited; a role change is recorded in its own transaction (addRoleAudited).
 */
export function adminRouter(ctx: KmsHttpContext): Router {
  const router = Router();
  const expected = Buffer.from(`Bearer ${ctx.adminToken}`);
  router.use((req: Request, res: Response, next: NextFunction) => {
    (res.locals.audit as AuditNote).operation = 'admin';
    const given = Buffer.from(req.get('authorization') ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      next(new Unauthorized('the admin API needs the KMS admin token'));
      return;
    }
    (res.locals.audit as AuditNote).principal = 'admin';
    next();
  });
  // Parsed only once the token checks out: an unauthenticated caller learns nothing from how its body fails.
  router.use(express.json({ limit: ctx.bodyLimit, type: () => true }));
  /** Notes the admin operation and its route pattern for the audit log. */
  const noted = (req: Request, res: Response, operation: string): AuditNote => {
    const note = res.locals.audit as AuditNote;
    note.operation = operation;
    note.route = `/admin${(req.route as { path: string }).path}`;
    return note;
  };
  const actor = (note: AuditNote) => ({ time: ctx.core.now(), principal: note.principal, route: note.route, source: note.source });
  router.get('/roles', async (req, res) => {
    noted(req, res, 'role.list');
    const value = ctx.rbac.list(typeof req.query.principal === 'string' ? req.query.principal : undefined);
    await sendAudited(ctx, res, 200, () => res.json({ value }));
  });
  router.post('/roles', async (req, res) => {
    const note = noted(req, res, 'role.add');
    const b = body(req.body);
    const added = await addRoleAudited(ctx.rbac, ctx.audit, actor(note), requiredString(b, 'principal'), requiredString(b, 'role'), optionalString(b, 'scope'));
    note.committed = true;
    await sendAudited(ctx, res, 201, () => res.status(201).json(added));
  });
  router.delete('/roles/:id', async (req, res, next) => {
    const note = noted(req, res, 'role.remove');
    if (!(await removeRoleAudited(ctx.rbac, ctx.audit, actor(note), { id: req.params.id }))) {
      next(new RoleAssignmentNotFound(req.params.id));
      return;
    }
    note.committed = true;
    await sendAudited(ctx, res, 204, () => res.status(204).end());
  });
  router.get('/audit', async (req, res) => {
    noted(req, res, 'audit.query');
    const q = (name: string) => (typeof req.query[name] === 'string' ? (req.query[name] as string) : undefined);
    /** An integer within bounds, or a 400: `limit=.2` or `since=NaN` would reach SQLite as a value it refuses (a 500), `limit=-1` as no limit at all. */
    const integer = (name: string, min: number, max: number): number | undefined => {
      const text = q(name);
      if (text === undefined) return undefined;
      if (!/^-?\d{1,16}$/.test(text) || Number(text) < min || Number(text) > max) throw new KmsBadParameter(`${name} must be an integer ${min}..${max}`);
      return Number(text);
    };
    const value = await ctx.audit.query({
      key: q('key'),
      principal: q('principal'),
      decision: q('decision') as Decision | undefined,
      since: integer('since', 0, Number.MAX_SAFE_INTEGER),
      limit: integer('limit', 1, 1000),
    });
    await sendAudited(ctx, res, 200, () => res.json({ value }));
  });
  return router;
}
