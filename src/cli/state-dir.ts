import { resolve } from 'node:path';

/** Where skr keeps state when --state-dir is not given: $SKR_STATE_DIR, else ./.state. */
export function stateDirFrom(flag: string | undefined): string {
  return resolve(flag ?? process.env.SKR_STATE_DIR ?? '.state');
}
