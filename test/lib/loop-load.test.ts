import { eventLoopBusy } from '../../src/lib/loop-load';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('busy right after the loop ran code without pause, idle again once it has waited', async () => {
  expect(eventLoopBusy()).toBe(false);
  const until = Date.now() + 300;
  while (Date.now() < until) {
    // keep the event loop from waiting
  }
  // The sampler, overdue since the loop was blocked, runs before this 1 ms timer.
  await sleep(1);
  expect(eventLoopBusy()).toBe(true);
  await sleep(350);
  expect(eventLoopBusy()).toBe(false);
});
