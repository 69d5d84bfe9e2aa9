import { isIPv6 } from 'node:net';
import { RequestsThrottled } from '../errors';
import { BoundedMap } from '../lib/bounded-map';

/**
 * A fixed-window limit per source address for the unauthenticated /auth route: each address
 * gets `limit` requests per `windowMs`. The table of addresses is bounded, so a flood from many
 * addresses costs memory once, not without end (an address pushed out starts a fresh window).
 */
export class RateLimiter {
  private readonly windows: BoundedMap<string, { start: number; count: number }>;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    maxAddresses = 100_000,
  ) {
    this.windows = new BoundedMap(maxAddresses);
  }

  /** Counts one request from `address`, or throws RequestsThrottled (429) with the seconds until its window ends. */
  take(address: string, now: number): void {
    const window = this.windows.get(address);
    if (!window || now - window.start >= this.windowMs) {
      this.windows.set(address, { start: now, count: 1 });
      return;
    }
    if (window.count >= this.limit) throw new RequestsThrottled(Math.max(1, Math.ceil((window.start + this.windowMs - now) / 1000)));
    window.count++;
  }
}

/**
 * The key a source address is counted under: an IPv4 address as it is (also when a dual-stack
 * socket shows it as `::ffff:a.b.c.d`), an IPv6 address by its /64 — the block one host or
 * subscriber is given, every address of which it can send from.
 */
export function sourceKey(address: string): string {
  const bare = address.split('%')[0]!.toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(bare);
  if (mapped) return mapped[1]!;
  if (!isIPv6(bare)) return address;
  const [head = '', tail] = bare.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // An IPv4 tail (`64:ff9b::192.0.2.1`) stands for two groups.
  const rightGroups = right.length + (right.at(-1)?.includes('.') ? 1 : 0);
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - rightGroups).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}
