import { MemorySessionStore, type KbsSession } from '../../src/kbs/sessions';
import { RateLimiter } from '../../src/kbs/rate-limit';

const session = (id: string, expiresAt = 1_000): KbsSession => ({ id, nonce: `n-${id}`, tee: 'snp', expiresAt, state: 'authed' });

describe('the session store', () => {
  test('a session is spent once: the second spend sees it already spent', async () => {
    const store = new MemorySessionStore(10);
    await store.create(session('a'));
    expect((await store.spend('a', 0))?.state).toBe('authed');
    expect((await store.spend('a', 0))?.state).toBe('spent');
    await store.attested('a', 'token');
    expect(await store.get('a', 0)).toMatchObject({ state: 'attested', token: 'token' });
  });

  test('expired sessions are neither returned nor spent, and sweep forgets them', async () => {
    const store = new MemorySessionStore(10);
    await store.create(session('a', 100));
    expect(await store.get('a', 100)).toBeUndefined();
    expect(await store.spend('a', 100)).toBeUndefined();
    await store.sweep(100);
    expect(store.size).toBe(0);
  });

  test('the store is bounded: the oldest session makes room', async () => {
    const store = new MemorySessionStore(2);
    for (const id of ['a', 'b', 'c']) await store.create(session(id));
    expect(store.size).toBe(2);
    expect(await store.get('a', 0)).toBeUndefined();
    expect(await store.get('c', 0)).toBeDefined();
  });
});

describe('the /auth rate limit', () => {
  test('counts per address and window, and says when to come back', () => {
    const limiter = new RateLimiter(2, 60_000);
    limiter.take('a', 0);
    limiter.take('a', 1);
    limiter.take('b', 1);
    expect(() => limiter.take('a', 30_000)).toThrow(expect.objectContaining({ code: 'requests_throttled', details: { retryAfter: 30 } }));
    expect(() => limiter.take('a', 60_000)).not.toThrow();
  });
});
