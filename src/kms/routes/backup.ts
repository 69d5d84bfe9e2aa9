import { backupKey, restoreKey } from '../operations/backup';
import { keyBundle } from '../wire/bundle';
import { b64, bytes } from '../wire/bytes';
import type { KmsHttpContext } from './context';
import type { OperationMount } from './operation';
import { KMS_ROUTES as R } from './schemas';

/** `POST /keys/{name}/backup` → `{value}`; `POST /keys/restore` `{value}` → KeyBundle. */
export function mountBackupRoutes(ctx: KmsHttpContext, on: OperationMount): void {
  on(R.restore, 'restore', 'keys/restore', async ({ body }) => {
    const restored = await restoreKey(ctx.core, bytes(body.value));
    return { body: keyBundle(ctx.bundle, restored), version: restored.version };
  });
  on(R.backup, 'backup', 'keys/backup', async ({ params }) => ({ body: { value: b64(await backupKey(ctx.core, params.name)) } }));
}
