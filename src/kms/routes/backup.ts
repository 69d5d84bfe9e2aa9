import { Router } from 'express';
import { backupKey, restoreKey } from '../operations/backup';
import { keyBundle } from '../wire/bundle';
import { b64, body, requiredBytes } from '../wire/fields';
import type { KmsHttpContext } from './context';
import { operation } from './operation';

/** `POST /keys/{name}/backup` → `{value}`; `POST /keys/restore` `{value}` → KeyBundle. */
export function backupRouter(ctx: KmsHttpContext): Router {
  const router = Router();
  router.post('/keys/restore', operation(ctx, 'restore', 'keys/restore', async (req) => {
    const restored = await restoreKey(ctx.core, requiredBytes(body(req.body), 'value'));
    return { body: keyBundle(ctx.bundle, restored), version: restored.version };
  }));
  router.post('/keys/:name/backup', operation(ctx, 'backup', 'keys/backup', async (req) => ({ body: { value: b64(await backupKey(ctx.core, req.params.name as string)) } })));
  return router;
}
