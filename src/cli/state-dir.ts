import { resolve } from 'node:path';
import { ensurePrivateStateDir } from '../lib/state-file';

/** Where skr keeps state when --state-dir is not given: $SKR_STATE_DIR, else ./.state. */
export function stateDirFrom(flag: string | undefined): string {
  return resolve(flag ?? process.env.SKR_STATE_DIR ?? '.state');
}

/** The state directory, checked to be ours alone (ensurePrivateStateDir) before a command uses it. */
export async function privateStateDirFrom(flag: string | undefined): Promise<string> {
  const dir = stateDirFrom(flag);
  await ensurePrivateStateDir(dir);
  return dir;
}
