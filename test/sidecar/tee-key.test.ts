import { loadSidecarConfig } from '../../src/sidecar/config';
import { TeeKeyHolder } from '../../src/sidecar/tee-key';

describe('TeeKeyHolder', () => {
  test('one key serves every release until its TTL; then a replacement is made while it still serves', async () => {
    let now = 1_000_000;
    const holder = new TeeKeyHolder({ modulusLength: 2048, ttlMs: 60_000, now: () => now });
    const first = await holder.get();
    expect((await holder.get()).kid).toBe(first.kid);
    expect(first.jwks.keys).toEqual([{ kty: 'RSA', kid: first.kid, key_ops: ['encrypt'], n: expect.any(String), e: 'AQAB' }]);
    now += 60_000;
    expect((await holder.get()).kid).toBe(first.kid);
    await holder.settled();
    const next = await holder.get();
    expect(next.kid).not.toBe(first.kid);
    expect(next.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  test("fresh (Microsoft's pipeline, freshPerRelease): a new key for every get", async () => {
    const holder = new TeeKeyHolder({ modulusLength: 2048, ttlMs: 3_600_000, fresh: true });
    const kids = new Set<string>();
    for (let i = 0; i < 3; i++) kids.add((await holder.get()).kid);
    expect(kids.size).toBe(3);
  });
});

test('fresh-per-release is off unless set to true; anything but true/false is refused', () => {
  expect(loadSidecarConfig({ flags: {}, env: {} }).freshPerRelease).toBe(false);
  expect(loadSidecarConfig({ flags: { 'fresh-per-release': 'true' }, env: {} }).freshPerRelease).toBe(true);
  expect(loadSidecarConfig({ flags: {}, env: { SKR_FRESH_PER_RELEASE: 'true' } }).freshPerRelease).toBe(true);
  expect(loadSidecarConfig({ flags: { 'fresh-per-release': 'false' }, env: { SKR_FRESH_PER_RELEASE: 'true' } }).freshPerRelease).toBe(false);
  for (const bad of ['yes', '1', 'TRUE']) {
    expect(() => loadSidecarConfig({ flags: { 'fresh-per-release': bad }, env: {} })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  }
});
