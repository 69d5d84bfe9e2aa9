import { openDatabase, type Db } from '../store/database';
import { AUDIT_MIGRATIONS } from '../store/migrations';
import { linkHash, type ChainedFields } from './chain';
import { decisionFor, type AuditEntry, type Decision, type RefusalCount } from './entry';

export interface AuditQuery {
  key?: string;
  principal?: string;
  decision?: Decision;
  /** Unix seconds, inclusive. */
  since?: number;
  limit?: number;
}

export type StoredEntry = AuditEntry & { id: number };

/** An entry's place in the chain, as an operator records it outside the database. */
export interface Checkpoint {
  id: number;
  hash: string;
}

/** `head` is the last link: kept elsewhere, it lets a later verify see a cut or a rewrite. */
export type ChainVerdict = { ok: true; entries: number; head: Checkpoint } | { ok: false; brokenAt: number; entries: number; reason: string };

export type AuditRow = ChainedFields & { id: number; hash: string | null };

/**
 * Where the audit log is committed: the SQLite file next to the key store (SqliteAuditStore,
 * below) or the PostgreSQL database replicas share (../store/postgres/audit-store.ts). Both keep
 * one hash chain from `audit_anchor`, extended inside the append's transaction, so writers in
 * several processes never fork it; `append` resolves only once the entries are committed.
 */
export interface AuditStore {
  /** False once closed: a closed store is a store that cannot be written. */
  readonly open: boolean;
  /** Commits the entries, in order, and adds the counted refusals, in one transaction; rejects when they cannot be written. */
  append(entries: AuditEntry[], counts: RefusalCount[]): Promise<void>;
  /**
   * Turns the counted refusals into one chained summary entry per caller and status and clears
   * the counts, in one transaction; returns how many entries were written. Counts left by a
   * process that died are summarized by the next.
   */
  summarizeCounts(now: number): Promise<number>;
  /** Newest first. */
  query(q: AuditQuery): Promise<StoredEntry[]>;
  /**
   * Walks the chain from the anchor; reports the first row whose stored hash is not its link.
   * A chain kept in the same database as its anchor proves nothing against whoever can write
   * it (cut the newest entries, or rewrite and rehash them all): given a checkpoint recorded
   * earlier (an earlier verify's `head`), the entry it names must still be there with that hash.
   */
  verify(checkpoint?: Checkpoint): Promise<ChainVerdict>;
  /**
   * Deletes the entries older than `before` (unix seconds) and, in the same transaction, moves
   * the anchor to the last deleted entry's hash and appends an entry saying what was pruned: the
   * chain still verifies from the anchor, and the pruning itself is on it. Returns how many went.
   */
  prune(before: number, now: number): Promise<number>;
  close(): Promise<void>;
}

export const columnsOf = (e: AuditEntry): ChainedFields => ({
  time: e.time,
  principal: e.principal ?? null,
  operation: e.operation,
  route: e.route ?? null,
  key_name: e.key ?? null,
  version: e.version ?? null,
  decision: e.decision,
  status: e.status,
  reason: e.reason ?? null,
  source: e.source ?? null,
  count: e.count ?? 1,
  detail: e.detail ?? null,
});

export const entryOf = (r: AuditRow): StoredEntry => ({
  id: r.id,
  time: r.time,
  operation: r.operation,
  decision: r.decision as Decision,
  status: r.status,
  ...(r.principal ? { principal: r.principal } : {}),
  ...(r.route ? { route: r.route } : {}),
  ...(r.key_name ? { key: r.key_name } : {}),
  ...(r.version ? { version: r.version } : {}),
  ...(r.reason ? { reason: r.reason } : {}),
  ...(r.source ? { source: r.source } : {}),
  ...(r.count > 1 ? { count: r.count } : {}),
  ...(r.detail ? { detail: r.detail } : {}),
});

export const PAGE = 1000;

