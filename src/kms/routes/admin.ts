import { timingSafeEqual } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { KmsBadParameter, RoleAssignmentNotFound, Unauthorized } from '../../errors';
import type { Decision } from '../audit';
import { body, optionalString, requiredString } from '../wire/fields';
import type { KmsHttpContext } from './context';
import type { AuditNote } from './operation';

/**
 * The admin API (role assignments, audit queries), authorized by the KMS's admin token
 * (0600 in its state directory) rather than by a role: it is what grants roles.
 */
export function adminRouter(ctx: KmsHttpContext): Router {
  const router = Router();
  const expected = Buffer.from(`Bearer ${ctx.adminToken}`);
  router.use((req: Request, res: Response, next: NextFunction) => {
    (res.locals.audit as AuditNote).operation = `admin ${req.method} ${req.path}`;
    (res.locals.audit as AuditNote).principal = 'admin';
    const given = Buffer.from(req.get('authorization') ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      next(new Unauthorized('the admin API needs the KMS admin token'));
      return;
    }
    next();
  });
  // Parsed only once the token checks out: an unauthenticated caller learns nothing from how its body fails.
  router.use(express.json({ limit: ctx.bodyLimit, type: () => true }));
  router.get('/roles', (req, res) => {
    res.json({ value: ctx.rbac.list(typeof req.query.principal === 'string' ? req.query.principal : undefined) });
  });
  router.post('/roles', (req, res) => {
    const b = body(req.body);
    res.status(201).json(ctx.rbac.add(requiredString(b, 'principal'), requiredString(b, 'role'), optionalString(b, 'scope')));
  });
  router.delete('/roles/:id', (req, res, next) => {
    if (!ctx.rbac.remove({ id: req.params.id })) {
      next(new RoleAssignmentNotFound(req.params.id));
      return;
    }
    res.status(204).end();
  });
  router.get('/audit', (req, res) => {
    const q = (name: string) => (typeof req.query[name] === 'string' ? (req.query[name] as string) : undefined);
    /** An integer within bounds, or a 400: `limit=.2` or `since=NaN` would reach SQLite as a value it refuses (a 500), `limit=-1` as no limit at all. */
    const integer = (name: string, min: number, max: number): number | undefined => {
      const text = q(name);
      if (text === undefined) return undefined;
      if (!/^-?\d{1,16}$/.test(text) || Number(text) < min || Number(text) > max) throw new KmsBadParameter(`${name} must be an integer ${min}..${max}`);
      return Number(text);
    };
    res.json({
      value: ctx.audit.query({
        key: q('key'),
        principal: q('principal'),
        decision: q('decision') as Decision | undefined,
        since: integer('since', 0, Number.MAX_SAFE_INTEGER),
        limit: integer('limit', 1, 1000),
      }),
    });
  });
  return router;
}
