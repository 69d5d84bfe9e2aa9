import { createKey, getKey, importKey, listKeys, listKeyVersions, updateKey } from '../operations/keys';
import { DEFAULT_LIFETIME_ACTIONS, getRotationPolicy, rotateNow, setRotationPolicy } from '../operations/rotation';
import { keyBundle, keyId, keyItem } from '../wire/bundle';
import { pageBody, pageRequest } from '../wire/paging';
import type { KmsHttpContext } from './context';
import type { OperationMount } from './operation';
import { KMS_ROUTES as R } from './schemas';

/** Key management: create, import, get, update, list, versions, rotate, rotation policy. */
export function mountKeyRoutes(ctx: KmsHttpContext, op: OperationMount): void {
  const bundle = (v: Parameters<typeof keyBundle>[1]) => ({ body: keyBundle(ctx.bundle, v), version: v.version });
  const policyId = (name: string) => `${keyId(ctx.bundle.vaultUrl, name)}/rotationpolicy`;

  op(R.listKeys, 'list', 'keys/list', async ({ query }, req) => {
    const { limit, after } = pageRequest(query);
    return { body: pageBody(ctx.bundle.vaultUrl, req.path, query, await listKeys(ctx.core, limit, after), (v) => keyItem(ctx.bundle, v, false), limit) };
  });
  op(R.createKey, 'create', 'keys/create', async ({ params, body }) => bundle(await createKey(ctx.core, params.name, body)));
  op(R.importKey, 'import', 'keys/import', async ({ params, body }) => bundle(await importKey(ctx.core, params.name, body)));
  op(R.listVersions, 'listVersions', 'keys/list', async ({ params, query }, req) => {
    const { limit, after } = pageRequest(query);
    return { body: pageBody(ctx.bundle.vaultUrl, req.path, query, await listKeyVersions(ctx.core, params.name, limit, after), (v) => keyItem(ctx.bundle, v, true), limit) };
  });
  op(R.rotate, 'rotate', 'keys/rotate', async ({ params }) => bundle(await rotateNow(ctx.core, params.name)));
  op(R.getRotationPolicy, 'getRotationPolicy', 'keys/rotationpolicy/read', async ({ params }) => ({ body: rotationPolicyBody(policyId(params.name), await getRotationPolicy(ctx.core, params.name)) }));
  op(R.setRotationPolicy, 'setRotationPolicy', 'keys/rotationpolicy/write', async ({ params, body }) => ({
    body: rotationPolicyBody(policyId(params.name), await setRotationPolicy(ctx.core, params.name, body)),
  }));
  op(R.getKey, 'get', 'keys/read', async ({ params }) => bundle(await getKey(ctx.core, params.name)));
  op(R.getKeyVersion, 'get', 'keys/read', async ({ params }) => bundle(await getKey(ctx.core, params.name, params.version)));
  op(R.updateKey, 'update', 'keys/update', async ({ params, body }) => bundle(await updateKey(ctx.core, params.name, undefined, body)));
  op(R.updateKeyVersion, 'update', 'keys/update', async ({ params, body }) => bundle(await updateKey(ctx.core, params.name, params.version, body)));
}

function rotationPolicyBody(id: string, policy: Awaited<ReturnType<typeof getRotationPolicy>>): unknown {
  if (!policy) return { id, lifetimeActions: DEFAULT_LIFETIME_ACTIONS, attributes: {} };
  return {
    id,
    lifetimeActions: policy.lifetimeActions,
    attributes: { ...(policy.expiryTime ? { expiryTime: policy.expiryTime } : {}), created: policy.created, updated: policy.updated },
  };
}
