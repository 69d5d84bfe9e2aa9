import { open } from 'node:fs/promises';
import { AuditUnavailable } from '../errors';

/**
 * The KBS's audit log: one JSON line per admin change and per resource decision, appended and
 * fsynced before the answer leaves (a change or a release that could not be recorded is not
 * answered). Entries carry paths, principals and outcomes, never resource bytes or tokens.
 */
export interface AuditEntry {
  action: 'resource.get' | 'resource.set' | 'resource.delete' | 'policy.set' | 'policy.delete' | 'attest';
  outcome: 'allowed' | 'denied' | 'done' | 'failed';
  principal?: string;
  source?: string;
  resource?: string;
  code?: string;
}

export class AuditLog {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  record(entry: AuditEntry): Promise<void> {
    const line = `${JSON.stringify({ time: this.now().toISOString(), ...entry })}\n`;
    const run = this.tail.then(async () => {
      try {
        const handle = await open(this.path, 'a', 0o600);
        try {
          await handle.appendFile(line);
          await handle.sync();
        } finally {
          await handle.close();
        }
      } catch {
        throw new AuditUnavailable();
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }
}
