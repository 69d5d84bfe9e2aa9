import { BoundedMap } from './bounded-map';

/**
 * How refused requests (every answer of status 400 or more: unauthenticated, forbidden, not
 * found, malformed) are admitted and recorded, per caller: a source address and, once a token
 * verified, its principal. Anyone on the host can get a token (the identity endpoint's default
 * principal), so authenticated refusals need the same bound as unauthenticated ones.
 */
export interface RefusalLimits {
  /** Refused requests a caller may send at once before it is throttled (the bucket's size). */
  burst: number;
  /** Refused requests per second a caller may keep sending (the bucket's refill). */
  perSecond: number;
  /** Refusals stored one by one per caller and interval; beyond, counted. */
  storedPerCaller: number;
  /** Refusals stored one by one per interval from all callers together; beyond, counted. */
  storedPerInterval: number;
  /** The interval after which counts are written as summary entries. */
  intervalMs: number;
  /** Callers tracked at once; callers beyond it are counted together under source `*`. */
  maxCallers: number;
}

/**
 * A caller may burst 500 refused requests and keep up 100 a second: far above a client that
 * misconfigured its token or asks for a key that is not there, far below a flood. Whatever the
 * flood, at most 1,000 rows a minute plus one summary row per caller and status are written: at
 * most a few MB an hour. The KMS and the KBS both default to these.
 */
export const DEFAULT_REFUSAL_LIMITS: RefusalLimits = {
  burst: 500,
  perSecond: 100,
  storedPerCaller: 20,
  storedPerInterval: 1_000,
  intervalMs: 60_000,
  maxCallers: 4_096,
};

export interface Caller {
  source: string;
  principal?: string;
}

/**
 * throttle: answer 429 (Retry-After seconds), counted; store: answer and audit it alone; count:
 * answer, counted. The service commits a count to its audit log before the answer, as it does
 * an entry.
 */
export type Admission = { kind: 'throttle'; retryAfter: number; caller: Caller } | { kind: 'store' } | { kind: 'count'; caller: Caller };

interface Bucket {
  tokens: number;
  /** Milliseconds. */
  at: number;
}

const OTHERS: Caller = { source: '*' };

/**
 * Token bucket per caller for refused requests, and which of them are stored one by one: the
 * first few per caller and interval; the rest are counted in the service's audit log and written
 * as summary entries when the interval ends (`newInterval`, then the service writes its
 * summaries). Memory and entries stay bounded whatever the number of requests, sources or
 * principals. Used by the KMS and the KBS.
 */
export class RefusalGate {
  private readonly buckets: BoundedMap<string, Bucket>;
  private stored = new Map<string, number>();
  private storedThisInterval = 0;

  constructor(private readonly limits: RefusalLimits) {
    this.buckets = new BoundedMap(limits.maxCallers);
  }

  /** Decides for one refused request from `caller` at `now` (ms). */
  admit(caller: Caller, now: number): Admission {
    const id = `${caller.source} ${caller.principal ?? ''}`;
    const tracked = this.stored.has(id) || this.stored.size < this.limits.maxCallers;
    const counted = tracked ? { source: caller.source, ...(caller.principal ? { principal: caller.principal } : {}) } : OTHERS;
    const bucket = this.buckets.get(id) ?? { tokens: this.limits.burst, at: now };
    bucket.tokens = Math.min(this.limits.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.limits.perSecond);
    bucket.at = now;
    this.buckets.set(id, bucket);
    if (bucket.tokens < 1) return { kind: 'throttle', retryAfter: Math.max(1, Math.ceil((1 - bucket.tokens) / this.limits.perSecond)), caller: counted };
    bucket.tokens -= 1;
    const stored = this.stored.get(id) ?? 0;
    if (tracked && stored < this.limits.storedPerCaller && this.storedThisInterval < this.limits.storedPerInterval) {
      this.stored.set(id, stored + 1);
      this.storedThisInterval++;
      return { kind: 'store' };
    }
    if (tracked && !this.stored.has(id)) this.stored.set(id, stored);
    return { kind: 'count', caller: counted };
  }

  /** Starts a new interval: every caller may have refusals stored one by one again. */
  newInterval(): void {
    this.stored = new Map();
    this.storedThisInterval = 0;
  }
}
