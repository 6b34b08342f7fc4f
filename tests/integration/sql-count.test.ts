import { startTestHub, TestHub } from '../helpers/hub';
import { sqlStatements } from '../helpers/metrics';

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
  const before = await sqlStatements(hub.url);
  const res = await hub.gql(NESTED, { n }, hub.tokens[role]);
  expect(res.body.errors).toBeUndefined();
  expect(res.body.data.schools.nodes).toHaveLength(n);
  return (await sqlStatements(hub.url, 'anonymous', { mustHaveRun: true })) - before;
}

describe('SQL statements of a nested query', () => {
  it('are one for 60 and for 600 schools: the compiled page (the period catalogue is cached per process)', async () => {
    await statementsFor(1); // the first request of the process loads the reference data
    expect(await statementsFor(60)).toBe(1);
    expect(await statementsFor(600)).toBe(1);
  });

  it('are the same, and few, for 60 and 600 schools through resolvers and loaders', async () => {
    await statementsFor(1, 'FINANCE', r);
    const sixty = await statementsFor(60, 'FINANCE', r);
    const sixHundred = await statementsFor(600, 'FINANCE', r);
    expect(sixty).toBe(sixHundred);
    // schools, count, community, pot, notional SEN, funding, caseloads (periods, districts and areas are cached)
    expect(sixHundred).toBeLessThanOrEqual(9);
  });

  it('stay constant for a Chair, whose suppression needs community look-ups', async () => {
    // The first read computes and stores the Chair's suppression patterns; after it, the data versions, the
    // banded top-up check and the compiled page (the periods come from the reference-data cache).
    await statementsFor(50, 'CHAIR');
    expect(await statementsFor(50, 'CHAIR')).toBe(3);
    expect(await statementsFor(500, 'CHAIR')).toBe(3);
    expect(await statementsFor(50, 'CHAIR', r)).toBe(await statementsFor(500, 'CHAIR', r));
  });

  it('stay constant for communities with their member schools and pots', async () => {
    const q = `{ communities { code pot(term: "SPRING-2026") { amount } schools { urn funding(term: "SPRING-2026") { total } } } }`;
    const before = await sqlStatements(t.url);
    const r = await t.gql(q);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.communities).toHaveLength(53);
    expect((await sqlStatements(t.url, 'anonymous', { mustHaveRun: true })) - before).toBeLessThanOrEqual(6);
  });
});
