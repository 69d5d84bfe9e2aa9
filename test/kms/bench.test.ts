import { benchKms } from '../../bench/kms';

/** Prints the KMS figures (creates/s, gets/s through the SDK); no timing is asserted. */
test('KMS throughput through the SDK', async () => {
  const figures = await benchKms({ pointMs: 2_000, callers: [1, 8] });
  // eslint-disable-next-line no-console
  console.log(`KMS bench: ${JSON.stringify(figures)}`);
  expect(figures.gets_per_s[1]).toBeGreaterThan(0);
  expect(figures.creates_per_s['oct-256']![1]).toBeGreaterThan(0);
}, 120_000);
