import type { DataSource } from 'typeorm';
import { generateDemoData, type DemoData } from '../../server/seed/generate';
import { loadDemoData, type LoadResult } from '../../server/seed/load';
import { startTestDatabase, type TestDatabase } from '../helpers/db';

// PGlite by default; a fresh database on TEST_DATABASE_URL (PostgreSQL 15) when that is set.
let db: TestDatabase;
let ds: DataSource;
let data: DemoData;
let result: LoadResult;
let loadMs: number;

beforeAll(async () => {
  db = await startTestDatabase({ seed: false });
  ds = db.dataSource;
  data = generateDemoData();
  const started = Date.now();
  result = await loadDemoData(ds, data);
  loadMs = Date.now() - started;
}, 120000);

afterAll(async () => {
  await db?.stop();
});

const one = async (sql: string, params: unknown[] = []) => (await ds.query(sql, params))[0];

describe('loadDemoData', () => {
  it('loads the whole demo data set in a few seconds', () => {
    // Logged so the load time on each engine shows up in CI output.
    console.log(
      `demo data (${db.engine}): ${Object.values(result.rows).reduce((a, b) => a + b, 0)} rows in ${result.statements} statements, ${loadMs} ms`,
    );
  });

  it('inserts every generated row into its table', async () => {
    const expected: Record<string, number> = {
      area: data.areas.length,
      district: data.districts.length,
      school: data.schools.length,
      community: data.communities.length,
      community_membership: data.communityMemberships.length,
      early_years_setting: data.earlyYearsSettings.length,
      funding_term: data.fundingTerms.length,
      school_term: data.schoolTerms.length,
      notional_sen_factor: data.notionalSenFactors.length,
      school_term_funding: data.schoolTermFunding.length,
      community_pot: data.communityPots.length,
      high_needs_block_line: data.highNeedsBlockLines.length,
      ehcp_band_count: data.ehcpBandCounts.length,
      place_number: data.placeNumbers.length,
      top_up_count: data.topUpCounts.length,
      placement: data.placements.length,
      dsg_income_year: data.dsgIncomeYears.length,
      safety_valve_plan_year: data.safetyValvePlanYears.length,
      safety_valve_instalment: data.safetyValveInstalments.length,
      block_forecast_snapshot: data.blockForecastSnapshots.length,
      safety_valve_report: data.safetyValveReports.length,
      safety_valve_kpi: data.safetyValveKpis.length,
      caseload_worker: data.caseloadWorkers.length,
      caseload_count: data.caseloadCounts.length,
    };
    for (const [table, rows] of Object.entries(expected)) {
      const { n } = await one(`SELECT count(*)::int AS n FROM "${table}"`);
      expect({ table, n }).toEqual({ table, n: rows });
    }
    expect(await one('SELECT count(*)::int AS n FROM community')).toEqual({ n: 53 });
    expect(await one("SELECT count(*)::int AS n FROM school WHERE phase = 'SPECIAL'")).toEqual({ n: 24 });
  });

  it('keeps the community pots of 2025-26 equal to the COMMUNITY_POTS block line, to the penny', async () => {
    const pots = await one(
      `SELECT sum(p.amount)::text AS total FROM community_pot p JOIN funding_term t ON t.code = p.term_code WHERE t.financial_year_code = '2025-26'`,
    );
    const line = await one(
      `SELECT budget::text AS budget FROM high_needs_block_line WHERE financial_year_code = '2025-26' AND line_code = 'COMMUNITY_POTS'`,
    );
    expect(pots.total).toBe('18000000.00');
    expect(line.budget).toBe(pots.total);
  });

  it('keeps protected amounts equal to the INDIVIDUAL_PROTECTION line and to 75% of the baseline in protected terms', async () => {
    const rows = await ds.query(
      `SELECT t.financial_year_code AS fy, sum(f.protected_amount)::text AS protected, l.budget::text AS budget
         FROM school_term_funding f
         JOIN funding_term t ON t.code = f.term_code
         JOIN high_needs_block_line l ON l.financial_year_code = t.financial_year_code AND l.line_code = 'INDIVIDUAL_PROTECTION'
        GROUP BY t.financial_year_code, l.budget ORDER BY 1`,
    );
    expect(rows.map((r: { fy: string }) => r.fy)).toEqual(['2025-26', '2026-27', '2027-28']);
    for (const r of rows) expect(r.protected).toBe(r.budget);
    const wrong = await one(
      `SELECT count(*)::int AS n FROM school_term_funding
        WHERE protected_amount <> CASE WHEN term_code IN ('SUMMER-2025','AUTUMN-2025','SPRING-2026','SUMMER-2026')
                                       THEN round(baseline * 0.75, 2) ELSE 0 END`,
    );
    expect(wrong.n).toBe(0);
  });

  it("keeps each community pot equal to the sum of its member schools' shares", async () => {
    const mismatches = await one(
      `SELECT count(*)::int AS n FROM (
         SELECT p.community_code, p.term_code, p.amount, sum(f.community_share) AS shares
           FROM community_pot p
           JOIN funding_term t ON t.code = p.term_code
           JOIN community_membership m ON m.community_code = p.community_code
                AND m.effective_from <= t.start_date AND (m.effective_to IS NULL OR t.start_date < m.effective_to)
           JOIN school_term_funding f ON f.school_urn = m.school_urn AND f.term_code = p.term_code
          GROUP BY p.community_code, p.term_code, p.amount) x
        WHERE amount <> shares`,
    );
    expect(mismatches.n).toBe(0);
  });

  it('keeps the NOTIONAL_SEN memo line equal to the sum of notional SEN factor lines', async () => {
    const rows = await ds.query(
      `SELECT n.financial_year_code AS fy, sum(n.sen_amount)::text AS total, l.budget::text AS budget, l.memo
         FROM notional_sen_factor n
         JOIN high_needs_block_line l ON l.financial_year_code = n.financial_year_code AND l.line_code = 'NOTIONAL_SEN'
        GROUP BY n.financial_year_code, l.budget, l.memo ORDER BY 1`,
    );
    expect(rows).toHaveLength(4);
    for (const r of rows) {
      expect(r.total).toBe(r.budget);
      expect(r.memo).toBe(true);
    }
  });

  it('stores 2024-25 High Needs block totals as published: £342.7m budget against £389m forecast', async () => {
    const r = await one(
      `SELECT sum(budget)::text AS budget, sum(forecast)::text AS forecast FROM high_needs_block_line WHERE financial_year_code = '2024-25' AND NOT memo`,
    );
    expect(r).toEqual({ budget: '342700000.00', forecast: '389000000.00' });
  });

  it('round-trips money exactly (numeric, never float)', async () => {
    const sample = data.schoolTermFunding[123];
    const r = await one(
      `SELECT baseline::text, protected_amount::text, community_share::text, banded_top_up::text FROM school_term_funding WHERE school_urn = $1 AND term_code = $2`,
      [sample.schoolUrn, sample.termCode],
    );
    expect(r).toEqual({
      baseline: sample.baseline,
      protected_amount: sample.protectedAmount,
      community_share: sample.communityShare,
      banded_top_up: sample.bandedTopUp,
    });
  });

  it('rolls back everything when a later row fails, leaving no partial load', async () => {
    const empty = Object.fromEntries(Object.keys(data).map((k) => [k, []])) as unknown as DemoData;
    // The new area goes in first; the district is a duplicate key, so the transaction must undo the area.
    const bad: DemoData = { ...empty, areas: [{ code: 'TEST', name: 'Test area' }], districts: [data.districts[0]] };
    await expect(loadDemoData(ds, bad)).rejects.toThrow(/duplicate key/);
    expect(await one(`SELECT count(*)::int AS n FROM area WHERE code = 'TEST'`)).toEqual({ n: 0 });
  });
});
