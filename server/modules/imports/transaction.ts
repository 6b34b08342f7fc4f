import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs `work` in one transaction, then commits it, or rolls it back when `rollback` is set: a dry run goes the
 * whole way a real import goes (validation, the diff, the writes and the audit, against the real tables) and is
 * rolled back explicitly, so its report is the real run's. An error rolls back either way.
 */
export async function inTransaction<T>(
  ds: DataSource,
  opts: { rollback: boolean },
  work: (tx: EntityManager) => Promise<T>,
): Promise<T> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  await runner.startTransaction();
  try {
    const result = await work(runner.manager);
    if (opts.rollback) await runner.rollbackTransaction();
    else await runner.commitTransaction();
    return result;
  } catch (err) {
    if (runner.isTransactionActive) await runner.rollbackTransaction();
    throw err;
  } finally {
    await runner.release();
  }
}
