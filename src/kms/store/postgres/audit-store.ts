import { linkHash, type ChainedFields } from '../../audit/chain';
import type { AuditEntry, RefusalCount } from '../../audit/entry';
import {
  columnsOf,
  entryOf,
  PAGE,
  pruneEntry,
  summaryEntries,
  sumCounts,
  verifyChain,
  type AuditQuery,
  type AuditRow,
  type AuditStore,
  type ChainVerdict,
  type Checkpoint,
  type StoredEntry,
} from '../../audit/store';
import type { PostgresDatabase, Query } from './database';
import { PG_AUDIT_MIGRATIONS } from './migrations';

const TEXT_COLUMNS = ['principal', 'operation', 'route', 'key_name', 'version', 'decision', 'reason', 'source', 'detail'] as const;

/** PostgreSQL text cannot hold NUL: a caller-supplied NUL is stored, and chained, as U+FFFD. */
function storable(columns: ChainedFields): ChainedFields {
  const out = { ...columns };
  for (const name of TEXT_COLUMNS) {
    const value = out[name];
    if (typeof value === 'string' && value.includes('\0')) (out as Record<string, unknown>)[name] = value.replace(/\0/g, '\uFFFD');
  }
  return out;
}

/**
 * The audit log in the PostgreSQL database the replicas share. Every change to the chain (an
 * append, a summary, a prune) first locks the anchor row, so replicas append one after another:
 * each reads the last hash and extends it inside its own transaction, ids follow the chain, and
 * the chain never forks. `append` resolves after COMMIT — the KMS answers only then.
 */
export class PostgresAuditStore implements AuditStore {
  private closed = false;

  private constructor(
    private readonly db: PostgresDatabase,
    private readonly ownsDatabase: boolean,
  ) {}

  /**
   * Migrates the audit schema (once across replicas) and returns the store. The database is
   * closed with the store only when `ownsDatabase` (it usually holds the keys too, and belongs
   * to whoever opened them).
   */
  static async open(db: PostgresDatabase, options: { ownsDatabase?: boolean } = {}): Promise<PostgresAuditStore> {
    await db.migrate('audit', PG_AUDIT_MIGRATIONS);
    return new PostgresAuditStore(db, options.ownsDatabase ?? false);
  }

  get open(): boolean {
    return !this.closed;
  }

  /** Appends inside the caller's transaction, after locking the anchor. */
  private static async appendLocked(q: Query, entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const last = (await q<{ hash: string | null }>('SELECT hash FROM audit ORDER BY id DESC LIMIT 1'))[0];
    let previous = last?.hash ?? (await q<{ hash: string }>('SELECT hash FROM audit_anchor WHERE id = 1'))[0]!.hash;
    const rows = entries.map((entry) => {
      const c = storable(columnsOf(entry));
      previous = linkHash(previous, c);
      return [c.time, c.principal, c.operation, c.route, c.key_name, c.version, c.decision, c.status, c.reason, c.source, c.count, c.detail, previous];
    });
    // One statement for the batch, one array per column; ids are drawn in array order, the chain's.
    await q(
      `INSERT INTO audit (time, principal, operation, route, key_name, version, decision, status, reason, source, count, detail, hash)
       SELECT time, principal, operation, route, key_name, version, decision, status, reason, source, count, detail, hash
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::integer[], $9::text[], $10::text[], $11::integer[], $12::text[], $13::text[])
         WITH ORDINALITY AS batch (time, principal, operation, route, key_name, version, decision, status, reason, source, count, detail, hash, position)
       ORDER BY position`,
      rows[0]!.map((_, column) => rows.map((row) => row[column])),
    );
  }

  private static lockAnchor(q: Query): Promise<unknown> {
    return q('SELECT through_id FROM audit_anchor WHERE id = 1 FOR UPDATE');
  }

  async append(entries: AuditEntry[], counts: RefusalCount[] = []): Promise<void> {
    await this.db.transaction(async (q) => {
      if (entries.length > 0) {
        await PostgresAuditStore.lockAnchor(q);
        await PostgresAuditStore.appendLocked(q, entries);
      }
      for (const c of sumCounts(counts)) {
        await q(
          'INSERT INTO audit_counts (source, principal, status, requests, since) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source, principal, status) DO UPDATE SET requests = audit_counts.requests + excluded.requests',
          [c.source.replace(/\0/g, '\uFFFD'), (c.principal ?? '').replace(/\0/g, '\uFFFD'), c.status, c.requests, c.time],
        );
      }
    });
  }

  async summarizeCounts(now: number): Promise<number> {
    return this.db.transaction(async (q) => {
      await PostgresAuditStore.lockAnchor(q);
      const rows = await q<Parameters<typeof summaryEntries>[0][number]>('DELETE FROM audit_counts RETURNING source, principal, status, requests, since');
      if (rows.length === 0) return 0;
      rows.sort((a, b) => a.since - b.since || a.source.localeCompare(b.source) || a.principal.localeCompare(b.principal) || a.status - b.status);
      await PostgresAuditStore.appendLocked(q, summaryEntries(rows, now));
      return rows.length;
    });
  }

  async query(q: AuditQuery = {}): Promise<StoredEntry[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const arg = (value: string | number) => `$${args.push(value)}`;
    if (q.key) where.push(`lower(key_name) = lower(${arg(q.key)})`);
    if (q.principal) where.push(`principal = ${arg(q.principal)}`);
    if (q.decision) where.push(`decision = ${arg(q.decision)}`);
    if (q.since !== undefined) where.push(`time >= ${arg(q.since)}`);
    const limit = arg(q.limit ?? 100);
    const rows = await this.db.query<AuditRow>(`SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${limit}`, args);
    return rows.map(entryOf);
  }

  async verify(checkpoint?: Checkpoint): Promise<ChainVerdict> {
    const anchor = (await this.db.query<{ through_id: number; hash: string }>('SELECT through_id, hash FROM audit_anchor WHERE id = 1'))[0]!;
    return verifyChain({ id: anchor.through_id, hash: anchor.hash }, (afterId) => this.db.query<AuditRow>('SELECT * FROM audit WHERE id > $1 ORDER BY id LIMIT $2', [afterId, PAGE]), checkpoint);
  }

  async prune(before: number, now: number): Promise<number> {
    return this.db.transaction(async (q) => {
      await PostgresAuditStore.lockAnchor(q);
      const last = (await q<{ id: number; hash: string }>('SELECT id, hash FROM audit WHERE id = (SELECT MAX(id) FROM audit WHERE time < $1)', [before]))[0];
      if (!last) return 0;
      const removed = (await q<{ n: number }>('WITH gone AS (DELETE FROM audit WHERE id <= $1 RETURNING 1) SELECT count(*)::int AS n FROM gone', [last.id]))[0]!.n;
      await q('UPDATE audit_anchor SET through_id = $1, hash = $2 WHERE id = 1', [last.id, last.hash]);
      await PostgresAuditStore.appendLocked(q, [pruneEntry(removed, last.id, before, now)]);
      return removed;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsDatabase) await this.db.close();
  }
}
