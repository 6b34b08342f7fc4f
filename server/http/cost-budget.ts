import type { DataSource } from 'typeorm';
import { RateLimiterAbstract, RateLimiterMemory, RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { Viewer } from '../auth/roles';
import { RateLimited, RateLimitConfig } from './limits';

/**
 * A per-token budget of query cost: the cost is the complexity limit's estimate (rows x fields, complexity.ts),
 * known before anything runs, so an over-budget request is refused without touching the database. The rate limit
 * counts requests; this counts what they ask for, so one caller sending the most expensive accepted query back to
 * back is held to a few a minute while everyone else's light queries go on being served.
 */
export interface CostBudgetConfig {
  /** Estimated cost one caller may spend per window (0: no budget). */
  points: number;
  windowSeconds: number;
  /** A request estimated at this or more is expensive: a caller may run only `maxConcurrentExpensive` at once. */
  expensiveCost: number;
  maxConcurrentExpensive: number;
  store: RateLimitConfig['store'];
}

/** Who spends the budget: the authenticated identity (a refreshed JWT or a second copy of a token is the same caller). */
export const budgetKeyOf = (viewer: Pick<Viewer, 'via' | 'subject'>) => `${viewer.via}:${viewer.subject}`;

export interface CostBudget {
  /**
   * Charges a request's estimated cost to its caller; throws RateLimited (429, Retry-After) when the caller's
   * budget for the window is spent or it already runs as many expensive requests as it may. Resolves to a release
   * function to call once the request has been answered.
   */
  charge(key: string, cost: number): Promise<() => void>;
  /**
   * Before the document is even parsed: refuses a caller whose budget this process has already seen spent, until
   * its window ends (so a caller that ignores Retry-After costs the hub almost nothing per request).
   */
  refuseIfSpent(key: string): void;
}

export function createCostBudget(dataSource: DataSource, cfg: CostBudgetConfig): CostBudget {
  const noop = () => undefined;
  if (cfg.points <= 0) return { charge: async () => noop, refuseIfSpent: noop };
  const keyPrefix = `hub_cost_${cfg.points}_${cfg.windowSeconds}`;
  const memory = new RateLimiterMemory({ keyPrefix, points: cfg.points, duration: cfg.windowSeconds });
  const spent: RateLimiterAbstract =
    cfg.store === 'memory'
      ? memory
      : new RateLimiterPostgres({
          storeClient: dataSource,
          storeType: 'typeorm',
          tableName: 'rate_limit',
          tableCreated: true,
          keyPrefix,
          points: cfg.points,
          duration: cfg.windowSeconds,
          clearExpiredByTimeout: true,
          insuranceLimiter: memory,
          inMemoryBlockOnConsumed: cfg.points,
          inMemoryBlockDuration: cfg.windowSeconds,
        });
  /** Expensive requests each caller is running now (this process: a hub process is where the work runs). */
  const running = new Map<string, number>();
  const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
  /** Callers seen over budget, and when their window ends. */
  const spentUntil = new Map<string, number>();
  /** Counts one more expensive request running for `key`; the function returned gives the slot back (once). */
  const takeSlot = (key: string) => {
    running.set(key, (running.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (running.get(key) ?? 1) - 1;
      if (left <= 0) running.delete(key);
      else running.set(key, left);
    };
  };

  return {
    async charge(key, cost) {
      const expensive = cost >= cfg.expensiveCost;
      if (expensive && (running.get(key) ?? 0) >= cfg.maxConcurrentExpensive) {
        throw new RateLimited(
          `This caller already has ${cfg.maxConcurrentExpensive} expensive ${cfg.maxConcurrentExpensive === 1 ? 'query' : 'queries'} running (estimated cost ${cfg.expensiveCost.toLocaleString('en-GB')} or more each): wait for ${cfg.maxConcurrentExpensive === 1 ? 'it' : 'them'} to finish before sending another. Retry after 1 s.`,
          1,
        );
      }
      // The slot is taken before the store is asked (an await): a burst of expensive requests arriving together
      // must each see the others' slots, not all pass the check before any of them is counted.
      const release = expensive ? takeSlot(key) : noop;
      try {
        await spent.consume(key, Math.max(1, Math.ceil(cost)));
      } catch (r) {
        if (r instanceof RateLimiterRes) {
          release();
          spentUntil.set(key, Date.now() + r.msBeforeNext);
          const after = seconds(r.msBeforeNext);
          throw new RateLimited(
            `Query cost budget spent: this caller may spend an estimated ${cfg.points.toLocaleString('en-GB')} (rows x fields) every ${cfg.windowSeconds} s and this query would cost ${Math.ceil(cost).toLocaleString('en-GB')}. Ask for fewer rows or fields, or retry after ${after} s.`,
            after,
          );
        }
        // The store and its in-memory insurance both failed: serve rather than fail the request.
      }
      return release;
    },
    refuseIfSpent(key) {
      const until = spentUntil.get(key);
      if (until === undefined) return;
      const ms = until - Date.now();
      if (ms <= 0) {
        spentUntil.delete(key);
        return;
      }
      throw new RateLimited(
        `Query cost budget spent: this caller may spend an estimated ${cfg.points.toLocaleString('en-GB')} (rows x fields) every ${cfg.windowSeconds} s and has spent it. Retry after ${seconds(ms)} s.`,
        seconds(ms),
      );
    },
  };
}
