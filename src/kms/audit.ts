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
 * machine) and appending it does not cost a key write's fsync.
 */
export class AuditLog {
  private readonly insert;

  private constructor(private readonly db: Db) {
    this.insert = db.prepare('INSERT INTO audit (time, principal, operation, key_name, version, decision, status, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  }

  static open(path: string): AuditLog {
    return new AuditLog(openDatabase(path, { synchronous: 'NORMAL', migrations: AUDIT_MIGRATIONS }));
  }

  record(entry: AuditEntry): void {
    this.insert.run(entry.time, entry.principal ?? null, entry.operation, entry.key ?? null, entry.version ?? null, entry.decision, entry.status, entry.reason ?? null);
  }

  /** Newest first. */
  query(q: AuditQuery = {}): (AuditEntry & { id: number })[] {
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
    this.db.close();
  }
}
