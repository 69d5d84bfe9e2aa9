import { backupSecret, restoreSecret } from '../operations/secret-backup';
import {
  deleteSecret,
  getDeletedSecret,
  getSecret,
  listDeletedSecrets,
  listSecrets,
  listSecretVersions,
  purgeDeletedSecret,
  recoverDeletedSecret,
  setSecret,
  updateSecret,
} from '../operations/secrets';
import { b64, bytes } from '../wire/bytes';
import { pageBody, pageRequest } from '../wire/paging';
import { deletedSecretBundle, secretBundle, secretItem } from '../wire/secret-bundle';
import type { KmsHttpContext } from './context';
import type { OperationMount } from './operation';
import { KMS_ROUTES as R } from './schemas';

/**
 * Key Vault's secrets data plane. Only set and get answer a value; the audit log gets the
 * secret's name and version (the operation layer's `version`), never the value.
 */
export function mountSecretRoutes(ctx: KmsHttpContext, op: OperationMount): void {
  const properties = (v: Parameters<typeof secretBundle>[1]) => ({ body: secretBundle(ctx.bundle, v), version: v.version });

  op(R.listSecrets, 'listSecrets', 'secrets/readMetadata', async ({ query }, req) => {
    const { limit, after } = pageRequest(query);
    return { body: pageBody(ctx.bundle.vaultUrl, req.path, query, await listSecrets(ctx.core, limit, after), (v) => secretItem(ctx.bundle, v, false), limit) };
  });
  op(R.restoreSecret, 'restoreSecret', 'secrets/restore', async ({ body }) => properties(await restoreSecret(ctx.core, bytes(body.value))));
  op(R.setSecret, 'setSecret', 'secrets/setSecret', async ({ params, body }) => {
    const set = await setSecret(ctx.core, params.name, body);
    return { body: secretBundle(ctx.bundle, set, body.value), version: set.version };
  });
  op(R.listSecretVersions, 'listSecretVersions', 'secrets/readMetadata', async ({ params, query }, req) => {
    const { limit, after } = pageRequest(query);
    return { body: pageBody(ctx.bundle.vaultUrl, req.path, query, await listSecretVersions(ctx.core, params.name, limit, after), (v) => secretItem(ctx.bundle, v, true), limit) };
  });
  op(R.backupSecret, 'backupSecret', 'secrets/backup', async ({ params }) => ({ body: { value: b64(await backupSecret(ctx.core, params.name)) } }));
  const get = async (name: string, version?: string) => {
    const found = await getSecret(ctx.core, name, version);
    return { body: secretBundle(ctx.bundle, found.version, found.value), version: found.version.version };
  };
  op(R.getSecret, 'getSecret', 'secrets/getSecret', ({ params }) => get(params.name));
  op(R.getSecretVersion, 'getSecret', 'secrets/getSecret', ({ params }) => get(params.name, params.version));
  op(R.updateSecretVersion, 'updateSecret', 'secrets/update', async ({ params, body }) => properties(await updateSecret(ctx.core, params.name, params.version, body)));

  op(R.deleteSecret, 'deleteSecret', 'secrets/delete', async ({ params }) => {
    const { latest, deleted } = await deleteSecret(ctx.core, params.name);
    return { body: deletedSecretBundle(ctx.bundle, latest, deleted), version: latest.version };
  });
  op(R.listDeletedSecrets, 'listDeletedSecrets', 'secrets/readMetadata', async ({ query }, req) => {
    const { limit, after } = pageRequest(query);
    return { body: pageBody(ctx.bundle.vaultUrl, req.path, query, await listDeletedSecrets(ctx.core, limit, after), (d) => deletedSecretBundle(ctx.bundle, d.latest, d.deleted, false), limit) };
  });
  op(R.getDeletedSecret, 'getDeletedSecret', 'secrets/readMetadata', async ({ params }) => {
    const { latest, deleted } = await getDeletedSecret(ctx.core, params.name);
    return { body: deletedSecretBundle(ctx.bundle, latest, deleted), version: latest.version };
  });
  op(R.recoverSecret, 'recoverSecret', 'secrets/recover', async ({ params }) => properties(await recoverDeletedSecret(ctx.core, params.name)));
  op(R.purgeSecret, 'purgeSecret', 'secrets/purge', async ({ params }) => {
    await purgeDeletedSecret(ctx.core, params.name);
    return { status: 204 };
  });
}