/** One summary entry per caller and status, for counted refusals (see AuditStore.summarizeCounts). */
export function summaryEntries(rows: { source: string; principal: string; status: number; requests: number; since: number }[], now: number): AuditEntry[] {
  return rows.map((r) => ({
    time: now,
    ...(r.principal ? { principal: r.principal } : {}),
    operation: 'refused.summary',
    decision: decisionFor(r.status),
    status: r.status,
    source: r.source,
    count: r.requests,
    detail: `${r.requests} answered ${r.status} beyond the entries stored one by one, ${new Date(r.since * 1000).toISOString()} to ${new Date(now * 1000).toISOString()}`,
  }));
}

/** The refusals of one batch summed per caller and status: one upsert each, however many requests it counts. */
export function sumCounts(counts: RefusalCount[]): (RefusalCount & { requests: number })[] {
  const sums = new Map<string, RefusalCount & { requests: number }>();
  for (const c of counts) {
    const id = JSON.stringify([c.source, c.principal ?? '', c.status]);
    const sum = sums.get(id);
    if (sum) sum.requests++;
    else sums.set(id, { ...c, requests: 1 });
  }
  return [...sums.values()];
}

/** The entry a prune appends about itself. */
export function pruneEntry(removed: number, throughId: number, before: number, now: number): AuditEntry {
  return {
    time: now,
    principal: 'kms',
    operation: 'audit.prune',
    decision: 'allow',
    status: 200,
    count: removed,
    detail: `retention: removed the ${removed} entries through id ${throughId}, older than ${new Date(before * 1000).toISOString()}`,
  };
}

/**
 * Walks rows in id order from the anchor, as AuditStore.verify describes; `page` reads the rows
 * after an id, `PAGE` at a time.
 */
export async function verifyChain(anchor: Checkpoint, page: (afterId: number) => Promise<AuditRow[]>, checkpoint?: Checkpoint): Promise<ChainVerdict> {
  let head: Checkpoint = { id: anchor.id, hash: anchor.hash };
  let atCheckpoint = checkpoint?.id === anchor.id ? anchor.hash : undefined;
  let entries = 0;
  for (let rows = await page(anchor.id); rows.length > 0; rows = await page(rows[rows.length - 1]!.id)) {
    for (const row of rows) {
      const expected = linkHash(head.hash, row);
      if (row.hash !== expected) return { ok: false, brokenAt: row.id, entries, reason: row.hash ? 'the entry does not match its hash or its predecessor' : 'the entry has no hash' };
      head = { id: row.id, hash: expected };
      if (row.id === checkpoint?.id) atCheckpoint = expected;
      entries++;
    }
  }
  if (checkpoint) {
    if (checkpoint.id < anchor.id) return { ok: false, brokenAt: checkpoint.id, entries, reason: 'the checkpoint entry was pruned: verify against a newer checkpoint' };
    if (atCheckpoint === undefined) return { ok: false, brokenAt: checkpoint.id, entries, reason: 'the checkpoint entry is gone: the log was cut' };
    if (atCheckpoint !== checkpoint.hash.toLowerCase()) return { ok: false, brokenAt: checkpoint.id, entries, reason: 'the checkpoint entry has another hash: the log was rewritten' };
  }
  return { ok: true, entries, head };
}

/**
 * The audit log's SQLite file, apart from the key store's: appended on every request, it must not
 * slow key writes. WAL with synchronous=NORMAL: a commit is in the WAL file when `append`
 * resolves, so it survives a crash of the process; a crash of the machine (power loss, kernel
 * panic) can lose the commits since the last checkpoint, never the file's consistency.
 *
 * Each row stores hash = SHA-256(previous row's hash ‖ canonical row); the first kept row is
 * chained from `audit_anchor` (the genesis, or the last pruned row's hash). Appends run in an
 * IMMEDIATE transaction that reads the last hash inside it, so the `skr kms role` CLI and a
 * running KMS writing the same file keep one chain.
 */
export class SqliteAuditStore implements AuditStore {
  private readonly appendAll: (entries: AuditEntry[], counts: RefusalCount[]) => void;

