import type { KmsHttpContext } from './context';
import type { OperationMount } from './operation';
import { KMS_ROUTES as R } from './schemas';

/** `POST /keys/{name}[/{version}]/release`: authorized and checked here, performed by the KMS's release function. */
export function mountReleaseRoutes(ctx: KmsHttpContext, on: OperationMount): void {
  for (const schema of [R.release, R.releaseVersion]) {
    on(schema, 'release', 'keys/release', async ({ params, query, body }, _req, res) => {
      const version = 'version' in params ? params.version : undefined;
      const result = await ctx.release(
        {
          name: params.name,
          ...(version ? { version } : {}),
          target: body.target,
          ...(typeof body.nonce === 'string' ? { nonce: body.nonce } : {}),
          ...(typeof body.enc === 'string' ? { enc: body.enc } : {}),
          apiVersion: query['api-version'],
        },
        { store: ctx.core.store, vaultUrl: ctx.bundle.vaultUrl, caller: res.locals.caller, now: ctx.core.now },
      );
      return { body: { value: result.value }, version: result.version };
    });
  }
}
