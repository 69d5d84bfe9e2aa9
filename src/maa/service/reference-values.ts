import { stat } from 'node:fs/promises';
import { InvalidArgument } from '../../errors';
import { readIfExists, writeFileAtomic } from '../../lib/state-file';

/**
 * Reference values the verifier compares evidence with, changed at run time (a build pipeline
 * adds the measurement it produced). Two stores: one JSON file in the state directory (the
 * default) and PostgreSQL shared by replicas (store/postgres-references.ts).
 */
export const REFERENCE_KINDS = { measurement: 48, 'host-data': 32 } as const;
export type ReferenceKind = keyof typeof REFERENCE_KINDS;

export interface ReferenceValue {
  kind: ReferenceKind;
  value: string;
  note?: string;
  addedAt: string;
}

export function isReferenceKind(kind: unknown): kind is ReferenceKind {
  return typeof kind === 'string' && Object.hasOwn(REFERENCE_KINDS, kind);
}

export function normaliseReference(kind: unknown, value: unknown): { kind: ReferenceKind; value: string } {
  if (!isReferenceKind(kind)) throw new InvalidArgument('kind must be "measurement" or "host-data"', { field: 'kind' });
  const bytes = REFERENCE_KINDS[kind];
  if (typeof value !== 'string' || !new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(value)) {
    throw new InvalidArgument(`a ${kind} is ${bytes} bytes of hex`, { field: 'value' });
  }
  return { kind, value: value.toLowerCase() };
}

export interface ReferenceValueStore {
  /** The current values, oldest first. */
  list(): Promise<ReferenceValue[]>;
  /** Adds a value (idempotent: an existing one is answered as it is); resolves once it is durable. */
  add(kind: unknown, value: unknown, note?: string): Promise<ReferenceValue>;
  /** Removes a value; resolves to whether it was present. */
  remove(kind: unknown, value: unknown): Promise<boolean>;
}

/** The values of one kind, from one read of the store. */
export function valuesOf(values: readonly ReferenceValue[], kind: ReferenceKind): string[] {
  return values.filter((v) => v.kind === kind).map((v) => v.value);
}

/** At most this many characters of a note are kept. */
export const NOTE_MAX_LENGTH = 200;

/**
 * The values as one JSON file written atomically. The file is re-read when its mtime changes,
 * so the CLI and the admin API can both edit it.
 */
export class FileReferenceValueStore implements ReferenceValueStore {
  private values: ReferenceValue[] = [];
  private loadedMtime = -1;
  private writes: Promise<unknown> = Promise.resolve();

  private readonly now: () => number;

  constructor(
    private readonly path: string,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  async list(): Promise<ReferenceValue[]> {
    let mtime = 0;
    try {
      mtime = (await stat(this.path)).mtimeMs;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (mtime !== this.loadedMtime) {
      const raw = await readIfExists(this.path);
      this.values = raw ? parseStore(raw.toString('utf8'), this.path) : [];
      this.loadedMtime = mtime;
    }
    return [...this.values];
  }

  async add(kind: unknown, value: unknown, note?: string): Promise<ReferenceValue> {
    const ref = normaliseReference(kind, value);
    return this.mutate((values) => {
      const existing = values.find((v) => v.kind === ref.kind && v.value === ref.value);
      if (existing) return { values, result: existing };
      const added: ReferenceValue = { ...ref, addedAt: new Date(this.now()).toISOString(), ...(note ? { note: String(note).slice(0, NOTE_MAX_LENGTH) } : {}) };
      return { values: [...values, added], result: added };
    });
  }

  async remove(kind: unknown, value: unknown): Promise<boolean> {
    const ref = normaliseReference(kind, value);
    return this.mutate((values) => {
      const kept = values.filter((v) => !(v.kind === ref.kind && v.value === ref.value));
      return { values: kept, result: kept.length !== values.length };
    });
  }

  private mutate<T>(change: (values: ReferenceValue[]) => { values: ReferenceValue[]; result: T }): Promise<T> {
    const run = this.writes.then(async () => {
      const { values, result } = change(await this.list());
      await writeFileAtomic(this.path, `${JSON.stringify({ references: values }, null, 2)}\n`);
      this.values = values;
      this.loadedMtime = (await stat(this.path)).mtimeMs;
      return result;
    });
    this.writes = run.catch(() => undefined);
    return run;
  }
}

function parseStore(text: string, path: string): ReferenceValue[] {
  try {
    const doc = JSON.parse(text) as { references?: unknown };
    if (!Array.isArray(doc.references)) throw new Error('no references array');
    return doc.references.map((r: Record<string, unknown>) => ({
      ...normaliseReference(r.kind, r.value),
      addedAt: String(r.addedAt ?? ''),
      ...(typeof r.note === 'string' ? { note: r.note } : {}),
    }));
  } catch (error) {
    throw new InvalidArgument(`reference values ${path} are corrupt: ${(error as Error).message}`);
  }
}
