import { RateLimiter, sourceKey } from '../../src/kbs/rate-limit';

/**
 * A flood of /auth sessions from one attacker who owns many addresses: an IPv6 host is given a
 * /64 (2^64 addresses), and a dual-stack socket shows an IPv4 client also as ::ffff:a.b.c.d.
 * Counting per address would give such an attacker a fresh window per address.
 */
describe('the /auth rate limit keys a source as one attacker sees it', () => {
  test.each([
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2:0:0:0:ffff', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:db8::3:4:5:6:7', '2001:db8:0:3::/64'],
    ['64:ff9b::1:192.0.2.1', '64:ff9b:0:0::/64'],
    ['1:2:3::4:5:192.0.2.1', '1:2:3:0::/64'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['192.0.2.7', '192.0.2.7'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ])('%s counts as %s', (address, key) => {
    expect(sourceKey(address)).toBe(key);
  });

  test('addresses across one /64 share one window; another /64 has its own', () => {
    const limiter = new RateLimiter(2, 60_000);
    const now = 1_000_000;
    limiter.take(sourceKey('2001:db8:1:2::1'), now);
    limiter.take(sourceKey('2001:db8:1:2::2'), now);
    expect(() => limiter.take(sourceKey('2001:db8:1:2::3'), now)).toThrow(expect.objectContaining({ code: 'requests_throttled', status: 429 }));
    expect(() => limiter.take(sourceKey('::ffff:192.0.2.7'), now)).not.toThrow();
    expect(() => limiter.take(sourceKey('2001:db8:1:3::1'), now)).not.toThrow();
  });
});
