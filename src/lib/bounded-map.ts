/**
 * A Map of at most `max` entries that drops the oldest insertion to make room: for caches keyed
 * by what callers send (tokens, keys, chains), which must not grow without end.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.max) this.delete(this.keys().next().value!);
    return super.set(key, value);
  }
}
