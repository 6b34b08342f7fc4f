import { startTestHub, TestHub } from '../helpers/hub';
import { metricValue } from '../helpers/metrics';

// The complexity estimate is computed once per document when it cannot depend on the variables; these
// documents' estimates do depend on them, so each request must be estimated with its own.
let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(() => t?.stop());

const NODE =
  'urn name laestab phase status district { name area { name } } community(asOf: "2025-10-01") { code name chairName pot(term: "AUTUMN-2025") { amount approved } }';
const BY_FIRST = `query Wide($n: Int!) { ${Array.from({ length: 30 }, (_, i) => `s${i}: schools(first: $n) { nodes { ${NODE} } }`).join(' ')} }`;
const BY_INCLUDE = `query Maybe($all: Boolean!) { ${Array.from({ length: 30 }, (_, i) => `s${i}: schools(first: 1000) @include(if: $all) { nodes { ${NODE} } }`).join(' ')} areas { code } }`;

describe('the query size limit on one document with different variables', () => {
  it("estimates `first: $n` from each request's own value", async () => {
    for (const [n, ok] of [
      [1, true],
      [1000, false],
      [1, true],
      [1000, false],
    ] as const) {
      const r = await t.gql(BY_FIRST, { n });
      if (ok) {
        expect(r.body.errors).toBeUndefined();
        expect(r.body.data.s0.nodes).toHaveLength(1);
      } else {
        expect(r.status).toBe(400);
        expect(r.body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
      }
    }
  });

  it("estimates @include(if: $var) from each request's own value", async () => {
    for (const [all, ok] of [
      [false, true],
      [true, false],
      [false, true],
    ] as const) {
      const r = await t.gql(BY_INCLUDE, { all });
      if (ok) expect(r.body.data).toEqual({ areas: expect.any(Array) });
      else expect(r.body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
    }
  });

  it('refuses a too-large document with no variables every time it is sent', async () => {
    const wide = `{ ${Array.from({ length: 30 }, (_, i) => `s${i}: schools(first: 1000) { nodes { ${NODE} } }`).join(' ')} }`;
    for (let i = 0; i < 3; i++) expect((await t.gql(wide)).body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
  });
});

const ESTIMATES = { name: 'hub_graphql_cost_estimates_total', type: 'counter' } as const;
const estimates = async () => ({
  computed: await metricValue(t.url, ESTIMATES, 'hub_graphql_cost_estimates_total{result="computed"}'),
  cached: await metricValue(t.url, ESTIMATES, 'hub_graphql_cost_estimates_total{result="cached"}'),
});

describe('checks kept per document give every request the same answer', () => {
  it('refuses a string literal the database cannot store every time the document is sent', async () => {
    const query = `{ schools(first: 1, filter: { nameContains: "a\\u0000b" }) { totalCount } }`;
    for (let i = 0; i < 3; i++) {
      const r = await t.gql(query);
      expect(r.status).toBe(400);
      expect(r.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'nameContains' });
      expect(r.body.errors[0].message).toContain('NUL');
    }
  });
});

describe('the cost estimate kept per document', () => {
  it('estimates school(urn) once for every school it is sent for: the URN cannot change its size', async () => {
    const urns: number[] = (await t.db.dataSource.query(`SELECT urn FROM school ORDER BY urn LIMIT 5`)).map(
      (r: { urn: number }) => r.urn,
    );
    const query = `query OneSchool($urn: Int!) { school(urn: $urn) { urn name funding(term: "AUTUMN-2025") { total } } }`;
    const before = await estimates();
    for (const urn of urns) {
      const r = await t.gql(query, { urn });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data.school.urn).toBe(urn);
    }
    const after = await estimates();
    expect(after.computed - before.computed).toBe(1);
    expect(after.cached - before.cached).toBe(urns.length - 1);
  });

  it('estimates again when the data grows, and not when a refresh finds it unchanged', async () => {
    const wide = `query Wide30 { ${Array.from({ length: 30 }, (_, i) => `s${i}: schools(first: 1000) { nodes { ${NODE} } }`).join(' ')} }`;
    const complexity = async () => {
      const r = await t.gql(wide);
      expect(r.body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
      return r.body.errors[0].extensions.complexity as number;
    };
    const first = await complexity();
    await t.hub.refreshBounds();
    const e0 = await estimates();
    expect(await complexity()).toBe(first);
    const e1 = await estimates();
    expect([e1.computed - e0.computed, e1.cached - e0.cached]).toEqual([0, 1]);

    const [{ code }] = await t.db.dataSource.query(`SELECT ons_code AS code FROM district LIMIT 1`);
    await t.db.dataSource.query(
      `INSERT INTO school (urn, laestab, name, phase, type, status, district_code) VALUES (999001, 8869991, 'Bounds Test School', 'PRIMARY', 'ACADEMY', 'OPEN', $1)`,
      [code],
    );
    try {
      await t.hub.refreshBounds();
      const grown = await complexity();
      const e2 = await estimates();
      expect(e2.computed - e1.computed).toBe(1);
      // One more school is one more row of every alias' nodes.
      expect(grown).toBeGreaterThan(first);
    } finally {
      await t.db.dataSource.query(`DELETE FROM school WHERE urn = 999001`);
      await t.hub.refreshBounds();
    }
  });
});
