import { Pool, type PoolClient, type QueryConfig, type QueryResultRow } from 'pg';
import { InvalidArgument, SkrError, VerifierStoreUnavailable } from '../../../errors';
import { checkout } from '../../../lib/postgres-checkout';

/**
 * The verifier's connection to PostgreSQL (`skr verifier --store postgres://...`): a pool whose
 * every failure becomes VerifierStoreUnavailable (503, fail closed), and the verifier's schema,
 * migrated once under an advisory lock. Its tables are prefixed `verifier_` and it keeps its own
 * migration table, so the KMS's store can share the database.
 */

/** How long a request waits for a connection, and for a statement, before it is answered 503. */
const CONNECT_TIMEOUT_MS = 5_000;
const QUERY_TIMEOUT_MS = 10_000;
const POOL_SIZE = 10;

/** pg_advisory_lock key of the verifier's migrations: "skrverif" as a bigint, a constant no other writer uses. */
const MIGRATION_LOCK = '8316866989703457126';

/** Each migration runs once, in order, in its own transaction; never edit one that shipped. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE verifier_nonces (
     nonce text PRIMARY KEY,
     expires_at timestamptz NOT NULL,
     used boolean NOT NULL DEFAULT false
   );
   CREATE INDEX verifier_nonces_expires_at ON verifier_nonces (expires_at);
   CREATE TABLE verifier_reference_values (
     seq bigserial UNIQUE,
     kind text NOT NULL,
     value text NOT NULL,
     note text,
     added_at timestamptz NOT NULL,
     PRIMARY KEY (kind, value)
   );
   CREATE TABLE verifier_reference_version (
     id boolean PRIMARY KEY DEFAULT true CHECK (id),
     version bigint NOT NULL
   );
   INSERT INTO verifier_reference_version (id, version) VALUES (true, 0);`,
  // The key broker's RCAR sessions (src/kbs/postgres-sessions.ts): kept beside the verifier's
  // nonces because a broker appraises with this verifier and its sessions are nonces of its own.
  `CREATE TABLE kbs_sessions (
     id text PRIMARY KEY,
     nonce text NOT NULL,
     tee text NOT NULL,
     expires_at bigint NOT NULL,
     state text NOT NULL,
     token text
   );
   CREATE INDEX kbs_sessions_expires_at ON kbs_sessions (expires_at);`,
];

/** A PostgreSQL URL, refused (without echoing it: it may hold a password) unless postgres:// or postgresql://. */
export function checkStoreUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidArgument('--store must be a postgres:// URL', { field: 'store' });
  }
  if ((parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') || !parsed.hostname) {
    throw new InvalidArgument('--store must be a postgres://USER@HOST:PORT/DB URL', { field: 'store' });
  }
  return url;
}

/** The URL with any password replaced, fit for logs and the CLI's output. */
export function redactStoreUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** The driver's code for a failure (a SQLSTATE or a socket errno), never its message: that can name the host or user. */
function reasonOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? code : undefined;
}

function unavailable(error: unknown): VerifierStoreUnavailable {
  const reason = reasonOf(error);
  return new VerifierStoreUnavailable(reason ? { reason } : undefined);
}

export class VerifierDatabase {
  private constructor(private readonly pool: Pool) {}

  /** Connects, migrates the verifier's schema, and answers the open database. */
  static async open(url: string): Promise<VerifierDatabase> {
    const pool = new Pool({
      connectionString: checkStoreUrl(url),
      max: POOL_SIZE,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      application_name: 'skr verifier',
    });
    // An idle connection the server dropped (a restart) is replaced on the next query; the
    // pool reports it here, and without a listener it would end the process.
    pool.on('error', () => undefined);
    const db = new VerifierDatabase(pool);
    try {
      await db.migrate();
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return db;
  }

  /** One prepared statement (named, so each connection parses it once). */
  async query<R extends QueryResultRow>(statement: QueryConfig): Promise<R[]> {
    try {
      return (await this.pool.query<R>(statement)).rows;
    } catch (error) {
      throw unavailable(error);
    }
  }

  /** Runs `work` in one transaction on one connection: committed if it resolves, rolled back otherwise. */
  async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const { client, release } = await this.checkout();
    let failed = false;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      failed = true;
      await client.query('ROLLBACK').catch(() => undefined);
      throw error instanceof SkrError ? error : unavailable(error);
    } finally {
      // A connection that failed mid-transaction may be broken: the pool opens a new one.
      release(failed);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  /** Applies the migrations this database lacks, holding the advisory lock so concurrent starts apply each once. */
  private async migrate(): Promise<void> {
    const { client, release } = await this.checkout();
    try {
      await client.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
      try {
        await client.query('CREATE TABLE IF NOT EXISTS verifier_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
        const applied = new Set((await client.query<{ version: number }>('SELECT version FROM verifier_schema_migrations')).rows.map((r) => r.version));
        for (const [index, sql] of MIGRATIONS.entries()) {
          const version = index + 1;
          if (applied.has(version)) continue;
          await client.query('BEGIN');
          try {
            await client.query(sql);
            await client.query('INSERT INTO verifier_schema_migrations (version) VALUES ($1)', [version]);
            await client.query('COMMIT');
          } catch (error) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw error;
          }
        }
      } finally {
        await client.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`).catch(() => undefined);
      }
    } catch (error) {
      release(true);
      throw unavailable(error);
    }
    release();
  }

  /** A connection out of the pool for several statements, heard while it is out (lib/postgres-checkout.ts); a failure to get one is the store's 503. */
  private async checkout(): ReturnType<typeof checkout> {
    try {
      // A session the server ended is answered by the statement that next uses it.
      return await checkout(this.pool, () => undefined);
    } catch (error) {
      throw unavailable(error);
    }
  }
}
