import DataLoader from 'dataloader';

/**
 * A DataLoader that also answers synchronously for keys it has already loaded. A list of 600 schools with
 * five relation fields each would otherwise create thousands of promises (and garbage) for values that are
 * already in memory once the list resolver has loaded them in bulk.
 */
export class PeekableLoader<K, V> extends DataLoader<K, V> {
  private readonly settled = new Map<K, V>();

  constructor(batch: DataLoader.BatchLoadFn<K, V>) {
    super(async (keys) => {
      const values = await batch(keys);
      keys.forEach((k, i) => {
        const v = values[i];
        if (!(v instanceof Error)) this.settled.set(k, v as V);
      });
      return values;
    });
  }

  /** The value now if it is loaded, else the promise of it. */
  get(key: K): V | Promise<V> {
    return this.settled.has(key) ? (this.settled.get(key) as V) : this.load(key);
  }

  override prime(key: K, value: V | PromiseLike<V> | Error): this {
    if (!(value instanceof Error) && !(value && typeof (value as PromiseLike<V>).then === 'function'))
      this.settled.set(key, value as V);
    return super.prime(key, value);
  }
}

/** Applies f to a value that may or may not be a promise, staying synchronous when it is not. */
export function then<T, R>(value: T | Promise<T>, f: (v: T) => R | Promise<R>): R | Promise<R> {
  return value instanceof Promise ? value.then(f) : f(value);
}
