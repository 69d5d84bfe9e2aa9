import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { RoleAssignmentNotFound, Unauthorized } from '../../errors';
import type { mounter } from '../../lib/route';
import { addRoleAudited, removeRoleAudited } from '../auth/audited-roles';
import { sendAudited, type AuditNote } from './audited-answer';
import type { KmsHttpContext } from './context';
import { KMS_ROUTES as R } from './schemas';

/**
 * The admin API (role assignments, audit queries), authorized by the KMS's admin token
 * (0600 in its state directory) rather than by a role: it is what grants roles. Every /admin
 * request, routed or not, is checked for the token before its body is read. Answers leave
 * through sendAudited; a role change is recorded in its own transaction (addRoleAudited).
 */
export function mountAdminRoutes(ctx: KmsHttpContext, app: express.Express, on: ReturnType<typeof mounter>): void {
  const expected = Buffer.from(`Bearer ${ctx.adminToken}`);
  app.use('/admin', (req: Request, res: Response, next: NextFunction) => {
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
  app.use('/admin', express.json({ limit: ctx.bodyLimit, type: () => true }));

  /** Notes the admin operation and its route pattern for the audit log, before the request is checked. */
  const noted = (operation: string) => (req: Request, res: Response, next: NextFunction) => {
    const note = res.locals.audit as AuditNote;
    note.operation = operation;
    note.route = (req.route as { path: string }).path;
    next();
  };
  const actor = (note: AuditNote) => ({ time: ctx.core.now(), principal: note.principal, route: note.route, source: note.source });

  on(
    R.listRoles,
    async ({ query }, _req, res) => {
      const value = await ctx.rbac.list(query.principal);
      await sendAudited(ctx, res, 200, () => res.json({ value }));
    },
    noted('role.list'),
  );
  on(
    R.addRole,
    async ({ body }, _req, res) => {
      const note = res.locals.audit as AuditNote;
      const added = await addRoleAudited(ctx.rbac, ctx.audit, actor(note), body.principal, body.role, body.scope ?? undefined);
      note.committed = true;
      await sendAudited(ctx, res, 201, () => res.status(201).json(added));
    },
    noted('role.add'),
  );
  on(
    R.removeRole,
    async ({ params }, _req, res) => {
      const note = res.locals.audit as AuditNote;
      if (!(await removeRoleAudited(ctx.rbac, ctx.audit, actor(note), { id: params.id }))) throw new RoleAssignmentNotFound(params.id);
      note.committed = true;
      await sendAudited(ctx, res, 204, () => res.status(204).end());
    },
    noted('role.remove'),
  );
  on(
    R.queryAudit,
    async ({ query }, _req, res) => {
      const value = await ctx.audit.query({
        key: query.key,
        principal: query.principal,
        decision: query.decision,
        since: query.since === undefined ? undefined : Number(query.since),
        limit: query.limit === undefined ? undefined : Number(query.limit),
      });
      await sendAudited(ctx, res, 200, () => res.json({ value }));
    },
    noted('audit.query'),
  );
}
