import type { DataSource } from 'typeorm';
import { createCostBudget } from '../../server/http/cost-budget';
import { RateLimited } from '../../server/http/limits';

// The in-memory store never touches the DataSource.
const noDatabase = {} as DataSource;
const budget = (points: number) =>
  createCostBudget(noDatabase, {
    points,
    windowSeconds: 60,
    expensiveCost: 50_000,
    maxConcurrentExpensive: 2,
    store: 'memory',
  });

describe('the per-caller limit on expensive queries running at once', () => {
  it('admits only two of five expensive requests that arrive together, however the store answers', async () => {
    const b = budget(100_000_000);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => b.charge('token:a', 60_000)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
    expect(refused).toHaveLength(3);
    for (const e of refused) {
      expect(e).toBeInstanceOf(RateLimited);
      expect(e.retryAfterSeconds).toBe(1);
    }
    // Another caller's expensive request and this caller's light one are not held back.
    await expect(b.charge('token:b', 60_000)).resolves.toEqual(expect.any(Function));
    await expect(b.charge('token:a', 10)).resolves.toEqual(expect.any(Function));
  });

  it('gives a slot back when its request is answered, once however often it is released', async () => {
    const b = budget(100_000_000);
    const [first, second] = await Promise.all([b.charge('k', 60_000), b.charge('k', 60_000)]);
    await expect(b.charge('k', 60_000)).rejects.toBeInstanceOf(RateLimited);
    first();
    first();
    const third = await b.charge('k', 60_000);
    await expect(b.charge('k', 60_000)).rejects.toBeInstanceOf(RateLimited);
    second();
    third();
    await Promise.all([b.charge('k', 60_000), b.charge('k', 60_000)]);
  });

  it('refuses an expensive request that would overspend, and the caller before parsing until its window ends', async () => {
    const b = budget(100_000);
    const kept = await b.charge('k', 60_000);
    await expect(b.charge('k', 60_000)).rejects.toThrow(
      /^Query cost budget spent: this caller may spend an estimated 100,000 \(rows x fields\) every 60 s and this query would cost 60,000\./,
    );
    kept();
    expect(() => b.refuseIfSpent('k')).toThrow(/has spent it\. Retry after \d+ s\./);
    expect(() => b.refuseIfSpent('someone else')).not.toThrow();
  });
});
