import type { EntityManager } from 'typeorm';

type Reads = readonly (() => unknown)[];

/**
 * Runs independent reads: side by side on the pool (each statement takes a connection of its own), one after
 * another on a transaction's (or any query runner's) single connection. There, statements sent together only
 * queue behind each other in the driver (pg 8 deprecates it, pg 9 refuses it), and one that fails leaves the
 * others running into an aborted transaction.
 */
export async function readAll<T extends Reads>(
  db: EntityManager,
  reads: T,
): Promise<{ -readonly [K in keyof T]: Awaited<ReturnType<T[K]>> }> {
  type Out = { -readonly [K in keyof T]: Awaited<ReturnType<T[K]>> };
  if (!db.queryRunner) return (await Promise.all(reads.map((read) => read()))) as Out;
  const out: unknown[] = [];
  for (const read of reads) out.push(await read());
  return out as Out;
}
