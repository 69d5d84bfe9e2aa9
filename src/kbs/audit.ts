import { open } from 'node:fs/promises';
import { AuditUnavailable } from '../errors';
import type { Caller } from '../lib/refusal-gate';
import { readIfExists, writeFileAtomic } from '../lib/state-file';

/**
 * The KBS's audit log: one JSON line per admin change and per resource decision, appended and
 * fsynced before the answer leaves (a change or a release that could not be recorded is not
 * answered). Entries carry paths, principals and outcomes, never resource bytes or tokens.
 * Refused requests beyond the per-caller bound (src/lib/refusal-gate.ts) are counted instead:
 * the counts are written atomically to a file beside the log before the answer, and appended
 * as one `counted` line per caller, action and status when the interval ends, at close, or at
 * the next start if the KBS stopped before.
 */
export interface AuditEntry {
  action: 'resource.get' | 'resource.set' | 'resource.delete' | 'policy.set' | 'policy.delete' | 'policy.list' | 'attest';
  outcome: 'allowed' | 'denied' | 'done' | 'failed';
  principal?: string;
  source?: string;
  resource?: string;
  code?: string;
}

/** One kind of refused request counted rather than stored. */
export interface RefusalCount extends Caller {
  action: AuditEntry['action'];
  status: number;
}

type Counted = RefusalCount & { count: number };

export class AuditLog {
  private tail: Promise<unknown> = Promise.resolve();
  /** The write the next counts join, until it starts. */
  private flush: Promise<void> | undefined;

  private constructor(
    private readonly path: string,
    private readonly countsPath: string,
    private counts: Map<string, Counted>,
    private readonly now: () => Date,
  ) {}

  /** The log at `path`, with the counts a previous run left in `countsPath` written out as summaries. */
  static async open(path: string, countsPath: string, now: () => Date = () => new Date()): Promise<AuditLog> {
    let left: Counted[] = [];
    try {
      const raw = await readIfExists(countsPath);
      if (raw) left = JSON.parse(raw.toString()) as Counted[];
      if (!Array.isArray(left)) throw new Error('the counts file is not a list');
    } catch {
      throw new AuditUnavailable();
    }
    const log = new AuditLog(path, countsPath, new Map(left.map((c) => [keyOf(c), c])), now);
    await log.summarize();
    return log;
  }

  record(entry: AuditEntry): Promise<void> {
    return this.append([{ time: this.now().toISOString(), ...entry }]);
  }

  /**
   * Counts one refused request; resolves once the count is on disk. Counts arriving while the
   * file is being written share the next write, so a flood costs one write at a time, not one
   * per request.
   */
  count(refusal: RefusalCount): Promise<void> {
    const key = keyOf(refusal);
    this.counts.set(key, { ...refusal, count: (this.counts.get(key)?.count ?? 0) + 1 });
    this.flush ??= this.serialized(() => {
      this.flush = undefined;
      return this.saveCounts();
    });
    return this.flush;
  }

  /**
   * Appends the counts as `counted` lines and starts counting from zero. If the lines cannot be
   * written the counts are kept for the next try; if only the emptied file cannot, the next
   * start writes them again (counted twice rather than lost).
   */
  summarize(): Promise<void> {
    return this.serialized(async () => {
      const summarized = this.counts;
      if (summarized.size === 0) return;
      this.counts = new Map();
      const time = this.now().toISOString();
      try {
        await this.write([...summarized.values()].map(({ action, source, principal, status, count }) => ({ time, action, outcome: 'counted', source, principal, status, count })));
      } catch (error) {
        for (const [key, counted] of summarized) this.counts.set(key, { ...counted, count: counted.count + (this.counts.get(key)?.count ?? 0) });
        throw error;
      }
      await this.saveCounts();
    });
  }

  private saveCounts(): Promise<void> {
    return writeFileAtomic(this.countsPath, JSON.stringify([...this.counts.values()]), 0o600);
  }

  private append(lines: object[]): Promise<void> {
    return this.serialized(() => this.write(lines));
  }

  private async write(lines: object[]): Promise<void> {
    const handle = await open(this.path, 'a', 0o600);
    try {
      await handle.appendFile(lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** Runs one write after the previous ones; any failure is AuditUnavailable. */
  private serialized(write: () => Promise<void>): Promise<void> {
    const run = this.tail.then(async () => {
      try {
        await write();
      } catch {
        throw new AuditUnavailable();
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }
}

function keyOf(refusal: RefusalCount): string {
  return JSON.stringify([refusal.action, refusal.source, refusal.principal ?? '', refusal.status]);
}
