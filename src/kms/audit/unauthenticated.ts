import { BoundedMap } from '../../lib/bounded-map';
import type { AuditEntry } from './entry';

/** How unauthenticated requests (answered 401) are admitted and recorded. */
export interface UnauthenticatedLimits {
  /** Requests a source may send at once before it is throttled (the bucket's size). */
  burst: number;
  /** Requests per second a source may keep sending (the bucket's refill). */
  perSecond: number;
  /** 401s stored one by one per source and interval; beyond, counted. */
  storedPerSource: number;
  /** 401s stored one by one per interval from all sources together; beyond, counted. */
  storedPerInterval: number;
  /** The interval after which counts are written as one summary entry per source. */
  intervalMs: number;
  /** Sources tracked at once; the counts of sources beyond it are summed under `*`. */
  maxSources: number;
}

/**
 * A source may burst 500 refused requests and keep up 100 a second: far above a client that
 * misconfigured its token, far below a flood. Whatever the flood, at most 1,000 rows a minute
 * plus one summary row per source (4,096 at most) are written: at most a few MB an hour.
 */
export const DEFAULT_UNAUTHENTICATED_LIMITS: UnauthenticatedLimits = {
  burst: 500,
  perSecond: 100,
  storedPerSource: 20,
  storedPerInterval: 1_000,
  intervalMs: 60_000,
  maxSources: 4_096,
};

/** throttle: answer 429 (Retry-After seconds); store: answer 401 and audit it alone; count: answer 401, counted in the summary. */
export type Admission = { kind: 'throttle'; retryAfter: number } | { kind: 'store' } | { kind: 'count' };

interface Bucket {
  tokens: number;
  /** Milliseconds. */
  at: number;
}

interface Counts {
  stored: number;
  refused: number;
  throttled: number;
}

/**
 * Token bucket per source address for requests that fail authentication, and the record of
 * them: the first few per source and interval are audited one by one, the rest counted and
 * written as one summary entry per source when the interval ends (`drain`). Memory and rows
 * stay bounded whatever the number of requests or sources.
 */
export class UnauthenticatedGate {
  private readonly buckets: BoundedMap<string, Bucket>;
  private counts = new Map<string, Counts>();
  private storedThisInterval = 0;
  private intervalStart: number;

  constructor(
    private readonly limits: UnauthenticatedLimits,
    now: number,
  ) {
    this.buckets = new BoundedMap(limits.maxSources);
    this.intervalStart = now;
  }

  /** Decides for one unauthenticated request from `source` at `now` (ms). */
  admit(source: string, now: number): Admission {
    const counts = this.countsOf(source);
    const bucket = this.buckets.get(source) ?? { tokens: this.limits.burst, at: now };
    bucket.tokens = Math.min(this.limits.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.limits.perSecond);
    bucket.at = now;
    this.buckets.set(source, bucket);
    if (bucket.tokens < 1) {
      counts.throttled++;
      return { kind: 'throttle', retryAfter: Math.max(1, Math.ceil((1 - bucket.tokens) / this.limits.perSecond)) };
    }
    bucket.tokens -= 1;
    if (counts.stored < this.limits.storedPerSource && this.storedThisInterval < this.limits.storedPerInterval) {
      counts.stored++;
      this.storedThisInterval++;
      return { kind: 'store' };
    }
    counts.refused++;
    return { kind: 'count' };
  }

  private countsOf(source: string): Counts {
    const key = this.counts.has(source) || this.counts.size < this.limits.maxSources ? source : '*';
    let counts = this.counts.get(key);
    if (!counts) this.counts.set(key, (counts = { stored: 0, refused: 0, throttled: 0 }));
    return counts;
  }

  /** One summary entry per source whose requests were counted since the last drain; starts a new interval. */
  drain(now: number): AuditEntry[] {
    const from = new Date(this.intervalStart).toISOString();
    const to = new Date(now).toISOString();
    const summaries: AuditEntry[] = [];
    for (const [source, c] of this.counts) {
      if (c.refused + c.throttled === 0) continue;
      summaries.push({
        time: Math.floor(now / 1000),
        operation: 'unauthenticated.summary',
        decision: 'deny',
        status: 401,
        source,
        count: c.refused + c.throttled,
        detail: `${c.refused} answered 401 and ${c.throttled} answered 429 beyond the entries stored one by one, ${from} to ${to}`,
      });
    }
    this.counts = new Map();
    this.storedThisInterval = 0;
    this.intervalStart = now;
    return summaries;
  }
}
