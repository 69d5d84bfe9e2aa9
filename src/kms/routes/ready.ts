import type { Response } from 'express';
import { StoreUnavailable } from '../../errors';
import type { RouteMount } from '../../lib/route';
import { sendKvError } from '../wire/envelope';
import type { KmsHttpContext } from './context';
import { KMS_ROUTES as R } from './schemas';

/**
 * `GET /ready`: 200 when the key store and the audit log answer a query, 503 store_unavailable
 * otherwise — what a load balancer health-checks before sending a replica requests. It needs no
 * token and reveals nothing but up or down; probed every few seconds, it is not put on the audit
 * log (it reads nothing a caller could not learn by trying a request).
 */
export function mountReadyRoute(ctx: KmsHttpContext, on: RouteMount): void {
  on(R.ready, async (_in, _req, res: Response) => {
    try {
      await ctx.core.store.ping();
      await ctx.audit.query({ limit: 1 });
    } catch {
      sendKvError(res, new StoreUnavailable());
      return;
    }
    res.json({ status: 'ready' });
  });
}
