import { Router } from 'express';
import { createKey, getKey, importKey, listKeys, listKeyVersions, updateKey } from '../operations/keys';
import { DEFAULT_LIFETIME_ACTIONS, getRotationPolicy, rotateNow, setRotationPolicy } from '../operations/rotation';
import { keyBundle, keyId, keyItem } from '../wire/bundle';
import { body } from '../wire/fields';
import { pageBody, pageRequest } from '../wire/paging';
import type { KmsHttpContext } from './context';
import { operation } from './operation';

/** Key management: create, import, get, update, list, versions, rotate, rotation policy. */
export function keysRouter(ctx: KmsHttpContext): Router {
  const router = Router();
  const bundle = (v: Parameters<typeof keyBundle>[1]) => ({ body: keyBundle(ctx.bundle, v), version: v.version });

  router.get(
    '/keys',
    operation(ctx, 'list', 'keys/list', async (req) => {
      const { limit, after } = pageRequest(req);
      return { body: pageBody(ctx.bundle.vaultUrl, req, await listKeys(ctx.core, limit, after), (v) => keyItem(ctx.bundle, v, false), limit) };
    }),
  );
  router.post('/keys/:name/create', operation(ctx, 'create', 'keys/create', async (req) => bundle(await createKey(ctx.core, req.params.name as string, body(req.body)))));
  router.put('/keys/:name', operation(ctx, 'import', 'keys/import', async (req) => bundle(await importKey(ctx.core, req.params.name as string, body(req.body)))));
  router.get(
    '/keys/:name/versions',
    operation(ctx, 'listVersions', 'keys/list', async (req) => {
      const { limit, after } = pageRequest(req);
      const page = await listKeyVersions(ctx.core, req.params.name as string, limit, after);
      return { body: pageBody(ctx.bundle.vaultUrl, req, page, (v) => keyItem(ctx.bundle, v, true), limit) };
    }),
  );
  router.post('/keys/:name/rotate', operation(ctx, 'rotate', 'keys/rotate', async (req) => bundle(await rotateNow(ctx.core, req.params.name as string))));
  router.get(
    '/keys/:name/rotationpolicy',
    operation(ctx, 'getRotationPolicy', 'keys/rotationpolicy/read', async (req) => {
      const name = req.params.name as string;
      const policy = await getRotationPolicy(ctx.core, name);
      return { body: rotationPolicyBody(`${keyId(ctx.bundle.vaultUrl, name)}/rotationpolicy`, policy) };
    }),
  );
  router.put(
    '/keys/:name/rotationpolicy',
    operation(ctx, 'setRotationPolicy', 'keys/rotationpolicy/write', async (req) => {
      const name = req.params.name as string;
      return { body: rotationPolicyBody(`${keyId(ctx.bundle.vaultUrl, name)}/rotationpolicy`, await setRotationPolicy(ctx.core, name, body(req.body))) };
    }),
  );
  router.get('/keys/:name', operation(ctx, 'get', 'keys/read', async (req) => bundle(await getKey(ctx.core, req.params.name as string))));
  router.get('/keys/:name/:version', operation(ctx, 'get', 'keys/read', async (req) => bundle(await getKey(ctx.core, req.params.name as string, req.params.version as string))));
  router.patch('/keys/:name', operation(ctx, 'update', 'keys/update', async (req) => bundle(await updateKey(ctx.core, req.params.name as string, undefined, body(req.body)))));
  router.patch(
    '/keys/:name/:version',
    operation(ctx, 'update', 'keys/update', async (req) => bundle(await updateKey(ctx.core, req.params.name as string, req.params.version as string, body(req.body)))),
  );
  return router;
}

function rotationPolicyBody(id: string, policy: Awaited<ReturnType<typeof getRotationPolicy>>): unknown {
  if (!policy) return { id, lifetimeActions: DEFAULT_LIFETIME_ACTIONS, attributes: {} };
  return {
    id,
    lifetimeActions: policy.lifetimeActions,
    attributes: { ...(policy.expiryTime ? { expiryTime: policy.expiryTime } : {}), created: policy.created, updated: policy.updated },
  };
}
