import express, { type NextFunction, type Request, type Response } from 'express';
import { KmsBadParameter, KmsOperationNotFound, SkrError } from '../errors';
import { requestErrorOf } from '../lib/http-errors';
import { challenge } from './auth/challenge';
import { adminRouter } from './routes/admin';
import { backupRouter } from './routes/backup';
import type { KmsHttpContext } from './routes/context';
import { cryptoRouter } from './routes/crypto';
import { keysRouter } from './routes/keys';
import { lifecycleRouter } from './routes/lifecycle';
import { sendAudited, type AuditNote } from './routes/audited-answer';
import { readyRouter } from './routes/ready';
import { releaseRouter } from './routes/release';
import { rngRouter } from './routes/rng';
import { routePatternOf } from './routes/route-pattern';
import { checkApiVersion } from './wire/api-version';
import { sendKvError } from './wire/envelope';

/** A request body that is not JSON is Key Vault's BadParameter. */
const KMS_INVALID = { invalid: (message: string) => new KmsBadParameter(message) };

/**
 * The KMS's HTTP surface in Key Vault's shape. Order matters: note every request for the
 * audit log; the readiness probe (unaudited, see routes/ready.ts); the admin API (its own token, checked before its body is read); the challenge (401 before any body is read);
 * api-version; then the body (size-limited JSON) and the routes. Every answer, errors
 * included, leaves through sendAudited: its entry is committed first.
 */
export function createKmsApp(ctx: KmsHttpContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  const fail = (res: Response, error: unknown) => {
    const status = error instanceof SkrError ? error.status : 500;
    void sendAudited(ctx, res, status, () => sendKvError(res, error), error);
  };

  app.use((req: Request, res: Response, next: NextFunction) => {
    ctx.inFlight.count++;
    res.once('close', () => ctx.inFlight.count--);
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
  app.use(readyRouter(ctx));
  app.use('/admin', adminRouter(ctx));
  app.use(challenge(ctx, fail));
  app.use((req: Request, _res: Response, next: NextFunction) => {
    try {
      checkApiVersion(req.query['api-version']);
      next();
    } catch (error) {
      next(error);
    }
  });
  app.use(express.json({ limit: ctx.bodyLimit, type: () => true }));
  app.use(keysRouter(ctx));
  app.use(lifecycleRouter(ctx));
  app.use(cryptoRouter(ctx));
  app.use(backupRouter(ctx));
  app.use(releaseRouter(ctx));
  app.use(rngRouter(ctx));

  app.use((req: Request, res: Response) => {
    fail(res, new KmsOperationNotFound(`Method ${req.method} does not allow operation on ${(res.locals.audit as AuditNote).route}`));
  });
  // body-parser's refusals become BadParameter or 413 as on every surface; other 4xx Express raises are the client's.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => fail(res, requestErrorOf(error, ctx.bodyLimit, KMS_INVALID)));
  return app;
}
