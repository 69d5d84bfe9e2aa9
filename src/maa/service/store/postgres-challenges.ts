import { NonceExpired, NonceReplayed, NonceUnknown } from '../../../errors';
import { DEFAULT_CHALLENGE_OPTIONS, newNonce, type ChallengeOptions, type ChallengeStore } from '../challenges';
import type { VerifierDatabase } from './postgres-pool';

/** Issued nonces are 43 base64url characters; anything else was never issued and costs no query. */
const NONCE_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Challenge nonces in PostgreSQL, shared by every replica on the database: one atomic UPDATE
 * spends a nonce, so of two replicas given the same nonce exactly one accepts it. Expiry is
 * judged by the verifier's clock (passed to each statement), as the in-memory store does.
 */
export class PostgresChallengeStore implements ChallengeStore {
  private readonly now: () => number;

  constructor(
    private readonly db: VerifierDatabase,
    private readonly options: ChallengeOptions = DEFAULT_CHALLENGE_OPTIONS,
  ) {
    this.now = options.now ?? Date.now;
  }

  async issue(): Promise<{ nonce: string; expiresAt: Date }> {
    const nonce = newNonce();
    const expiresAt = new Date(this.now() + this.options.ttlMs);
    await this.db.query({ name: 'verifier_nonce_issue', text: 'INSERT INTO verifier_nonces (nonce, expires_at) VALUES ($1, $2)', values: [nonce, expiresAt] });
    return { nonce, expiresAt };
  }

  async consume(nonce: string): Promise<void> {
    if (!NONCE_SHAPE.test(nonce)) throw new NonceUnknown('the nonce was not issued by this verifier (or was forgotten)');
    const spent = await this.db.query({
      name: 'verifier_nonce_spend',
      text: 'UPDATE verifier_nonces SET used = true WHERE nonce = $1 AND NOT used AND expires_at >= $2 RETURNING nonce',
      values: [nonce, new Date(this.now())],
    });
    if (spent.length === 1) return;
    // Not spent now: tell why, in the in-memory store's order (a replay before an expiry).
    const [entry] = await this.db.query<{ used: boolean }>({ name: 'verifier_nonce_state', text: 'SELECT used FROM verifier_nonces WHERE nonce = $1', values: [nonce] });
    if (!entry) throw new NonceUnknown('the nonce was not issued by this verifier (or was forgotten)');
    if (entry.used) throw new NonceReplayed('the nonce was already used');
    throw new NonceExpired('the nonce expired');
  }

  /**
   * Deletes nonces one TTL past their expiry (until then a replay is still told apart from a
   * guess), then the oldest beyond `maxOutstanding`: the table stays bounded however many
   * challenges are asked for (between two sweeps, a minute apart in server.ts, it grows by at
   * most what is issued in that minute). Any replica may sweep; concurrent sweeps delete the same rows.
   */
  async sweep(): Promise<void> {
    await this.db.query({ name: 'verifier_nonce_purge', text: 'DELETE FROM verifier_nonces WHERE expires_at < $1', values: [new Date(this.now() - this.options.ttlMs)] });
    await this.db.query({
      name: 'verifier_nonce_bound',
      text: 'DELETE FROM verifier_nonces WHERE nonce IN (SELECT nonce FROM verifier_nonces ORDER BY expires_at DESC OFFSET $1)',
      values: [this.options.maxOutstanding],
    });
  }
}
