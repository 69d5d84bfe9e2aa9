import { AuditUnavailable } from '../../errors';
import { boundCount, boundEntry, type AuditEntry, type RefusalCount } from './entry';
import { GroupCommit } from './group-commit';
import { SqliteAuditStore, type AuditQuery, type AuditStore, type ChainVerdict, type Checkpoint, type StoredEntry } from './store';

/**
 * The KMS's audit log. `commit` resolves once the entry is committed (group commit): the KMS
 * sends an answer only after its entry's commit, so every answer a client saw — and every key
 * released — is on the log, and a reader sees it as soon as the answer has arrived. When the
 * log cannot be written, `commit` and `record` throw AuditUnavailable (a 503): the request is
 * refused rather than answered unaudited, and the process carries on.
 */
type Committed = { entry: AuditEntry } | { count: RefusalCount };

export class AuditLog {
  private readonly group: GroupCommit<Committed>;
  private failing = false;

  constructor(private readonly store: AuditStore) {
    this.group = new GroupCommit((items) => {
      const entries: AuditEntry[] = [];
      const counts: RefusalCount[] = [];
      for (const item of items) {
        if ('entry' in item) entries.push(item.entry);
        else counts.push(item.count);
      }
      return this.write(entries, counts);
    });
  }

  /** The log in an SQLite file (the state directory's audit.sqlite). */
  static open(path: string): AuditLog {
    return new AuditLog(SqliteAuditStore.open(path));
  }

  /** Commits the entry with the others of this turn; resolves when it is on the log. */
  async commit(entry: AuditEntry): Promise<void> {
    try {
      await this.group.commit({ entry: boundEntry(entry) });
    } catch {
      throw new AuditUnavailable();
    }
  }

  /** Counts one refused request (not stored one by one) with the others of this turn; resolves when the count is committed. */
  async commitCount(count: RefusalCount): Promise<void> {
    try {
      await this.group.commit({ count: boundCount(count) });
    } catch {
      throw new AuditUnavailable();
    }
  }

  /** Writes the counted refusals as summary entries (see AuditStore.summarizeCounts); returns how many. */
  async summarizeCounts(now: number): Promise<number> {
    try {
      return await this.store.summarizeCounts(now);
    } catch {
      throw new AuditUnavailable();
    }
  }

  /** Commits the entry now, on its own: for a change that must not happen unaudited (it is made only once this resolves). */
  async record(entry: AuditEntry): Promise<void> {
    try {
      await this.write([boundEntry(entry)]);
    } catch {
      throw new AuditUnavailable();
    }
  }

  private async write(entries: AuditEntry[], counts: RefusalCount[] = []): Promise<void> {
    try {
      if (!this.store.open) throw new Error('the audit database is closed');
      await this.store.append(entries, counts);
      if (this.failing) process.stderr.write('skr kms: the audit log is written again\n');
      this.failing = false;
    } catch (error) {
      // Once per outage: the cause (the database's message, never an entry) for the operator.
      if (!this.failing) process.stderr.write(`skr kms: the audit log cannot be written, requests are refused (503): ${(error as Error).message}\n`);
      this.failing = true;
      throw error;
    }
  }

  /** Newest first. */
  query(q: AuditQuery = {}): Promise<StoredEntry[]> {
    return this.store.query(q);
  }

  verify(checkpoint?: Checkpoint): Promise<ChainVerdict> {
    return this.store.verify(checkpoint);
  }

  /** Removes the entries older than `retentionDays` (the removal is itself an entry); returns how many. */
  prune(retentionDays: number, now: number): Promise<number> {
    return this.store.prune(now - retentionDays * 86_400, now);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
