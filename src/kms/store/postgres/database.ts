import { createHash } from 'node:crypto';
import { Pool, types, type PoolClient, type QueryResultRow } from 'pg';
import { SkrError, StoreSchemaNewer, StoreUnavailable } from '../../../errors';
import { postgresConnection } from '../store-url';
import { checkout } from '../../../lib/postgres-checkout';

/** A query function bound to one connection (inside a transaction) or to the pool. */
export type Query = <R extends QueryResultRow>(text: string, values?: unknown[]) => Promise<R[]>;

/** One schema step, run in its own transaction together with the version bump. */
export type PgMigration = (query: Query) => Promise<void>;

/** BIGINT (unix seconds, sequence numbers) as a JavaScript number, as SQLite gives it: they stay far below 2^53. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === types.builtins.INT8 ? (value: string) => Number(value) : types.getTypeParser(oid, format))) as typeof types.getTypeParser,
};

/** SQLSTATEs after which the same transaction, run again, can succeed: serialization failure and deadlock. */
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 8;

/** Arbitrary, fixed: the advisory lock every skr process takes to migrate the schema, so replicas starting together migrate once. */
const MIGRATION_LOCK = 0x736b72_01;

/** Statement names are derived from their text, so each is prepared once per connection whoever sends it. */
const statementName = (text: string) => `skr_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;

export interface PostgresOptions {
  /** postgres://USER[:PASSWORD]@HOST:PORT/DB[?sslmode=verify-full&sslrootcert=CA.pem] — the password is never logged nor echoed. */
  url: string;
  /** Connections in the pool; 10 by default. */
  max?: number;
  /** How long a request waits for a connection or a lock before the store counts as unavailable; 5 s by default. */
  timeoutMs?: number;
}

/**
 * A PostgreSQL database shared by KMS replicas: a pool of connections, every query a named
 * prepared statement, transactions retried on serialization failures and deadlocks, and every
 * failure that is not the store's own answer (a key not found, a conflict) turned into
 * StoreUnavailable (503) — fail closed: a store that cannot be reached answers nothing. The
 * cause goes to stderr once per outage, for the operator.
 */
export class PostgresDatabase {
  private readonly pool: Pool;
  private failing = false;

  constructor(
    options: PostgresOptions,
    private readonly label = 'skr kms',
  ) {
    const timeout = options.timeoutMs ?? 5000;
    // How long a request can wait while the database is down before its 503: PostgreSQL stopping
    // or restarting ends its sessions with an error and refuses new connections (or answers that
    // it is starting up), so each store call fails at once and the request is answered 503 in
    // milliseconds. A server that answers nothing (a lost host) costs a call at most `timeout` to
    // connect or to wait for a pooled connection, and a statement on an open connection at most
    // 5 × `timeout` (query_timeout, past the server's own statement_timeout) — the ROLLBACK of a
    // transaction whose statement timed out as long again, before its connection is dropped.
    this.pool = new Pool({
      ...postgresConnection(options.url),
      max: options.max ?? 10,
      connectionTimeoutMillis: timeout,
      // A lock wait or a statement longer than this is an outage to report, not a request to hold.
      lock_timeout: timeout,
      statement_timeout: 4 * timeout,
      query_timeout: 5 * timeout,
      // An idle pooled connection to a host that is gone is noticed by TCP, not at its next use.
      keepAlive: true,
      application_name: label,
      types: TYPES,
    });
    // An idle connection the server closed (restart, failover): the next query opens another.
    this.pool.on('error', (error) => this.report(error));
  }

  private report(error: unknown): void {
    if (!this.failing) process.stderr.write(`${this.label}: the PostgreSQL store cannot be used, requests are refused (503): ${(error as Error).message}\n`);
    this.failing = true;
  }

  private recovered(): void {
    if (this.failing) process.stderr.write(`${this.label}: the PostgreSQL store answers again\n`);
    this.failing = false;
  }

  /** Runs `work`; the store's own refusals pass through, any other failure becomes StoreUnavailable. */
  private async guarded<T>(work: () => Promise<T>): Promise<T> {
    try {
      const result = await work();
      this.recovered();
      return result;
    } catch (error) {
      if (error instanceof SkrError) throw error;
      this.report(error);
      throw new StoreUnavailable();
    }
  }

  /** One statement outside a transaction (a read, or a single-row change). */
  query<R extends QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return this.guarded(async () => (await this.pool.query<R>({ name: statementName(text), text, values })).rows);
  }

  /**
   * Runs `work` in one READ COMMITTED transaction on one connection and commits it before
   * resolving; rolls back when `work` throws. Writers that could race lock the rows they decide
   * on (SELECT … FOR UPDATE) rather than run SERIALIZABLE: a waiter then sees the winner's
   * outcome instead of failing. Run again from the start on a serialization failure or a deadlock
   * (or when `work` throws one, code 40001, itself), so `work` must not have effects outside the database.
   */
  transaction<T>(work: (query: Query) => Promise<T>): Promise<T> {
    return this.guarded(async () => {
      for (let attempt = 1; ; attempt++) {
        const { client, release } = await this.checkout();
        let broken: unknown;
        try {
          await client.query('BEGIN');
          const result = await work(bind(client));
          await client.query('COMMIT');
          return result;
        } catch (error) {
          await client.query('ROLLBACK').catch((rollback: unknown) => (broken = rollback));
          const code = (error as { code?: string }).code;
          if (code && RETRYABLE.has(code) && attempt < MAX_ATTEMPTS) continue;
          throw error;
        } finally {
          // A connection whose rollback failed is in an unknown state: destroy it rather than reuse it.
          release(broken);
        }
      }
    });
  }

  /**
   * Brings the component's schema up to date under an advisory lock, so that replicas starting
   * together apply each step once; each step commits with its version. A schema newer than this
   * code is refused, not guessed at.
   */
  migrate(component: string, migrations: PgMigration[]): Promise<void> {
    return this.guarded(async () => {
      const { client, release } = await this.checkout();
      try {
        await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
        await client.query('CREATE TABLE IF NOT EXISTS skr_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL)');
        const found = await client.query<{ version: number }>('SELECT version FROM skr_schema WHERE component = $1', [component]);
        const current = found.rows[0]?.version ?? 0;
        if (current > migrations.length) throw new StoreSchemaNewer(component, current, migrations.length);
        for (let step = current; step < migrations.length; step++) {
          await client.query('BEGIN');
          try {
            await migrations[step]!(bind(client));
            await client.query('INSERT INTO skr_schema (component, version) VALUES ($1, $2) ON CONFLICT (component) DO UPDATE SET version = excluded.version', [component, step + 1]);
            await client.query('COMMIT');
          } catch (error) {
            await client.query('ROLLBACK');
            throw error;
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
        release();
      }
    });
  }

  /** A connection out of the pool for several statements, heard while it is out (lib/postgres-checkout.ts). */
  private checkout(): ReturnType<typeof checkout> {
    return checkout(this.pool, (error) => this.report(error));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function bind(client: PoolClient): Query {
  return async <R extends QueryResultRow>(text: string, values: unknown[] = []) => (await client.query<R>({ name: statementName(text), text, values })).rows;
}
