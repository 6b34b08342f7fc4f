import { startTestHub, TestHub } from '../helpers/hub';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(() => t?.stop());

const NESTED = `query($n: Int!) {
  schools(first: $n) {
    totalCount
    nodes {
      urn name
      district { name area { name } }
      community(asOf: "2025-10-01") { code name pot(term: "AUTUMN-2025") { amount } }
      notionalSenBudget(financialYear: "2025-26") { total factors { factor senAmount } }
      funding(term: "AUTUMN-2025") { baseline protectedAmount communityShare total }
      caseloads(period: "2025/26-T2") { kind count suppressed }
    }
  }
}`;

async function statementsFor(n: number, token?: string) {
  const before = await sqlCounter();
  const r = await t.gql(NESTED, { n }, token);
  expect(r.body.errors).toBeUndefined();
  expect(r.body.data.schools.nodes).toHaveLength(n);
  return (await sqlCounter()) - before;
}

/** Reads the hub's own Prometheus counter of SQL statements per operation. */
async function sqlCounter(): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const m = /hub_graphql_sql_statements_sum\{operation="anonymous"\} (\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

describe('SQL statements of a nested query', () => {
  it('are the same, and few, for 60 and 600 schools', async () => {
    const sixty = await statementsFor(60);
    const sixHundred = await statementsFor(600);
    expect(sixty).toBe(sixHundred);
    // schools, count, periods, districts, areas, community, pot, notional SEN, funding, caseloads
    expect(sixHundred).toBeLessThanOrEqual(12);
  });

  it('stay constant for a Chair, whose suppression needs community look-ups', async () => {
    expect(await statementsFor(50, t.tokens.CHAIR)).toBe(await statementsFor(500, t.tokens.CHAIR));
  });

  it('stay constant for communities with their member schools and pots', async () => {
    const q = `{ communities { code pot(term: "SPRING-2026") { amount } schools { urn funding(term: "SPRING-2026") { total } } } }`;
    const before = await sqlCounter();
    const r = await t.gql(q);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.communities).toHaveLength(53);
    expect((await sqlCounter()) - before).toBeLessThanOrEqual(6);
  });
});
