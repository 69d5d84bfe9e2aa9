import { createHash } from 'node:crypto';

/**
 * Identical releases asked together share one call to the key service, but never a call already
 * sent: a request that arrives while a release of the same key (same endpoints, `enc` and
 * caller token) is in flight waits for the next call, which starts when the one in flight has
 * settled and answers every request that arrived meanwhile. Each answer therefore comes from a
 * decision the key service made after the request arrived, exactly as if it had asked alone:
 * a key disabled or a release policy changed before a request applies to it. Under load the
 * key service sees at most two calls per key at a time (one in flight, one gathering) instead of
 * one per caller.
 */
interface Line<T> {
  /** The call of the request that arrived first while one was in flight; the others share it. */
  next?: { call: () => Promise<T>; waiters: Array<{ resolve: (value: T) => void; reject: (error: unknown) => void }> };
}

export class JoinedReleases<T> {
  private readonly lines = new Map<string, Line<T>>();

  /**
   * `call` performs the release the `parts` name; `copy` gives each joined request its own
   * answer object. `parts` must name everything the answer depends on.
   */
  constructor(private readonly copy: (value: T) => T) {}

  run(parts: Array<string | undefined>, call: () => Promise<T>): Promise<T> {
    // Hashed: the caller's access token is one of the parts and is not kept as a map key.
    const id = createHash('sha256').update(JSON.stringify(parts)).digest('base64');
    const line = this.lines.get(id);
    if (!line) return this.start(id, {}, call);
    line.next ??= { call, waiters: [] };
    const next = line.next;
    return new Promise<T>((resolve, reject) => next.waiters.push({ resolve, reject }));
  }

  /** Runs `call` as the line's call in flight; when it settles, the gathered requests get the next one. */
  private start(id: string, line: Line<T>, call: () => Promise<T>): Promise<T> {
    this.lines.set(id, line);
    const running = call();
    const advance = () => {
      const next = line.next;
      if (!next) {
        this.lines.delete(id);
        return;
      }
      line.next = undefined;
      this.start(id, line, next.call).then(
        (value) => next.waiters.forEach((w, i) => w.resolve(i === 0 ? value : this.copy(value))),
        (error) => next.waiters.forEach((w) => w.reject(error)),
      );
    };
    running.then(advance, advance);
    return running;
  }
}
