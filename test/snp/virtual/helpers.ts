import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private state directory per test file, removed afterwards. */
export function useTempDirs(): () => Promise<string> {
  const made: string[] = [];
  afterAll(async () => {
    await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skr-virtual-'));
    made.push(dir);
    return dir;
  };
}

/** RSA-4096 key generation takes seconds on these machines. */
export const KEYGEN_TIMEOUT = 120_000;
