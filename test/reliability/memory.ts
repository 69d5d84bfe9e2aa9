import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Memory readings for the load tests: a full collection before each, so the numbers are what
 * is retained, not garbage the collector has not reached yet. Jest's sandbox has no `gc`; the
 * flag exposes it to a new context.
 */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export function memoryMiB(): { rss: number; heap: number } {
  gc();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss: rss / 2 ** 20, heap: heapUsed / 2 ** 20 };
}
