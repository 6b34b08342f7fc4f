import type { DataSource, EntityManager } from 'typeorm';
import { notificationsOf } from '../../db/datasource';
import type { DatabaseNotifications } from '../../db/notifications';

/**
 * Reference data (periods, districts, areas) cached per hub process, so a hot read is the one statement that
 * answers it. The tables' triggers (migration ReferenceDataNotify) send a notification on every change and
 * every hub process drops its cache on hearing one: the process that made the change before its statement
 * returns (its pool connections listen too, see createDataSource), every other within a notification's journey
 * (milliseconds). The cache is trusted only while the listener is live: while it is not (starting, the
 * connection lost) every read loads afresh, and whatever was cached is dropped when it (re)connects.
 *
 * Reads inside a transaction always load afresh, so a transaction that changes a period reads its own change.
 */
export class ReferenceCache {
  private entries = new Map<string, { value: unknown } | { pending: Promise<unknown> }>();
  private generation = 0;

  constructor(private readonly notifications: DatabaseNotifications | null) {
    notifications?.subscribe(() => this.invalidate());
  }

  /** Resolves once the listener has made its first attempt to connect. */
  ready(): Promise<void> {
    return this.notifications?.start() ?? Promise.resolve();
  }

  /** The cached value itself when there is one (no promise: the compiled reads plan synchronously), else its load. */
  get<T>(key: string, load: () => Promise<T>): T | Promise<T> {
    if (!this.notifications?.live) {
      void this.notifications?.start();
      return load();
    }
    const hit = this.entries.get(key);
    if (hit) return ('value' in hit ? hit.value : hit.pending) as T | Promise<T>;
    const generation = this.generation;
    const pending = load().then(
      (value) => {
        // Stored only if nothing changed while it loaded; the next read loads again otherwise.
        if (this.generation === generation) this.entries.set(key, { value });
        return value;
      },
      (err) => {
        if (this.generation === generation) this.entries.delete(key);
        throw err;
      },
    );
    this.entries.set(key, { pending });
    return pending;
  }

  invalidate(): void {
    this.generation++;
    this.entries.clear();
  }
}

const caches = new WeakMap<DataSource, ReferenceCache>();

/** The process's reference-data cache for a DataSource (one per DataSource, made on first use). */
export function referenceCache(ds: DataSource): ReferenceCache {
  let c = caches.get(ds);
  if (!c) {
    c = new ReferenceCache(notificationsOf(ds));
    caches.set(ds, c);
  }
  return c;
}

/** A reference value through the cache, or loaded afresh when `db` is inside a transaction. */
export function cachedReference<T>(db: EntityManager, key: string, load: () => Promise<T>): T | Promise<T> {
  if (db.queryRunner?.isTransactionActive) return load();
  return referenceCache(db.connection).get(key, load);
}
