import Decimal from 'decimal.js';
import { startTestHub, TestHub } from '../helpers/hub';
import { SCHOOL_TERM_TOTAL_PARTS, schoolTermTotal, schoolTermTotalSql } from '../../server/modules/funding/engine';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(() => t?.stop());

describe('schools connection', () => {
  it('pages through every school with cursors and a stable total', async () => {
    const [{ n }] = await t.db.dataSource.query('SELECT count(*)::int AS n FROM school');
    const seen: number[] = [];
    let after: string | null = null;
    for (let page = 0; page < 20; page++) {
      const r: any = await t.gql(
        `query($after: String) { schools(first: 250, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { urn } } }`,
        { after },
      );
      expect(r.body.errors).toBeUndefined();
      const c = r.body.data.schools;
      expect(c.totalCount).toBe(n);
      seen.push(...c.nodes.map((s: { urn: number }) => s.urn));
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
    }
    expect(seen.length).toBe(n);
    expect(new Set(seen).size).toBe(n);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });

  it('returns the whole county in one page of 1,000', async () => {
    const r = await t.gql(`{ schools(first: 1000) { totalCount nodes { urn } pageInfo { hasNextPage } } }`);
    expect(r.body.data.schools.nodes.length).toBe(r.body.data.schools.totalCount);
    expect(r.body.data.schools.pageInfo.hasNextPage).toBe(false);
  });

  it('refuses a page above 1,000 naming the argument', async () => {
    const r = await t.gql(`{ schools(first: 1001) { nodes { urn } } }`);
    expect(r.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'first' });
    expect(r.body.errors[0].message).toMatch(/from 0 to 1000/);
  });

  it('refuses a forged cursor', async () => {
    const r = await t.gql(`{ schools(first: 5, after: "not-a-cursor") { nodes { urn } } }`);
    expect(r.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after' });
  });

  it('filters by district, phase and status together, matching SQL', async () => {
    const [d] = await t.db.dataSource.query(`SELECT ons_code FROM district WHERE name = 'Ashford'`);
    const [{ n }] = await t.db.dataSource.query(
      `SELECT count(*)::int AS n FROM school WHERE district_code = $1 AND phase = 'PRIMARY' AND status = 'OPEN'`,
      [d.ons_code],
    );
    const r = await t.gql(
      `query($d: String) { schools(first: 1000, filter: { districtCode: $d, phase: [PRIMARY], status: [OPEN] }) { totalCount nodes { districtCode phase status } } }`,
      { d: d.ons_code },
    );
    expect(r.body.data.schools.totalCount).toBe(n);
    expect(n).toBeGreaterThan(10);
    for (const s of r.body.data.schools.nodes)
      expect(s).toEqual({ districtCode: d.ons_code, phase: 'PRIMARY', status: 'OPEN' });
  });

  it('filters by community membership on a date and by name, case-insensitively', async () => {
    const [m] = await t.db.dataSource.query(
      `SELECT community_code, count(*)::int AS n FROM community_membership WHERE effective_from <= '2025-09-01' AND (effective_to IS NULL OR effective_to > '2025-09-01') GROUP BY 1 ORDER BY 1 LIMIT 1`,
    );
    const r = await t.gql(
      `query($c: String) { schools(first: 100, filter: { communityCode: $c, asOf: "2025-09-01" }) { totalCount nodes { community(asOf: "2025-09-01") { code } } } }`,
      { c: m.community_code },
    );
    expect(r.body.data.schools.totalCount).toBe(m.n);
    for (const s of r.body.data.schools.nodes) expect(s.community.code).toBe(m.community_code);

    const [s] = await t.db.dataSource.query(`SELECT name FROM school ORDER BY urn LIMIT 1`);
    const word = s.name.split(' ')[0].toUpperCase();
    const byName = await t.gql(
      `query($q: String) { schools(first: 1000, filter: { nameContains: $q }) { nodes { name } } }`,
      { q: word },
    );
    expect(byName.body.data.schools.nodes.length).toBeGreaterThan(0);
    for (const x of byName.body.data.schools.nodes) expect(x.name.toUpperCase()).toContain(word);
  });

  it('treats % and _ in a name search literally', async () => {
    const r = await t.gql(`{ schools(first: 10, filter: { nameContains: "%" }) { totalCount } }`);
    expect(r.body.data.schools.totalCount).toBe(0);
  });

  it('sorts by name descending with stable keyset paging', async () => {
    const all = await t.gql(
      `{ schools(first: 1000, orderBy: { field: NAME, direction: DESC }) { nodes { urn name } } }`,
    );
    const first = await t.gql(
      `{ schools(first: 7, orderBy: { field: NAME, direction: DESC }) { pageInfo { endCursor } nodes { urn } } }`,
    );
    const next = await t.gql(
      `query($a: String) { schools(first: 7, after: $a, orderBy: { field: NAME, direction: DESC }) { nodes { urn } } }`,
      { a: first.body.data.schools.pageInfo.endCursor },
    );
    const urns = all.body.data.schools.nodes.map((s: any) => s.urn);
    expect([...first.body.data.schools.nodes, ...next.body.data.schools.nodes].map((s: any) => s.urn)).toEqual(
      urns.slice(0, 14),
    );
  });
});

