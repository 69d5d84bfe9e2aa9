import { SharedNextCall } from '../../src/lib/shared-next-call';

/** A call the test settles by hand, numbered in the order calls were started. */
function calls() {
  const started: Array<{ n: number; settle: (value: { n: number } | Error) => void }> = [];
  const call = () =>
    new Promise<{ n: number }>((resolve, reject) => {
      const n = started.length;
      started.push({ n, settle: (v) => (v instanceof Error ? reject(v) : resolve(v)) });
    });
  return { started, call };
}

const copy = (v: { n: number }) => ({ ...v });

test('a request arriving while a call is in flight never gets that call’s answer: it gets the next call, started after it arrived', async () => {
  const shared = new SharedNextCall(copy);
  const { started, call } = calls();
  const first = shared.call('kms key', call);
  const later = [shared.call('kms key', call), shared.call('kms key', call), shared.call('kms key', call)];
  // Three requests arrived during call 0: no second call yet (one in flight, one gathering).
  expect(started).toHaveLength(1);
  started[0]!.settle({ n: 0 });
  expect(await first).toEqual({ n: 0 });
  // Call 1 starts only once call 0 has settled, and answers the three gathered requests.
  await new Promise((r) => setImmediate(r));
  expect(started).toHaveLength(2);
  started[1]!.settle({ n: 1 });
  const answers = await Promise.all(later);
  expect(answers).toEqual([{ n: 1 }, { n: 1 }, { n: 1 }]);
  // Each joined request has an answer object of its own.
  expect(new Set(answers).size).toBe(3);
});

test('a failure reaches every request of its call, and the next request makes a call of its own', async () => {
  const shared = new SharedNextCall(copy);
  const { started, call } = calls();
  const first = shared.call('kms key', call);
  const gathered = [shared.call('kms key', call), shared.call('kms key', call)];
  started[0]!.settle(new Error('denied 0'));
  await expect(first).rejects.toThrow('denied 0');
  await new Promise((r) => setImmediate(r));
  started[1]!.settle(new Error('denied 1'));
  for (const g of gathered) await expect(g).rejects.toThrow('denied 1');
  // Nothing left in flight: a new request starts at once.
  const alone = shared.call('kms key', call);
  expect(started).toHaveLength(3);
  started[2]!.settle({ n: 2 });
  expect(await alone).toEqual({ n: 2 });
});

test('calls with other ids do not join', async () => {
  const shared = new SharedNextCall(copy);
  const { started, call } = calls();
  const runs = [shared.call('kms key-a', call), shared.call('kms key-b', call), shared.call('other-kms key-a', call), shared.call('kms key-a caller-token', call)];
  expect(started).toHaveLength(4);
  started.forEach((s) => s.settle({ n: s.n }));
  expect(await Promise.all(runs)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }]);
});
