/** The calls of one id: the run in flight is implied by the line's presence in the map. */
interface Line<T> {
  /** The run the calls that arrived during the current one will share, once it may start. */
  next?: { run: () => Promise<T>; waiters: Array<{ resolve: (value: T) => void; reject: (error: unknown) => void }> };
}

/**
 * Identical calls asked together share one run, but never a run already started: a call that
 * arrives while one with its id is running waits for the next run, which starts when that one
 * has settled and answers every call that arrived meanwhile. So each answer comes from a run
 * that began after its call arrived, exactly as if it had run alone, and a burst of N identical
 * calls costs two runs instead of N. A waiting call is bounded by the run in flight and its own.
 * Every caller gets `copy` of the answer, an object of its own.
 */
export class SharedNextCall<T> {
  private readonly lines = new Map<string, Line<T>>();

  constructor(private readonly copy: (value: T) => T) {}

  /** `run` performs the call `id` names; `id` must name everything the answer depends on. */
  async call(id: string, run: () => Promise<T>): Promise<T> {
    const line = this.lines.get(id);
    if (!line) return this.copy(await this.start(id, {}, run));
    line.next ??= { run, waiters: [] };
    const next = line.next;
    return new Promise<T>((resolve, reject) => next.waiters.push({ resolve, reject }));
  }

  /** Runs `run` as the line's current one; when it settles, the calls that arrived meanwhile get the next. */
  private start(id: string, line: Line<T>, run: () => Promise<T>): Promise<T> {
    this.lines.set(id, line);
    const running = run();
    const advance = () => {
      const next = line.next;
      if (!next) {
        this.lines.delete(id);
        return;
      }
      line.next = undefined;
      this.start(id, line, next.run).then(
        (value) => next.waiters.forEach((w) => w.resolve(this.copy(value))),
        (error) => next.waiters.forEach((w) => w.reject(error)),
      );
    };
    running.then(advance, advance);
    return running;
  }
}
