import type { EntityManager } from 'typeorm';
import { HubError } from '../errors';

export class BudgetExceeded extends HubError {
  constructor(budgetMs: number) {
    super(
      'SERVICE_UNAVAILABLE',
      `The request ran past its time budget of ${budgetMs / 1000} s and was stopped. Ask for fewer rows or fields, or try again when the hub is less busy.`,
      {
        reason: 'TIME_BUDGET',
        http: { status: 503, headers: new Map([['retry-after', '5']]) },
      },
    );
  }
}

/**
 * The request's database handle: once its deadline has passed, every further statement is refused, so a
 * runaway query stops issuing SQL (the executor has already answered 503 by then). Each statement that does
 * run is still bounded by PostgreSQL's statement_timeout.
 */
export function budgeted(db: EntityManager, deadline: number): EntityManager {
  const budgetMs = Math.max(0, deadline - Date.now());
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return (sql: string, params?: unknown[]) => {
          if (Date.now() > deadline) return Promise.reject(new BudgetExceeded(budgetMs));
          return target.query(sql, params);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}

/** Resolves to the work's result, or to `onTimeout()` when the deadline passes first. */
export async function withinBudget<T>(work: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
