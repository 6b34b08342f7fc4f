import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger, QueryRunner } from 'typeorm';

/** Per-operation SQL statement tally, carried through async calls (DataLoader batches included). */
export interface SqlTally {
  statements: number;
}

const storage = new AsyncLocalStorage<SqlTally>();

export function withSqlTally<T>(tally: SqlTally, fn: () => T): T {
  return storage.run(tally, fn);
}

/** TypeORM logger that counts every statement against the current request and logs slow or failed ones. */
export class CountingLogger implements Logger {
  constructor(
    private readonly sink?: { warn: (obj: object, msg: string) => void; debug: (obj: object, msg: string) => void },
  ) {}

  logQuery(_query: string, _parameters?: unknown[], _runner?: QueryRunner): void {
    const tally = storage.getStore();
    if (tally) tally.statements++;
  }
  logQueryError(error: string | Error, query: string): void {
    const tally = storage.getStore();
    if (tally) tally.statements++;
    this.sink?.debug({ err: String(error), query: query.slice(0, 500) }, 'sql error');
  }
  logQuerySlow(time: number, query: string): void {
    this.sink?.warn({ ms: time, query: query.slice(0, 500) }, 'slow sql');
  }
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}
