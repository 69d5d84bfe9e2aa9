import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { SkrError, Unauthorized } from '../../errors';
import type { KmsHttpContext } from '../routes/context';
import { authenticate } from './bearer';

/**
 * Key Vault's challenge: a request without a bearer token is answered 401 with
 * `WWW-Authenticate: Bearer authorization="…", resource="…"` before its body is read (the
 * SDK's first request carries none); a token that does not verify gets the same challenge.
 * On success the caller is in `res.locals.caller`.
 */
export function challenge(ctx: KmsHttpContext, fail: (res: Response, error: unknown) => void): RequestHandler {
  // The SDK splits the header on spaces and '=': neither may appear inside the quoted values.
  const header = `Bearer authorization="${ctx.authority}", resource="${ctx.resource}"`;
  return async (req: Request, res: Response, next: NextFunction) => {
    const match = /^Bearer +([A-Za-z0-9._~+/=-]+)$/.exec(req.get('authorization') ?? '');
    if (!match) {
      res.set('WWW-Authenticate', header);
      fail(res, new Unauthorized('AKV10000: Request is missing a Bearer or PoP token.'));
      return;
    }
    try {
      res.locals.caller = await authenticate(match[1]!, ctx.verifier, ctx.audiences);
    } catch (error) {
      res.set('WWW-Authenticate', header);
      fail(res, error instanceof SkrError ? error : new Unauthorized('the bearer token cannot be verified'));
      return;
    }
    (res.locals.audit as { principal?: string }).principal = res.locals.caller.principal;
    next();
  };
}
