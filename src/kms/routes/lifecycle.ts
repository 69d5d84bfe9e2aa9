import { deleteKey, getDeletedKey, listDeletedKeys, purgeDeletedKey, recoverDeletedKey } from '../operations/lifecycle';
import { deletedKeyBundle, deletedKeyItem, keyBundle } from '../wire/bundle';
import { pageBody, pageRequest } from '../wire/paging';
import type { KmsHttpContext } from './context';
import type { OperationMount } from './operation';
import { KMS_ROUTES as R } from './schemas';

/** Soft delete, the deleted-keys collection, recover and purge. */
export function mountLifecycleRoutes(ctx: KmsHttpContext, op: OperationMount): void {
  op(R.deleteKey, 'delete', 'keys/delete', async ({ params }) => {
    const { latest, deleted } = await deleteKey(ctx.core, params.name);
    return { body: deletedKeyBundle(ctx.bundle, latest, deleted), version: latest.version };
  });
  op(R.listDeleted, 'listDeleted', 'deletedkeys/read', async ({ query }, req) => {
    const { limit, after } = pageRequest(query);
    return { body: pageBody(ctx.bundle.vaultUrl, req.path, query, await listDeletedKeys(ctx.core, limit, after), (d) => deletedKeyItem(ctx.bundle, d.latest, d.deleted), limit) };
  });
  op(R.getDeleted, 'getDeleted', 'deletedkeys/read', async ({ params }) => {
    const { latest, deleted } = await getDeletedKey(ctx.core, params.name);
    return { body: deletedKeyBundle(ctx.bundle, latest, deleted), version: latest.version };
  });
  op(R.recover, 'recover', 'deletedkeys/recover', async ({ params }) => {
    const latest = await recoverDeletedKey(ctx.core, params.name);
    return { body: keyBundle(ctx.bundle, latest), version: latest.version };
  });
  op(R.purge, 'purge', 'deletedkeys/purge', async ({ params }) => {
    await purgeDeletedKey(ctx.core, params.name);
    return { status: 204 };
  });
}
