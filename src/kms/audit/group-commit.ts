interface Waiting<T> {
  item: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: the items handed in while no write is running are written together by one call
 * of `write` (one transaction), started at the end of the current turn of the event loop; each
 * caller's promise settles when that write has settled, with its error if it failed. Items
 * handed in during a write wait for it and go together in the next one: one write at a time, so
 * batches are committed in the order they were handed in. A commit per item would cost about as
 * much as the release it audits; one per batch costs one for all the answers of that batch.
 */
export class GroupCommit<T> {
  private waiting: Waiting<T>[] = [];
  private scheduled = false;
  private writing = false;

  constructor(private readonly write: (items: T[]) => Promise<void>) {}

  commit(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.writing || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.waiting;
    this.waiting = [];
    this.writing = true;
    try {
      await this.write(batch.map((w) => w.item));
      for (const w of batch) w.resolve();
    } catch (error) {
      for (const w of batch) w.reject(error);
    } finally {
      this.writing = false;
      this.schedule();
    }
  }
}
