import { startTestHub, TestHub } from '../helpers/hub';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(() => t?.stop());

const TABLE = `query($kind: CaseloadKind!, $groupBy: CaseloadGrouping!, $period: String, $community: String) {
  caseloads(kind: $kind, groupBy: $groupBy, period: $period, communityCode: $community) {
    disclosureControlled rows { key label period count suppressed } totals { period count suppressed }
  }
}`;

describe('caseload tables', () => {
  it('gives Finance every count, with totals equal to the stored sums', async () => {
    const r = await t.gql(TABLE, { kind: 'EHCP_PLANS', groupBy: 'DISTRICT', period: '2025/26-T1' });
    expect(r.body.errors).toBeUndefined();
    const table = r.body.data.caseloads;
    expect(table.rows).toHaveLength(12);
    const [{ n }] = await t.db.dataSource.query(`SELECT sum(count)::int AS n FROM caseload_count WHERE kind = 'EHCP_PLANS' AND period_code = '2025/26-T1'`);
    expect(table.totals).toEqual([{ period: '2025/26-T1', count: n, suppressed: false }]);
    expect(n).toBeGreaterThan(15000);
  });

  it('suppresses small child counts for an analyst, never leaving one recoverable from the total', async () => {
    const fin = (await t.gql(TABLE, { kind: 'SIPS_CHILDREN', groupBy: 'WORKER', period: '2025/26-T1' })).body.data.caseloads;
    const school = (await t.gql(TABLE, { kind: 'EHCP_PLANS', groupBy: 'SCHOOL', period: '2025/26-T1' }, t.tokens.ANALYST)).body.data.caseloads;
    expect(fin.disclosureControlled).toBe(true);
    const small = school.rows.filter((r: any) => r.suppressed);
    expect(small.length).toBeGreaterThan(0);
    for (const r of school.rows) {
      if (!r.suppressed) expect(r.count === 0 || r.count >= 5).toBe(true);
      else expect(r.count).toBeNull();
    }
    const total = school.totals[0];
    if (!total.suppressed) expect(small.length).not.toBe(1);
  });

  it('shows a Chair the small counts of their own community only', async () => {
    const own = (await t.gql(TABLE, { kind: 'EHCP_PLANS', groupBy: 'SCHOOL', period: '2025/26-T1', community: t.tokens.chairCommunity }, t.tokens.CHAIR)).body.data.caseloads;
    expect(own.rows.length).toBeGreaterThan(0);
    expect(own.rows.every((r: any) => !r.suppressed)).toBe(true);
    const all = (await t.gql(TABLE, { kind: 'EHCP_PLANS', groupBy: 'SCHOOL', period: '2025/26-T1' }, t.tokens.CHAIR)).body.data.caseloads;
    const ownKeys = new Set(own.rows.map((r: any) => r.key));
    const others = all.rows.filter((r: any) => !ownKeys.has(r.key));
    expect(others.some((r: any) => r.suppressed)).toBe(true);
  });

  it('never suppresses counts that are not about children (link-worker schools)', async () => {
    const r = (await t.gql(TABLE, { kind: 'LINK_WORKER_SCHOOLS', groupBy: 'WORKER', period: '2025/26-T1' }, t.tokens.ANALYST)).body.data.caseloads;
    expect(r.disclosureControlled).toBe(false);
    expect(r.rows.every((x: any) => !x.suppressed)).toBe(true);
    for (const x of r.rows) expect(x.count).toBeGreaterThanOrEqual(1);
  });

  it('suppresses a school\'s small EHCP count in the schools list for an analyst but not for Finance', async () => {
    const [row] = await t.db.dataSource.query(
      `SELECT school_urn FROM caseload_count WHERE kind = 'EHCP_PLANS' AND period_code = '2025/26-T1' AND school_urn IS NOT NULL GROUP BY school_urn HAVING sum(count) BETWEEN 1 AND 4 LIMIT 1`,
    );
    expect(row).toBeDefined();
    const q = `query($u: [Int!]) { schools(first: 1, filter: { urns: $u }) { nodes { caseloads(period: "2025/26-T1") { kind count suppressed } } } }`;
    const analyst = await t.gql(q, { u: [row.school_urn] }, t.tokens.ANALYST);
    const finance = await t.gql(q, { u: [row.school_urn] });
    const pick = (r: any) => r.body.data.schools.nodes[0].caseloads.find((c: any) => c.kind === 'EHCP_PLANS');
    expect(pick(analyst)).toEqual({ kind: 'EHCP_PLANS', count: null, suppressed: true });
    expect(pick(finance).count).toBeGreaterThanOrEqual(1);
    expect(pick(finance).count).toBeLessThanOrEqual(4);
  });

  it('rejects an unknown period listing valid school terms', async () => {
    const r = await t.gql(TABLE, { kind: 'EHCP_PLANS', groupBy: 'SCHOOL', period: '2025-T1' });
    expect(r.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(r.body.errors[0].message).toMatch(/Valid periods: .*2025\/26-T1/);
  });
});
