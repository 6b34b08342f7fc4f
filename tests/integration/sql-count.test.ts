import { startTestHub, TestHub } from '../helpers/hub';

// The hub compiles the school list into one statement; `r` never compiles, so the loaders are measured too.
let t: TestHub;
let r: TestHub;
beforeAll(async () => {
  t = await startTestHub();
  r = await startTestHub({ db: t.db, compiledReads: false });
});
afterAll(async () => {
  await r?.hub.stop();
  await t?.stop();
});

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

async function statementsFor(n: number, role: 'FINANCE' | 'CHAIR' = 'FINANCE', hub = t) {
  const before = await sqlCounter(hub);
  const res = await hub.gql(NESTED, { n }, hub.tokens[role]);
  expect(res.body.errors).toBeUndefined();
  expect(res.body.data.schools.nodes).toHaveLength(n);
  return (await sqlCounter(hub)) - before;
}

/** Reads the hub's own Prometheus counter of SQL statements per operation. */
async function sqlCounter(hub = t): Promise<number> {
  const text = await (await fetch(`${hub.url}/metrics`)).text();
  const m = /hub_graphql_sql_statements_sum\{operation="anonymous"\} (\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

describe('SQL statements of a nested query', () => {
  it('are two for 60 and for 600 schools: the period catalogue and the compiled page', async () => {
    expect(await statementsFor(60)).toBe(2);
    expect(await statementsFor(600)).toBe(2);
  });

  it('are the same, and few, for 60 and 600 schools through resolvers and loaders', async () => {
    const sixty = await statementsFor(60, 'FINANCE', r);
    const sixHundred = await statementsFor(600, 'FINANCE', r);
    expect(sixty).toBe(sixHundred);
    // schools, count, periods, districts, areas, community, pot, notional SEN, funding, caseloads
    expect(sixHundred).toBeLessThanOrEqual(12);
  });

  it('stay constant for a Chair, whose suppression needs community look-ups', async () => {
    // The first read computes and stores the Chair's suppression patterns; after it, the periods, the data
    // versions, the banded top-up check and the compiled page.
    await statementsFor(50, 'CHAIR');
    expect(await statementsFor(50, 'CHAIR')).toBe(4);
    expect(await statementsFor(500, 'CHAIR')).toBe(4);
    expect(await statementsFor(50, 'CHAIR', r)).toBe(await statementsFor(500, 'CHAIR', r));
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
