import 'reflect-metadata';
import { parse } from 'graphql';
import { getComplexity } from 'graphql-query-complexity';
import { startTestHub, TestHub } from '../helpers/hub';
import { startTestDatabase, TestDatabase, usingPostgres } from '../helpers/db';
import { getSchema } from '../../server/schema';
import { rowAwareEstimator } from '../../server/http/complexity';
import { trackBounds } from '../../server/http/cost';
import { createToken } from '../../server/auth/tokens';
import { Role } from '../../server/auth/roles';

/*
 * Issue 10: one caller sending expensive queries back to back must not slow the hub for others. Each caller has a
 * budget of estimated query cost (rows x fields, the complexity limit's own estimate) per window, and may run only
 * a few expensive queries at once; past either it gets 429 with Retry-After, while other callers go on being served.
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await startTestDatabase();
}, 180_000);
afterAll(() => db?.stop());

const store = () => (usingPostgres() ? 'postgres' : 'memory') as 'postgres' | 'memory';

/** The operation's estimated cost as the hub computes it (same schema, same bounds read from the same data). */
async function costOf(query: string): Promise<number> {
  const bounds = trackBounds(db.dataSource);
  await bounds.ready;
  bounds.stop();
  return getComplexity({
    schema: await getSchema(),
    query: parse(query),
    variables: {},
    estimators: [rowAwareEstimator(() => bounds.current())],
  });
}

/** Aliases of the whole school list with funding: an expensive query the complexity limit still accepts. */
async function expensiveQuery(target: number): Promise<{ query: string; cost: number }> {
  const build = (n: number) =>
    `{ ${Array.from({ length: n }, (_, i) => `s${i}: schools(first: 1000) { nodes { urn name phase funding(term: "AUTUMN-2025") { baseline total } } }`).join(' ')} }`;
  const one = await costOf(build(1));
  const n = Math.max(1, Math.floor(target / one));
  return { query: build(n), cost: await costOf(build(n)) };
}

const post = async (t: TestHub, query: string, token: string) => {
  const res = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as any };
};

