import express, { type NextFunction, type Request, type Response } from 'express';
import { KmsBadParameter, KmsOperationNotFound, SkrError } from '../errors';
import { errorHandler, type ErrorEnvelope } from '../lib/http-errors';
import { openApiDocument } from '../lib/openapi';
import { mounter } from '../lib/route';
import { challenge } from './auth/challenge';
import { mountAdminRoutes } from './routes/admin';
import { sendAudited, type AuditNote } from './routes/audited-answer';
import { mountBackupRoutes } from './routes/backup';
import type { KmsHttpContext } from './routes/context';
import { mountCryptoRoutes } from './routes/crypto';
import { mountKeyRoutes } from './routes/keys';
import { mountLifecycleRoutes } from './routes/lifecycle';
import { operations } from './routes/operation';
import { mountReadyRoute } from './routes/ready';
import { mountReleaseRoutes } from './routes/release';
import { mountRngRoute } from './routes/rng';
import { mountSecretRoutes } from './routes/secrets';
import { routePatternOf } from './routes/route-pattern';
import { KMS_ROUTES as R } from './routes/schemas';
import { sendKvError } from './wire/envelope';
import { KvError } from './wire/schemas';

/** The KMS's API as OpenAPI 3.1, served at /openapi.json: built from the schemas that validate its requests. */
export const KMS_OPENAPI = openApiDocument(
  { title: 'skr kms', version: '1.0.0', description: 'Azure Key Vault / Managed HSM-compatible key management service (keys and secrets APIs, secure key release, admin API).' },
  Object.values(R),
  KvError,
);

/**
 * The KMS's HTTP surface in Key Vault's shape. Order matters: note every request for the
 * audit log; the readiness probe (unaudited, see routes/ready.ts); the admin API (its own token, checked before its body is read); the challenge
 * (401 before any body is read); then the body (size-limited JSON) and the routes, each
 * authorized before its schema checks the request. Every answer, errors included, leaves
 * through sendAudited: its entry is committed first.
 */
export function createKmsApp(ctx: KmsHttpContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  const fail = (res: Response, error: unknown) => {
    const status = error instanceof SkrError ? error.status : 500;
    void sendAudited(ctx, res, status, () => sendKvError(res, error), error);
  };
  // A request that breaks its route's schema or is not JSON is Key Vault's BadParameter.
  const envelope: ErrorEnvelope = { send: fail, invalid: (message, details) => new KmsBadParameter(message, details) };
  const on = mounter(app, envelope);

  app.use((req: Request, res: Response, next: NextFunction) => {
    // Until a route takes the request: its method and the pattern of its path.
    const note: AuditNote = { operation: req.method, route: routePatternOf(req.path), source: req.socket.remoteAddress ?? 'unknown' };
    res.locals.audit = note;
    next();
  });

  // The SDK asks for the latest version of a key with an empty segment (`/keys/k//encrypt`).
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const q = req.url.indexOf('?');
    const path = q < 0 ? req.url : req.url.slice(0, q);
    if (path.includes('//')) req.url = path.replace(/\/{2,}/g, '/') + (q < 0 ? '' : req.url.slice(q));
    next();
  });
  // Before the challenge: a load balancer probes readiness without a token.
  mountReadyRoute(ctx, on);
  mountAdminRoutes(ctx, app, on);
  app.use(challenge(ctx, fail));
  app.use(express.json({ limit: ctx.bodyLimit, type: () => true }));
  // Key Vault reads an absent body as an empty object: a PATCH without one changes nothing.
  app.use((req: Request, _res: Response, next: NextFunction) => {
    req.body ??= {};
    next();
  });

  on(R.openapi, async (_in, _req, res) => {
    (res.locals.audit as AuditNote).operation = 'openapi';
    await sendAudited(ctx, res, 200, () => res.json(KMS_OPENAPI));
  });
  const op = operations(ctx, on);
  mountKeyRoutes(ctx, op);
  mountLifecycleRoutes(ctx, op);
  mountCryptoRoutes(ctx, op);
  mountBackupRoutes(ctx, op);
  mountReleaseRoutes(ctx, op);
  mountRngRoute(op);
  mountSecretRoutes(ctx, op);

  app.use((req: Request, res: Response) => {
    fail(res, new KmsOperationNotFound(`Method ${req.method} does not allow operation on ${(res.locals.audit as AuditNote).route}`));
  });
  // body-parser's refusals become BadParameter or 413 as on every surface; other 4xx Express raises are the client's.
  app.use(errorHandler(envelope, ctx.bodyLimit));
  return app;
}
