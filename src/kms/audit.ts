import { openDatabase, type Db } from './store/database';
import { AUDIT_MIGRATIONS } from './store/migrations';

/** allow: performed; deny: refused by authentication, RBAC or policy; error: failed otherwise. */
export type Decision = 'allow' | 'deny' | 'error';

export interface AuditEntry {
  time: number;
  principal?: string;
  operation: string;
  key?: string;
  version?: string;
  decision: Decision;
  status: number;
  /** Why (an error code and message); never key material, tokens or request bodies. */
  reason?: string;
}

export interface AuditQuery {
  key?: string;
  principal?: string;
  decision?: Decision;
  /** Unix seconds, inclusive. */
  since?: number;
  limit?: number;
}

interface Row {
  id: number;
  time: number;
  principal: string | null;
  operation: string;
  key_name: string | null;
  version: string | null;
  decision: Decision;
  status: number;
  reason: string | null;
}

/**
 * The audit log: one row per request the KMS answered. It has its own SQLite file with
 * synchronous=NORMAL in WAL mode — an entry survives a crash of the process (not of the
 * machine) and appending it does not cost a key write's fsync. Entries are written in one
 * transaction every FLUSH_MS (sooner when many are waiting): a commit per entry cost as much as
 * the release it audits. An entry is recorded once its answer is sent, so a crash of the
 * process can lose the entries of the answers of its last FLUSH_MS, and no more.
 */
const FLUSH_MS = 25;
const FLUSH_ENTRIES = 256;

export class AuditLog {
  private readonly insertAll: (entries: AuditEntry[]) => void;
  private pending: AuditEntry[] = [];
  private timer?: NodeJS.Timeout;

  private constructor(private readonly db: Db) {
    const insert = db.prepare('INSERT INTO audit (time, principal, operation, key_name, version, decision, status, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.insertAll = db.transaction((entries: AuditEntry[]) => {
      for (const e of entries) insert.run(e.time, e.principal ?? null, e.operation, e.key ?? null, e.version ?? null, e.decision, e.status, e.reason ?? null);
    });
  }

  static open(path: string): AuditLog {
    return new AuditLog(openDatabase(path, { synchronous: 'NORMAL', migrations: AUDIT_MIGRATIONS }));
  }

  record(entry: AuditEntry): void {
    this.pending.push(entry);
    if (this.pending.length >= FLUSH_ENTRIES) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** Writes the entries recorded so far. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const entries = this.pending;
    this.pending = [];
    if (this.db.open) this.insertAll(entries);
    else process.stderr.write(`skr kms: ${entries.length} audit entries came after the log was closed and are not kept\n`);
  }

  /** Newest first. */
  query(q: AuditQuery = {}): (AuditEntry & { id: number })[] {
    this.flush();
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.key) where.push('key_name = ? COLLATE NOCASE') && args.push(q.key);
    if (q.principal) where.push('principal = ?') && args.push(q.principal);
    if (q.decision) where.push('decision = ?') && args.push(q.decision);
    if (q.since !== undefined) where.push('time >= ?') && args.push(q.since);
    const sql = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit ?? 100) as Row[]).map((r) => ({
      id: r.id,
      time: r.time,
      operation: r.operation,
      decision: r.decision,
      status: r.status,
      ...(r.principal ? { principal: r.principal } : {}),
      ...(r.key_name ? { key: r.key_name } : {}),
      ...(r.version ? { version: r.version } : {}),
      ...(r.reason ? { reason: r.reason } : {}),
    }));
  }

  close(): void {
    this.flush();
    this.db.close();
  }
}