describe('single lookups and reference data', () => {
  it('finds a school by URN with its district, community, notional SEN and funding', async () => {
    const [row] = await t.db.dataSource.query(
      `SELECT f.school_urn AS urn, f.baseline, f.protected_amount, f.community_share FROM school_term_funding f WHERE f.term_code = 'AUTUMN-2025' ORDER BY f.school_urn LIMIT 1`,
    );
    const [{ total }] = await t.db.dataSource.query(
      `SELECT sum(sen_amount)::text AS total FROM notional_sen_factor WHERE school_urn = $1 AND financial_year_code = '2025-26'`,
      [row.urn],
    );
    const r = await t.gql(
      `query($urn: Int!) { school(urn: $urn) { urn name district { name onsCode } community { code name }
        notionalSenBudget(financialYear: "2025-26") { total factors { factor formulaAmount senPercentage senAmount } }
        funding(term: "AUTUMN-2025") { baseline protectionRate protectedAmount communityShare bandedTopUp total } } }`,
      { urn: row.urn },
    );
    expect(r.body.errors).toBeUndefined();
    const s = r.body.data.school;
    expect(s.urn).toBe(row.urn);
    expect(s.district.onsCode).toMatch(/^E070001(0[5-9]|1[0-6])$/);
    expect(s.community.code).toBeTruthy();
    expect(s.notionalSenBudget.total).toBe(total);
    expect(s.notionalSenBudget.factors).toHaveLength(6);
    expect(s.funding.baseline).toBe(row.baseline);
    expect(s.funding.protectedAmount).toBe(row.protected_amount);
    expect(s.funding.protectionRate).toBe('0.75');
    expect(s.funding.total).toBe(schoolTermTotal(s.funding));
  });

  it("gives a school's funding total as the one rule's sum of its parts on both read paths, as its SQL form does for every row", async () => {
    const [row] = await t.db.dataSource.query(
      `SELECT f.school_urn AS urn, f.term_code AS term FROM school_term_funding f
        WHERE f.community_share > 0 AND f.banded_top_up > 0
        ORDER BY (f.protected_amount > 0) DESC, f.term_code, f.school_urn LIMIT 1`,
    );
    expect(row).toBeDefined();
    const q = `query($u: Int!, $t: String!) { school(urn: $u) { funding(term: $t) { protectedAmount communityShare bandedTopUp total } } }`;
    const resolvers = await startTestHub({ db: t.db, compiledReads: false });
    try {
      const answers = [];
      for (const hub of [t, resolvers]) {
        const r = await hub.gql(q, { u: row.urn, t: row.term });
        expect(r.body.errors).toBeUndefined();
        answers.push(r.body.data.school.funding);
      }
      const [compiled, resolved] = answers;
      expect(resolved).toEqual(compiled);
      const sum = SCHOOL_TERM_TOTAL_PARTS.reduce((acc, p) => acc.plus(compiled[p.figure]), new Decimal(0));
      expect(compiled.total).toBe(sum.toFixed(2));
      expect(compiled.total).toBe(schoolTermTotal(compiled));
    } finally {
      await resolvers.stop();
    }
    // The SQL form and the TypeScript form agree on every stored figure.
    const rows: { protectedAmount: string; communityShare: string; bandedTopUp: string; total: string }[] =
      await t.db.dataSource.query(
        `SELECT f.protected_amount::text AS "protectedAmount", f.community_share::text AS "communityShare",
                f.banded_top_up::text AS "bandedTopUp", ${schoolTermTotalSql('f')}::text AS total
           FROM school_term_funding f`,
      );
    expect(rows.length).toBeGreaterThan(1000);
    expect(rows.filter((r) => r.total !== schoolTermTotal(r))).toEqual([]);
  });

  it('returns null for an unknown URN or community code', async () => {
    const r = await t.gql(`{ school(urn: 1) { urn } community(code: "NOPE") { code } }`);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data).toEqual({ school: null, community: null });
  });

  it('rejects an unknown funding term listing the valid ones', async () => {
    const [s] = await t.db.dataSource.query(`SELECT urn FROM school ORDER BY urn LIMIT 1`);
    const r = await t.gql(`query($u: Int!) { school(urn: $u) { funding(term: "WINTER-2025") { total } } }`, {
      u: s.urn,
    });
    expect(r.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(r.body.errors[0].message).toMatch(/Unknown funding term "WINTER-2025"\. Valid terms: .*AUTUMN-2025/);
    expect(r.body.errors[0].extensions.validValues).toContain('SUMMER-2025');
  });

  it('rejects a malformed argument naming it', async () => {
    const r = await t.gql(`{ school(urn: "abc") { urn } }`);
    expect(r.status).toBe(400);
    expect(r.body.errors[0].message).toBe('Argument "urn": Int cannot represent non-integer value: "abc"');
    expect(r.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'urn' });
    const money = await t.gql(`{ schools(first: 1) { nodes { funding(term: 5) { total } } } }`);
    expect(money.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'term' });
  });

  it('rejects bad variables with 400 BAD_USER_INPUT naming them', async () => {
    const q = `query($f: Int) { schools(first: $f) { totalCount } }`;
    const wrongType = await t.gql(q, { f: 'abc' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.errors[0]).toMatchObject({
      message: 'Variable "$f" got invalid value "abc"; Int cannot represent non-integer value: "abc"',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    // $f may be omitted (first has a default), but an explicit null cannot go where Int! is taken.
    const nulled = await t.gql(q, { f: null });
    expect(nulled.status).toBe(400);
    expect(nulled.body.errors[0]).toMatchObject({
      message: 'Argument "first" (Int!) must not be null, but variable $f is null.',
      extensions: { code: 'BAD_USER_INPUT', argument: 'first' },
    });
    expect((await t.gql(q, {})).body.data.schools.totalCount).toBeGreaterThan(600);
    // Every bad variable is named, not only the first.
    const two = await t.gql(`query($a: Int!, $b: String!) { school(urn: $a) { funding(term: $b) { total } } }`, {
      a: 'x',
      b: 5,
    });
    expect(two.status).toBe(400);
    expect(two.body.errors[0].message).toMatch(/\$a.*and 1 more: Variable "\$b" got invalid value 5/);
  });

  it("lists Kent's 4 areas, 12 districts and 53 communities with pots", async () => {
    const r = await t.gql(`{ areas { code districts { onsCode } } districts { onsCode name area { code } }
      communities { code memberCount pot(term: "AUTUMN-2025") { amount } primaryDistrict { name } } }`);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.areas).toHaveLength(4);
    expect(r.body.data.areas.flatMap((a: any) => a.districts)).toHaveLength(12);
    expect(r.body.data.districts.map((d: any) => d.onsCode).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `E07000${105 + i}`),
    );
    expect(r.body.data.communities).toHaveLength(53);
    for (const c of r.body.data.communities) {
      expect(c.memberCount).toBeGreaterThanOrEqual(8);
      expect(c.memberCount).toBeLessThanOrEqual(14);
      expect(c.pot.amount).toMatch(/^\d+\.\d{2}$/);
    }
  });

  it('lists community members on a date, reflecting schools that moved', async () => {
    const [moved] = await t.db.dataSource.query(
      `SELECT school_urn, community_code, effective_to FROM community_membership WHERE effective_to IS NOT NULL ORDER BY school_urn LIMIT 1`,
    );
    expect(moved).toBeDefined();
    const before = await t.gql(
      `query($u: Int!) { school(urn: $u) { before: community(asOf: "2025-06-01") { code } after: community(asOf: "2026-10-01") { code } } }`,
      {
        u: moved.school_urn,
      },
    );
    expect(before.body.data.school.before.code).toBe(moved.community_code);
    expect(before.body.data.school.after.code).not.toBe(moved.community_code);
  });

  it("gives the periods in date order, with Kent's six terms a year", async () => {
    const r = await t.gql(
      `{ periods { financialYears { code } fundingTerms { code months } schoolTerms { code academicYearCode } } }`,
    );
    const p = r.body.data.periods;
    expect(p.financialYears.map((f: any) => f.code)).toContain('2025-26');
    const summer = p.fundingTerms.find((f: any) => f.code === 'SUMMER-2025');
    expect(summer.months).toBe(5);
    expect(p.schoolTerms.filter((s: any) => s.academicYearCode === '2025/26')).toHaveLength(6);
  });

  it('adds up the High Needs block exactly, leaving memo lines out', async () => {
    const r = await t.gql(
      `{ highNeedsBlock(financialYear: "2025-26") { totalBudget totalForecast variance lines { lineCode budget memo } } }`,
    );
    const b = r.body.data.highNeedsBlock;
    const [{ budget }] = await t.db.dataSource.query(
      `SELECT sum(budget)::text AS budget FROM high_needs_block_line WHERE financial_year_code = '2025-26' AND NOT memo`,
    );
    expect(b.totalBudget).toBe(budget);
    const cents = (s: string) => BigInt(s.replace('.', ''));
    expect(cents(b.variance)).toBe(cents(b.totalForecast) - cents(b.totalBudget));
    expect(b.lines.some((l: any) => l.memo)).toBe(true);
  });

  it('reports the Safety Valve agreement and quarterly KPIs', async () => {
    const r = await t.gql(
      `{ safetyValve { agreement { dfeContribution laContribution deficitAtStart } reports(financialYear: "2025-26") { periodCode cumulativeForecast kpis { kpiCode actual } } } }`,
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.safetyValve.agreement).toEqual({
      dfeContribution: '140000000.00',
      laContribution: '82000000.00',
      deficitAtStart: '97000000.00',
    });
    const reports = r.body.data.safetyValve.reports;
    expect(reports.length).toBe(4);
    expect(reports[0].kpis.map((k: any) => k.kpiCode)).toContain('EHCP_TOTAL');
  });
});
