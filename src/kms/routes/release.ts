import { Router, type Request } from 'express';
import type { KeyReleaseRequest } from '../release-context';
import { body, optionalString, requiredString } from '../wire/fields';
import type { KmsHttpContext } from './context';
import { operation } from './operation';

function parseRelease(req: Request): KeyReleaseRequest {
  const b = body(req.body);
  const version = req.params.version as string | undefined;
  const nonce = optionalString(b, 'nonce');
  const enc = optionalString(b, 'enc');
  return {
    name: req.params.name as string,
    ...(version ? { version } : {}),
    target: requiredString(b, 'target'),
    ...(nonce !== undefined ? { nonce } : {}),
    ...(enc !== undefined ? { enc } : {}),
    apiVersion: String(req.query['api-version']),
  };
}

/** `POST /keys/{name}[/{version}]/release`: authorized and parsed here, performed by the KMS's release function. */
export function releaseRouter(ctx: KmsHttpContext): Router {
  const router = Router();
  const handler = operation(ctx, 'release', 'keys/release', async (req, res) => {
    const result = await ctx.release(parseRelease(req), {
      store: ctx.core.store,
      vaultUrl: ctx.bundle.vaultUrl,
      caller: res.locals.caller,
      now: ctx.core.now,
    });
    return { body: { value: result.value }, version: result.version };
  });
  router.post('/keys/:name/release', handler);
  router.post('/keys/:name/:version/release', handler);
  return router;
}
