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
