import { NOTE_MAX_LENGTH, normaliseReference, type ReferenceKind, type ReferenceValue, type ReferenceValueStore } from '../reference-values';
import type { VerifierDatabase } from './postgres-pool';

/**
 * How stale a replica's copy of the reference values may be: a change made through another
 * replica applies here at most this long after it committed (a change made here applies at
 * once). Within it the copy is reused; after it, one read of the version counter says whether to
 * read the values again. A store that does not answer fails the request (503), never a stale answer.
 */
export const REFERENCE_REFRESH_MS = 1_000;

interface Row {
  kind: ReferenceKind;
  value: string;
  note: string | null;
  added_at: Date;
}

function toReference(row: Row): ReferenceValue {
  return { kind: row.kind, value: row.value, addedAt: row.added_at.toISOString(), ...(row.note !== null ? { note: row.note } : {}) };
}

/**
 * Reference values in PostgreSQL, shared by replicas. Each change and the bump of the version
 * counter commit in one transaction, so a replica that sees the new version reads the new values.
 */
export class PostgresReferenceValueStore implements ReferenceValueStore {
  private cached?: { version: string; values: ReferenceValue[]; checkedAt: number };
  private readonly now: () => number;

  constructor(
    private readonly db: VerifierDatabase,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  async list(): Promise<ReferenceValue[]> {
    const checkedAt = this.now();
    if (this.cached && checkedAt - this.cached.checkedAt < REFERENCE_REFRESH_MS) return [...this.cached.values];
    const [{ version }] = (await this.db.query<{ version: string }>({ name: 'verifier_refs_version', text: 'SELECT version FROM verifier_reference_version' })) as [{ version: string }];
    if (this.cached?.version === version) {
      this.cached.checkedAt = checkedAt;
      return [...this.cached.values];
    }
    return this.reload(checkedAt);
  }

  async add(kind: unknown, value: unknown, note?: string): Promise<ReferenceValue> {
    const ref = normaliseReference(kind, value);
    const kept = note ? String(note).slice(0, NOTE_MAX_LENGTH) : null;
    const result = await this.db.transaction(async (client) => {
      const inserted = await client.query<Row>({
        name: 'verifier_refs_add',
        text: `INSERT INTO verifier_reference_values (kind, value, note, added_at) VALUES ($1, $2, $3, $4)
               ON CONFLICT (kind, value) DO NOTHING RETURNING kind, value, note, added_at`,
        values: [ref.kind, ref.value, kept, new Date(this.now())],
      });
      if (inserted.rows.length === 1) {
        await client.query({ name: 'verifier_refs_bump', text: 'UPDATE verifier_reference_version SET version = version + 1' });
        return inserted.rows[0]!;
      }
      const existing = await client.query<Row>({
        name: 'verifier_refs_get',
        text: 'SELECT kind, value, note, added_at FROM verifier_reference_values WHERE kind = $1 AND value = $2',
        values: [ref.kind, ref.value],
      });
      return existing.rows[0]!;
    });
    this.cached = undefined;
    return toReference(result);
  }

  async remove(kind: unknown, value: unknown): Promise<boolean> {
    const ref = normaliseReference(kind, value);
    const removed = await this.db.transaction(async (client) => {
      const deleted = await client.query({ name: 'verifier_refs_remove', text: 'DELETE FROM verifier_reference_values WHERE kind = $1 AND value = $2', values: [ref.kind, ref.value] });
      if (deleted.rowCount === 0) return false;
      await client.query({ name: 'verifier_refs_bump', text: 'UPDATE verifier_reference_version SET version = version + 1' });
      return true;
    });
    this.cached = undefined;
    return removed;
  }

  /** Reads the version and the values in one snapshot, so the two agree. */
  private async reload(checkedAt: number): Promise<ReferenceValue[]> {
    const loaded = await this.db.transaction(async (client) => {
      await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const version = await client.query<{ version: string }>({ name: 'verifier_refs_version', text: 'SELECT version FROM verifier_reference_version' });
      const rows = await client.query<Row>({ name: 'verifier_refs_list', text: 'SELECT kind, value, note, added_at FROM verifier_reference_values ORDER BY seq' });
      return { version: version.rows[0]!.version, values: rows.rows.map(toReference) };
    });
    this.cached = { ...loaded, checkedAt };
    return [...loaded.values];
  }
}
