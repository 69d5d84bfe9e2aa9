import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import { b64, body, optionalInteger } from '../wire/fields';
import { KmsBadParameter } from '../../errors';
import type { KmsHttpContext } from './context';
import { operation } from './operation';

/** Managed HSM's `POST /rng` `{count ≤ 128}` → `{value}` (the SDK's getRandomBytes). */
export function rngRouter(ctx: KmsHttpContext): Router {
  const router = Router();
  router.post('/rng', operation(ctx, 'rng', 'rng', (req) => {
    const count = optionalInteger(body(req.body), 'count', 1, 128);
    if (count === undefined) throw new KmsBadParameter('count is required (1..128)');
    return { body: { value: b64(randomBytes(count)) } };
  }));
  return router;
}
