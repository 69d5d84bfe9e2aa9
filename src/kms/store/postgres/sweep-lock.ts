import { Client } from 'pg';
import { postgresConnection } from '../store-url';

/** pg_try_advisory_lock key of the KMS's periodic sweeps ("skr" then 02; the schema migrations take 01). */
const SWEEP_LOCK = 0x736b72_02;
/** How long connecting or a statement on the lock's session may take before the replica counts as not leading. */
const TIMEOUT_MS = 5000;

/**
 * Which replica on one PostgreSQL database runs the periodic sweeps: the one holding a
 * session-level advisory lock, on a connection of its own (the pool's connections come and go,
 * and a session lock lives as long as its session). The others try to take it at each interval.
 * PostgreSQL releases it when the session ends — its replica stopped, killed or cut off — so
 * another replica takes over at its next try.
 */
export class SweepLock {
  private client?: Client;
  private held = false;

  constructor(private readonly url: string) {}

  /** Whether this replica leads now: the session that holds the lock still answers, or the lock was free and is now ours. */
  async lead(): Promise<boolean> {
    try {
      const client = this.client ?? (await this.connect());
      if (this.held) {
        await client.query('SELECT 1');
        return true;
      }
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [SWEEP_LOCK]);
      this.held = rows[0]?.locked === true;
      return this.held;
    } catch {
      // A session that failed may have lost the lock with it: start again with a new one at the next try.
      this.drop(this.client);
      return false;
    }
  }

  private async connect(): Promise<Client> {
    const client = new Client({ ...postgresConnection(this.url), application_name: 'skr kms sweeps', connectionTimeoutMillis: TIMEOUT_MS, query_timeout: TIMEOUT_MS });
    client.on('error', () => this.drop(client));
    this.client = client;
    await client.connect();
    return client;
  }

  private drop(client: Client | undefined): void {
    if (!client || client !== this.client) return;
    this.client = undefined;
    this.held = false;
    void client.end().catch(() => undefined);
  }

  /** Ends the session, and with it the lock. */
  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.held = false;
    await client?.end().catch(() => undefined);
  }
}
