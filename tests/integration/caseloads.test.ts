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
    const [{ n }] = await t.db.dataSource.query(
      `SELECT sum(count)::int AS n FROM caseload_count WHERE kind = 'EHCP_PLANS' AND period_code = '2025/26-T1'`,
    );
    expect(table.totals).toEqual([{ period: '2025/26-T1', count: n, suppressed: false }]);
    expect(n).toBeGreaterThan(15000);
  });

  it('suppresses small child counts for an analyst, never leaving one recoverable from the total', async () => {
    const fin = (await t.gql(TABLE, { kind: 'SIPS_CHILDREN', groupBy: 'WORKER', period: '2025/26-T1' })).body.data
      .caseloads;
    const school = (
      await t.gql(TABLE, { kind: 'EHCP_PLANS', groupBy: 'SCHOOL', period: '2025/26-T1' }, t.tokens.ANALYST)
    ).body.data.caseloads;
    expect(fin.disclosureControlled).toBe(true);
    const small = school.rows.filter((r: any) => r.suppressed);
    expect(small.length).toBeGreaterThan(0);
    for (const r of school.rows) {
      if (!r.suppressed) expect(r.count === 0 || r.count >= 5).toBe(true);
      else expect(r.count).toBeNull();
    }
    // The county total of schools is published, with at least two hidden schools beside it, and hidden schools
    // add up to what total minus visible says (so it is no single school's count).
    const [{ n }] = await t.db.dataSource.query(
      `SELECT sum(c.count)::int AS n FROM caseload_count c JOIN school_term st ON st.code = c.period_code
        WHERE c.kind = 'EHCP_PLANS' AND c.period_code = '2025/26-T1'
          AND EXISTS (SELECT 1 FROM community_membership m WHERE m.school_urn = c.school_urn AND m.effective_from <= st.start_date AND (m.effective_to IS NULL OR m.effective_to > st.start_date))`,
    );
    expect(school.totals).toEqual([{ period: '2025/26-T1', count: n, suppressed: false }]);
    expect(small.length).toBeGreaterThanOrEqual(2);
    const visible = school.rows.reduce((sum: number, r: any) => sum + (r.count ?? 0), 0);
    expect(n - visible).toBeGreaterThan(4);
  });

  it('shows a Chair the small counts of their own community only', async () => {
    const own = (
      await t.gql(
        TABLE,
        { kind: 'EHCP_PLANS', groupBy: 'SCHOOL', period: '2025/26-T1', community: t.tokens.chairCommunity },
        t.tokens.CHAIR,
      )
    ).body.data.caseloads;
    expect(own.rows.length).toBeGreaterThan(0);
    expect(own.rows.every((r: any) => !r.suppressed)).toBe(true);
    const all = (await t.gql(TABLE, { kind: 'EHCP_PLANS', groupBy: 'SCHOOL', period: '2025/26-T1' }, t.tokens.CHAIR))
      .body.data.caseloads;
    const ownKeys = new Set(own.rows.map((r: any) => r.key));
    const others = all.rows.filter((r: any) => !ownKeys.has(r.key));
    expect(others.some((r: any) => r.suppressed)).toBe(true);
  });

  it('never suppresses counts that are not about children (link-worker schools)', async () => {
    const r = (
      await t.gql(TABLE, { kind: 'LINK_WORKER_SCHOOLS', groupBy: 'WORKER', period: '2025/26-T1' }, t.tokens.ANALYST)
    ).body.data.caseloads;
    expect(r.disclosureControlled).toBe(false);
    expect(r.rows.every((x: any) => !x.suppressed)).toBe(true);
    for (const x of r.rows) expect(x.count).toBeGreaterThanOrEqual(1);
  });

  it("suppresses a school's small EHCP count in the schools list for an analyst but not for Finance", async () => {
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

  it("shows a school's small EHCP count to Finance and the Sub-Group, hides it from an analyst, on both paths", async () => {
    const [row] = await t.db.dataSource.query(
      `SELECT school_urn FROM caseload_count WHERE kind = 'EHCP_PLANS' AND period_code = '2025/26-T1' AND school_urn IS NOT NULL GROUP BY school_urn HAVING sum(count) BETWEEN 1 AND 4 ORDER BY 1 LIMIT 1`,
    );
    const q = `query($u: Int!) { school(urn: $u) { caseloads(period: "2025/26-T1") { kind count suppressed } } }`;
    const resolvers = await startTestHub({ db: t.db, compiledReads: false });
    try {
      for (const hub of [t, resolvers]) {
        const ehcp = async (token?: string) =>
          (await hub.gql(q, { u: row.school_urn }, token)).body.data.school.caseloads.find(
            (c: any) => c.kind === 'EHCP_PLANS',
          );
        for (const token of [t.tokens.FINANCE, t.tokens.SUBGROUP]) {
          const seen = await ehcp(token);
          expect(seen.suppressed).toBe(false);
          expect(seen.count).toBeGreaterThanOrEqual(1);
          expect(seen.count).toBeLessThanOrEqual(4);
        }
        expect(await ehcp(t.tokens.ANALYST)).toEqual({ kind: 'EHCP_PLANS', count: null, suppressed: true });
      }
    } finally {
      await resolvers.stop();
    }
  });

  it('hides a banded top-up that decodes to a small band count from an analyst, on both paths, and shows it to Finance', async () => {
    const [row] = await t.db.dataSource.query(
      `SELECT b.school_urn AS urn FROM ehcp_band_count b JOIN school_term_funding f ON f.school_urn = b.school_urn AND f.term_code = b.term_code
        WHERE b.term_code = 'AUTUMN-2026' AND b.plans BETWEEN 1 AND 4 AND f.banded_top_up > 0 ORDER BY 1 LIMIT 1`,
    );
    const q = `query($u: Int!) { school(urn: $u) { funding(term: "AUTUMN-2026") { protectedAmount bandedTopUp total bandedTopUpSuppressed } } }`;
    const resolvers = await startTestHub({ db: t.db, compiledReads: false });
    try {
      for (const hub of [t, resolvers]) {
        const analyst = (await hub.gql(q, { u: row.urn }, t.tokens.ANALYST)).body.data.school.funding;
        expect(analyst).toEqual({
          protectedAmount: expect.any(String),
          bandedTopUp: null,
          total: null,
          bandedTopUpSuppressed: true,
        });
        const finance = (await hub.gql(q, { u: row.urn })).body.data.school.funding;
        expect(Number(finance.bandedTopUp)).toBeGreaterThan(0);
        expect(finance.bandedTopUpSuppressed).toBe(false);
      }
    } finally {
      await resolvers.stop();
    }
  });

  it('keeps scenario results, which carry banded top-ups per school, from roles without exemption', async () => {
    const r = await t.gql(`mutation { createScenario(name: "x") { id } }`, {}, t.tokens.ANALYST);
    expect(r.body.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('recomputes the pattern when a count changes (the version moves with the change, for every process)', async () => {
    const single: { urn: number; n: number }[] = await t.db.dataSource.query(
      `SELECT c.school_urn AS urn, sum(c.count)::int AS n FROM caseload_count c
        WHERE c.kind = 'EHCP_PLANS' AND c.period_code = '2025/26-T2' AND c.school_urn IS NOT NULL GROUP BY 1 HAVING sum(c.count) >= 20 AND count(*) = 1 ORDER BY 1`,
    );
    const shown = (
      await t.gql(TABLE, { kind: 'EHCP_PLANS', groupBy: 'SCHOOL', period: '2025/26-T2' }, t.tokens.ANALYST)
    ).body.data.caseloads.rows.filter((r: any) => !r.suppressed);
    const row = single.find((s) => shown.some((r: any) => r.key === String(s.urn)))!;
    expect(row).toBeDefined();
    const q = `query($u: Int!) { school(urn: $u) { caseloads(period: "2025/26-T2") { kind count suppressed } } }`;
    const pick = async () =>
      (await t.gql(q, { u: row.urn }, t.tokens.ANALYST)).body.data.school.caseloads.find(
        (c: any) => c.kind === 'EHCP_PLANS',
      );
    const [{ version: before }] = await t.db.dataSource.query(
      `SELECT version::int FROM caseload_version WHERE kind = 'EHCP_PLANS' AND period_code = '2025/26-T2'`,
    );
    expect(await pick()).toEqual({ kind: 'EHCP_PLANS', count: row.n, suppressed: false });
    await t.db.dataSource.query(
      `UPDATE caseload_count SET count = 3 WHERE kind = 'EHCP_PLANS' AND period_code = '2025/26-T2' AND school_urn = $1`,
      [row.urn],
    );
    try {
      const [{ version: after }] = await t.db.dataSource.query(
        `SELECT version::int FROM caseload_version WHERE kind = 'EHCP_PLANS' AND period_code = '2025/26-T2'`,
      );
      expect(after).toBe(before + 1);
      expect(await pick()).toEqual({ kind: 'EHCP_PLANS', count: null, suppressed: true });
      const [stored] = await t.db.dataSource.query(
        `SELECT data_version::int FROM disclosure_pattern WHERE scope = 'ANALYST' AND kind = 'EHCP_PLANS' AND period_code = '2025/26-T2'`,
      );
      expect(stored.data_version).toBe(after);
    } finally {
      await t.db.dataSource.query(
        `UPDATE caseload_count SET count = $2 WHERE kind = 'EHCP_PLANS' AND period_code = '2025/26-T2' AND school_urn = $1`,
        [row.urn, row.n],
      );
    }
  });

  it('rejects an unknown period listing valid school terms', async () => {
    const r = await t.gql(TABLE, { kind: 'EHCP_PLANS', groupBy: 'SCHOOL', period: '2025-T1' });
    expect(r.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(r.body.errors[0].message).toMatch(/Valid periods: .*2025\/26-T1/);
  });
});
