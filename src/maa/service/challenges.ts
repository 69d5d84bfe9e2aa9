import { randomBytes } from 'node:crypto';
import { NonceExpired, NonceReplayed, NonceUnknown } from '../../errors';

/**
 * Single-use challenge nonces with a short TTL. A store keeps spent and expired nonces for a
 * while so a replay is told apart from a guess, and stays bounded so a flood of challenge
 * requests cannot grow it without limit. Two implementations: this process's memory (the
 * default) and PostgreSQL (store/postgres-challenges.ts), where a nonce is spent once across
 * every replica that shares the database.
 */
export interface ChallengeStore {
  issue(): Promise<{ nonce: string; expiresAt: Date }>;
  /** Spends a nonce, or rejects with why it cannot be spent (NonceUnknown, NonceReplayed, NonceExpired). */
  consume(nonce: string): Promise<void>;
  /** Drops entries long past their expiry and any beyond the bound; called periodically by the server. */
  sweep(): Promise<void>;
}

export interface ChallengeOptions {
  ttlMs: number;
  maxOutstanding: number;
  now?: () => number;
}

export const DEFAULT_CHALLENGE_OPTIONS: ChallengeOptions = { ttlMs: 5 * 60_000, maxOutstanding: 100_000 };

/** A fresh nonce: 32 random bytes, base64url. */
export function newNonce(): string {
  return randomBytes(32).toString('base64url');
}

interface Entry {
  expiresAt: number;
  used: boolean;
}

/** Nonces in this process's memory: the oldest entries go first once the bound is reached. */
export class MemoryChallengeStore implements ChallengeStore {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly options: ChallengeOptions = DEFAULT_CHALLENGE_OPTIONS) {
    this.now = options.now ?? Date.now;
  }

  async issue(): Promise<{ nonce: string; expiresAt: Date }> {
    const nonce = newNonce();
    const expiresAt = this.now() + this.options.ttlMs;
    this.entries.set(nonce, { expiresAt, used: false });
    while (this.entries.size > this.options.maxOutstanding) this.entries.delete(this.entries.keys().next().value!);
    return { nonce, expiresAt: new Date(expiresAt) };
  }

  async consume(nonce: string): Promise<void> {
    const entry = this.entries.get(nonce);
    if (!entry) throw new NonceUnknown('the nonce was not issued by this verifier (or was forgotten)');
    if (entry.used) throw new NonceReplayed('the nonce was already used');
    if (this.now() > entry.expiresAt) throw new NonceExpired('the nonce expired');
    entry.used = true;
  }

  async sweep(): Promise<void> {
    const horizon = this.now() - this.options.ttlMs;
    for (const [nonce, entry] of this.entries) if (entry.expiresAt < horizon) this.entries.delete(nonce);
  }
}
