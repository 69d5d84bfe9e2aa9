import { randomBytes } from 'node:crypto';
import { b64 } from '../wire/bytes';
import type { OperationMount } from './operation';
import { KMS_ROUTES as R } from './schemas';

/** Managed HSM's `POST /rng` `{count ≤ 128}` → `{value}` (the SDK's getRandomBytes). */
export function mountRngRoute(on: OperationMount): void {
  on(R.rng, 'rng', 'rng', ({ body }) => ({ body: { value: b64(randomBytes(body.count)) } }));
}
