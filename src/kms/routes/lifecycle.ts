import { Router } from 'express';
import { deleteKey, getDeletedKey, listDeletedKeys, purgeDeletedKey, recoverDeletedKey } from '../operations/lifecycle';
import { deletedKeyBundle, deletedKeyItem, keyBundle } from '../wire/bundle';
import { pageBody, pageRequest } from '../wire/paging';
import type { KmsHttpContext } from './context';
import { operation } from './operation';

/** Soft delete, the deleted-keys collection, recover and purge. */
export function lifecycleRouter(ctx: KmsHttpContext): Router {
  const router = Router();
  router.delete(
    '/keys/:name',
    operation(ctx, 'delete', 'keys/delete', async (req) => {
      const { latest, deleted } = await deleteKey(ctx.core, req.params.name as string);
      return { body: deletedKeyBundle(ctx.bundle, latest, deleted), version: latest.version };
    }),
  );
  router.get(
    '/deletedkeys',
    operation(ctx, 'listDeleted', 'deletedkeys/read', async (req) => {
      const { limit, after } = pageRequest(req);
      return { body: pageBody(ctx.bundle.vaultUrl, req, await listDeletedKeys(ctx.core, limit, after), (d) => deletedKeyItem(ctx.bundle, d.latest, d.deleted), limit) };
    }),
  );
  router.get(
    '/deletedkeys/:name',
    operation(ctx, 'getDeleted', 'deletedkeys/read', async (req) => {
      const { latest, deleted } = await getDeletedKey(ctx.core, req.params.name as string);
      return { body: deletedKeyBundle(ctx.bundle, latest, deleted), version: latest.version };
    }),
  );
  router.post(
    '/deletedkeys/:name/recover',
    operation(ctx, 'recover', 'deletedkeys/recover', async (req) => {
      const latest = await recoverDeletedKey(ctx.core, req.params.name as string);
      return { body: keyBundle(ctx.bundle, latest), version: latest.version };
    }),
  );
  router.delete(
    '/deletedkeys/:name',
    operation(ctx, 'purge', 'deletedkeys/purge', async (req) => {
      await purgeDeletedKey(ctx.core, req.params.name as string);
      return { status: 204 };
    }),
  );
  return router;
}