  private constructor(private readonly db: Db) {
    const insert = db.prepare(
      'INSERT INTO audit (time, principal, operation, route, key_name, version, decision, status, reason, source, count, detail, hash) VALUES (@time, @principal, @operation, @route, @key_name, @version, @decision, @status, @reason, @source, @count, @detail, @hash)',
    );
    const count = db.prepare(
      'INSERT INTO audit_counts (source, principal, status, requests, since) VALUES (?, ?, ?, ?, ?) ON CONFLICT (source, principal, status) DO UPDATE SET requests = requests + excluded.requests',
    );
    const transaction = db.transaction((entries: AuditEntry[], counts: RefusalCount[]) => {
      let previous = this.lastHash();
      for (const entry of entries) {
        const columns = columnsOf(entry);
        previous = linkHash(previous, columns);
        insert.run({ ...columns, hash: previous });
      }
      for (const c of sumCounts(counts)) count.run(c.source, c.principal ?? '', c.status, c.requests, c.time);
    });
    this.appendAll = (entries, counts) => transaction.immediate(entries, counts);
  }

  static open(path: string): SqliteAuditStore {
    return new SqliteAuditStore(openDatabase(path, { synchronous: 'NORMAL', migrations: AUDIT_MIGRATIONS }));
  }

  get open(): boolean {
    return this.db.open;
  }

  async append(entries: AuditEntry[], counts: RefusalCount[] = []): Promise<void> {
    this.appendAll(entries, counts);
  }

  async summarizeCounts(now: number): Promise<number> {
    return this.db
      .transaction(() => {
        const rows = this.db.prepare('SELECT source, principal, status, requests, since FROM audit_counts ORDER BY since, source, principal, status').all() as Parameters<typeof summaryEntries>[0];
        if (rows.length === 0) return 0;
        this.appendAll(summaryEntries(rows, now), []);
        this.db.prepare('DELETE FROM audit_counts').run();
        return rows.length;
      })
      .immediate();
  }

  private lastHash(): string {
    const last = this.db.prepare('SELECT hash FROM audit ORDER BY id DESC LIMIT 1').get() as { hash: string | null } | undefined;
    if (last?.hash) return last.hash;
    return (this.db.prepare('SELECT hash FROM audit_anchor WHERE id = 1').get() as { hash: string }).hash;
  }

  async query(q: AuditQuery = {}): Promise<StoredEntry[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const filter = (clause: string, value: string | number) => {
      where.push(clause);
      args.push(value);
    };
    if (q.key) filter('key_name = ? COLLATE NOCASE', q.key);
    if (q.principal) filter('principal = ?', q.principal);
    if (q.decision) filter('decision = ?', q.decision);
    if (q.since !== undefined) filter('time >= ?', q.since);
    const sql = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit ?? 100) as AuditRow[]).map(entryOf);
  }

  async verify(checkpoint?: Checkpoint): Promise<ChainVerdict> {
    const anchor = this.db.prepare('SELECT through_id, hash FROM audit_anchor WHERE id = 1').get() as { through_id: number; hash: string };
    const page = this.db.prepare('SELECT * FROM audit WHERE id > ? ORDER BY id LIMIT ?');
    return verifyChain({ id: anchor.through_id, hash: anchor.hash }, async (afterId) => page.all(afterId, PAGE) as AuditRow[], checkpoint);
  }

  async prune(before: number, now: number): Promise<number> {
    return this.db
      .transaction(() => {
        const last = this.db.prepare('SELECT id, hash FROM audit WHERE id = (SELECT MAX(id) FROM audit WHERE time < ?)').get(before) as { id: number; hash: string } | undefined;
        if (!last) return 0;
        const removed = this.db.prepare('DELETE FROM audit WHERE id <= ?').run(last.id).changes;
        this.db.prepare('UPDATE audit_anchor SET through_id = ?, hash = ? WHERE id = 1').run(last.id, last.hash);
        this.appendAll([pruneEntry(removed, last.id, before, now)], []);
        return removed;
      })
      .immediate();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
