import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/**
 * Whether this process's event loop has lately been busy: over 97% of the last sampling
 * window spent running code rather than waiting. Lets a hot path choose between doing a short
 * CPU task inline (lowest latency when idle) and handing it to the thread pool (the other
 * cores, when the loop is the bottleneck). Sampling starts on first use; the timer never keeps
 * the process alive.
 */
const WINDOW_MS = 100;
const BUSY = 0.97;

let busy = false;
let sampler: NodeJS.Timeout | undefined;
let last: EventLoopUtilization | undefined;

export function eventLoopBusy(): boolean {
  if (!sampler) {
    last = performance.eventLoopUtilization();
    sampler = setInterval(() => {
      const now = performance.eventLoopUtilization();
      busy = performance.eventLoopUtilization(now, last).utilization > BUSY;
      last = now;
    }, WINDOW_MS);
    sampler.unref();
  }
  return busy;
}