describe('a per-caller budget of query cost', () => {
  it('refuses the expensive caller with 429 once its budget is spent, while other callers are served', async () => {
    const budget = 1_000_000;
    const t = await startTestHub({
      db,
      costBudgetPerToken: budget,
      costBudgetWindowSeconds: 600,
      rateLimitStore: store(),
    });
    try {
      const heavy = await expensiveQuery(150_000);
      expect(heavy.cost).toBeGreaterThan(100_000);
      expect(heavy.cost).toBeLessThan(250_000);
      const allowed = Math.floor(budget / heavy.cost);
      // A second Analyst: the budget is the caller's, not the role's.
      const otherAnalyst = (await createToken(db.dataSource.manager, { role: Role.ANALYST, name: 'Another analyst' }))
        .token;
      const [{ urn }] = await db.dataSource.query(`SELECT urn FROM school WHERE status = 'OPEN' ORDER BY urn LIMIT 1`);
      const light = `{ school(urn: ${urn}) { urn name funding(term: "AUTUMN-2025") { total } } }`;

      let hostileDone = false;
      const hostile: Awaited<ReturnType<typeof post>>[] = [];
      const hostileLoop = (async () => {
        for (let i = 0; i < allowed + 6; i++) hostile.push(await post(t, heavy.query, t.tokens.ANALYST));
        hostileDone = true;
      })();
      const others: number[] = [];
      const otherLoop = (async () => {
        while (!hostileDone || others.length < 20) {
          others.push((await post(t, light, t.tokens.FINANCE)).status);
          others.push((await post(t, light, otherAnalyst)).status);
        }
      })();
      await Promise.all([hostileLoop, otherLoop]);

      expect(hostile.slice(0, allowed).map((r) => r.status)).toEqual(Array(allowed).fill(200));
      expect(hostile.slice(0, allowed).every((r) => r.body.data.s0.nodes.length > 0)).toBe(true);
      const refused = hostile.slice(allowed);
      expect(refused.map((r) => r.status)).toEqual(Array(6).fill(429));
      for (const r of refused) {
        expect(r.body.errors[0].extensions.code).toBe('RATE_LIMITED');
        expect(r.body.data).toBeUndefined();
        expect(Number(r.retryAfter)).toBeGreaterThan(0);
        expect(Number(r.retryAfter)).toBeLessThanOrEqual(600);
      }
      // The query that would overspend is named with its cost; after it the caller is refused before parsing.
      expect(refused[0].body.errors[0].message).toBe(
        `Query cost budget spent: this caller may spend an estimated 1,000,000 (rows x fields) every 600 s and this query would cost ${heavy.cost.toLocaleString('en-GB')}. Ask for fewer rows or fields, or retry after ${refused[0].retryAfter} s.`,
      );
      for (const r of refused.slice(1))
        expect(r.body.errors[0].message).toBe(
          `Query cost budget spent: this caller may spend an estimated 1,000,000 (rows x fields) every 600 s and has spent it. Retry after ${r.retryAfter} s.`,
        );
      expect(others.length).toBeGreaterThanOrEqual(20);
      expect(others.filter((s) => s !== 200)).toEqual([]);
      // The other Analyst may still send the expensive query: its budget is untouched.
      expect((await post(t, heavy.query, otherAnalyst)).status).toBe(200);
      // The refused caller's light queries cost little, but its budget is spent: they wait for the window too.
      expect((await post(t, light, t.tokens.ANALYST)).status).toBe(429);
    } finally {
      await t.stop();
    }
  });

  it('lets one caller run only so many expensive queries at once; its light queries are not held back', async () => {
    const t = await startTestHub({
      db,
      costBudgetPerToken: 100_000_000,
      expensiveQueryCost: 50_000,
      maxConcurrentExpensivePerToken: 2,
      rateLimitStore: store(),
    });
    try {
      const heavy = await expensiveQuery(200_000);
      const [{ urn }] = await db.dataSource.query(`SELECT urn FROM school WHERE status = 'OPEN' ORDER BY urn LIMIT 1`);
      const light = `{ school(urn: ${urn}) { urn name } }`;
      const burst = await Promise.all([
        ...Array.from({ length: 5 }, () => post(t, heavy.query, t.tokens.SUBGROUP)),
        post(t, light, t.tokens.SUBGROUP),
      ]);
      const heavyStatuses = burst.slice(0, 5).map((r) => r.status);
      expect(heavyStatuses.filter((s) => s === 200)).toHaveLength(2);
      const refused = burst.slice(0, 5).filter((r) => r.status === 429);
      expect(refused).toHaveLength(3);
      for (const r of refused) {
        expect(r.retryAfter).toBe('1');
        expect(r.body.errors[0].message).toBe(
          'This caller already has 2 expensive queries running (estimated cost 50,000 or more each): wait for them to finish before sending another. Retry after 1 s.',
        );
      }
      expect(burst[5].status).toBe(200);
      // Once they have finished, the next expensive query is served: the slots are given back.
      expect((await post(t, heavy.query, t.tokens.SUBGROUP)).status).toBe(200);
      const again = await Promise.all([
        post(t, heavy.query, t.tokens.SUBGROUP),
        post(t, heavy.query, t.tokens.SUBGROUP),
      ]);
      expect(again.map((r) => r.status)).toEqual([200, 200]);
    } finally {
      await t.stop();
    }
  });

  it('with the default budget, a caller may send the largest accepted query a dozen times a minute', async () => {
    const t = await startTestHub({ db, costBudgetPerToken: undefined, rateLimitStore: store() });
    try {
      const heavy = await expensiveQuery(240_000);
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await post(t, heavy.query, t.tokens.FINANCE)).status);
      expect(statuses).toEqual(Array(12).fill(200));
    } finally {
      await t.stop();
    }
  });
});
