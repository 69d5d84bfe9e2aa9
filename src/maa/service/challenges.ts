import { randomBytes } from 'node:crypto';
import { NonceExpired, NonceReplayed, NonceUnknown } from '../../errors';

/**
 * Single-use challenge nonces with a short TTL. Spent and expired nonces are remembered for a
 * while so a replay is told apart from a guess; the map is bounded so a flood of challenge
 * requests cannot grow memory without limit (the oldest entries go first).
 */
export interface ChallengeOptions {
  ttlMs: number;
  maxOutstanding: number;
  now?: () => number;
}

interface Entry {
  expiresAt: number;
  used: boolean;
}

export class ChallengeStore {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly options: ChallengeOptions = { ttlMs: 5 * 60_000, maxOutstanding: 100_000 }) {
    this.now = options.now ?? Date.now;
  }

  issue(): { nonce: string; expiresAt: Date } {
    const nonce = randomBytes(32).toString('base64url');
    const expiresAt = this.now() + this.options.ttlMs;
    this.entries.set(nonce, { expiresAt, used: false });
    while (this.entries.size > this.options.maxOutstanding) this.entries.delete(this.entries.keys().next().value!);
    return { nonce, expiresAt: new Date(expiresAt) };
  }

  /** Spends a nonce, or throws why it cannot be spent. */
  consume(nonce: string): void {
    const entry = this.entries.get(nonce);
    if (!entry) throw new NonceUnknown('the nonce was not issued by this verifier (or was forgotten)');
    if (entry.used) throw new NonceReplayed('the nonce was already used');
    if (this.now() > entry.expiresAt) throw new NonceExpired('the nonce expired');
    entry.used = true;
  }

  /** Drops entries long past their expiry; called periodically by the server. */
  sweep(): void {
    const horizon = this.now() - this.options.ttlMs;
    for (const [nonce, entry] of this.entries) if (entry.expiresAt < horizon) this.entries.delete(nonce);
  }
}
