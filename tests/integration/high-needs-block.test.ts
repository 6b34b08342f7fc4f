import Decimal from 'decimal.js';
import { startTestHub, TestHub } from '../helpers/hub';
import { recordParameters } from '../../server/modules/funding/parameters-of-record';
import type { ModelParameters } from '../../server/modules/funding/model';

/**
 * The block of record recomputed here from its drivers with plain arithmetic (not the engine): every
 * computed line is the exact sum of what it pays, to the penny, and the Safety Valve returns carry the
 * block's DSG position for every reporting period.
 */
let t: TestHub;
// Starting a seeded hub takes a while on a busy machine.
jest.setTimeout(180_000);
beforeAll(async () => {
  t = await startTestHub();
}, 180_000);
afterAll(() => t?.stop());

const q = (sql: string, params: unknown[] = []) => t.db.dataSource.query(sql, params);
const dec = (v: string | number) => new Decimal(v);
const penny = (v: Decimal) => v.toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);
const sum = (xs: (string | Decimal)[]) => xs.reduce((a: Decimal, x) => a.plus(x), dec(0)).toFixed(2);

const SETTING_LINE: Record<string, string> = {
  SPECIAL: 'SPECIAL_SCHOOLS',
  SRP: 'RESOURCED_PROVISION',
  AP: 'ALTERNATIVE_PROVISION',
};
const PLACE_SETTING: Record<string, string> = {
  SPECIAL_PRE16: 'SPECIAL',
  SPECIAL_POST16: 'SPECIAL',
  AP: 'AP',
  SRP: 'SRP',
};
const PLACEMENT_LINE: Record<string, string> = {
  INDEPENDENT_NMSS: 'INDEPENDENT_NMSS',
  POST_16_FE: 'POST_16',
  OTHER_LA: 'OTHER_LA_PLACEMENTS',
};

/** Every computed block line per financial year, from the rows of drivers and the parameters of record. */
async function recomputeFromDrivers(p: ModelParameters): Promise<Map<string, Record<string, string>>> {
  const terms: { code: string; fy: string; ay: string; months: number; start: string }[] = await q(
    `SELECT code, financial_year_code AS fy, academic_year_code AS ay, months, start_date::text AS start FROM funding_term
      WHERE code IN (SELECT term_code FROM school_term_funding) ORDER BY start_date`,
  );
  const places: { urn: number; ay: string; type: string; places: number }[] = await q(
    `SELECT school_urn AS urn, academic_year_code AS ay, place_type AS type, places FROM place_number`,
  );
  const counts: { urn: number; term: string; setting: string; band: string; pupils: number }[] = await q(
    `SELECT school_urn AS urn, term_code AS term, setting, band, pupils FROM top_up_count`,
  );
  const bands: { urn: number; term: string; band: string; plans: number }[] = await q(
    `SELECT school_urn AS urn, term_code AS term, band, plans FROM ehcp_band_count`,
  );
  const placements: { fy: string; kind: string; placements: number; cost: string }[] = await q(
    `SELECT financial_year_code AS fy, kind, placements, unit_cost AS cost FROM placement`,
  );
  const out = new Map<string, Record<string, string>>();
  const add = (fy: string, line: string, v: string) => {
    const y = out.get(fy) ?? {};
    y[line] = dec(y[line] ?? 0)
      .plus(v)
      .toFixed(2);
    out.set(fy, y);
  };
  for (const term of terms) {
    const banded = term.start >= p.bandingStartDate;
    for (const line of Object.values(SETTING_LINE)) add(term.fy, line, '0');
    const providers = new Set([
      ...places.filter((x) => x.ay === term.ay).map((x) => `${x.urn}|${PLACE_SETTING[x.type]}`),
      ...counts.filter((c) => c.term === term.code).map((c) => `${c.urn}|${c.setting}`),
    ]);
    for (const key of providers) {
      const [urn, setting] = [Number(key.split('|')[0]), key.split('|')[1]];
      // Places: number x annual rate x months / 12, rounded once per school, term and setting.
      const placeAnnual = places
        .filter((x) => x.urn === urn && x.ay === term.ay && PLACE_SETTING[x.type] === setting)
        .reduce((a, x) => a.plus(dec(x.places).times(p.block.placeRates[x.type as 'SRP'])), dec(0));
      add(term.fy, SETTING_LINE[setting], penny(placeAnnual.times(term.months).dividedBy(12)));
      // Top-ups: pupils x band value (the legacy rate before the banding start) x months / 12.
      const topUpAnnual = counts
        .filter((c) => c.urn === urn && c.term === term.code && c.setting === setting)
        .reduce(
          (a, c) =>
            a.plus(
              dec(c.pupils).times(
                banded ? p.block.bandSets[setting as 'SRP'][c.band] : p.block.legacyTopUpRates[setting as 'SRP'],
              ),
            ),
          dec(0),
        );
      add(term.fy, SETTING_LINE[setting], penny(topUpAnnual.times(term.months).dividedBy(12)));
    }
  }
  // Mainstream banded top-ups: plans per band x band value x months / 12, per school and term.
  const termBy = new Map(terms.map((x) => [x.code, x]));
  const perSchool = new Map<string, Decimal>();
  for (const b of bands) {
    const k = `${b.urn}|${b.term}`;
    perSchool.set(k, (perSchool.get(k) ?? dec(0)).plus(dec(b.plans).times(p.bandValues[b.band as 'A'])));
  }
  for (const term of terms) add(term.fy, 'MAINSTREAM_TOP_UPS', '0');
  for (const [k, annual] of perSchool) {
    const term = termBy.get(k.split('|')[1])!;
    add(term.fy, 'MAINSTREAM_TOP_UPS', penny(annual.times(term.months).dividedBy(12)));
  }
  for (const pl of placements) add(pl.fy, PLACEMENT_LINE[pl.kind], penny(dec(pl.placements).times(pl.cost)));
  const stored = (sql: string) => q(sql) as Promise<{ fy: string; v: string }[]>;
  // 2027-28's pot is planned but not yet shared out among communities: the line is the year's pot.
  for (const term of terms) add(term.fy, 'COMMUNITY_POTS', '0');
  const potYears = new Set(
    (
      await q(
        `SELECT DISTINCT t.financial_year_code AS fy FROM community_pot p JOIN funding_term t ON t.code = p.term_code`,
      )
    ).map((r: any) => r.fy),
  );
  for (const fy of new Set(terms.map((x) => x.fy)))
    if (!potYears.has(fy)) add(fy, 'COMMUNITY_POTS', p.communityPotAnnual[fy]);
  for (const [line, sql] of [
    [
      'COMMUNITY_POTS',
      `SELECT t.financial_year_code AS fy, sum(p.amount)::text AS v FROM community_pot p JOIN funding_term t ON t.code = p.term_code GROUP BY 1`,
    ],
    [
      'INDIVIDUAL_PROTECTION',
      `SELECT t.financial_year_code AS fy, sum(f.protected_amount)::text AS v FROM school_term_funding f JOIN funding_term t ON t.code = f.term_code GROUP BY 1`,
    ],
    [
      'NOTIONAL_SEN',
      `SELECT financial_year_code AS fy, sum(sen_amount)::text AS v FROM notional_sen_factor GROUP BY 1`,
    ],
  ] as const) {
    for (const r of await stored(sql)) add(r.fy, line, r.v);
  }
  return out;
}

const BLOCK = `query($fy: String!) { highNeedsBlock(financialYear: $fy) {
  totalBudget totalForecast lines { lineCode budget forecast outturn memo method }
  income { highNeedsAllocation importedPupils exportedPupils importExportRate importExportAdjustment schoolsBlockTransfer
    schoolsBlockTransferRate safetyValveDfe laContribution total }
  dsg { spend inYear cumulative planInYear planCumulative } missingDrivers { kind } } }`;
const REPORT = `query($p: String!) { safetyValveMonitoringReport(period: $p) { periodCode financialYear reportDate
  inYear { plan forecast } cumulative { plan forecast } instalmentThisPeriod instalmentStatus instalmentsToDate } }`;

describe('the High Needs block of record', () => {
  it('recomputes every computed block line from its drivers for the demo data, equal to the penny; the other lines are given', async () => {
    const { parameters } = await recordParameters(t.db.dataSource.manager);
    const expected = await recomputeFromDrivers(parameters);
    const lines: { fy: string; code: string; budget: string; forecast: string; outturn: string | null }[] = await q(
      `SELECT financial_year_code AS fy, line_code AS code, budget, forecast, outturn FROM high_needs_block_line ORDER BY 1, sort_order`,
    );
    const checked: string[] = [];
    for (const l of lines) {
      const closed = ['2023-24', '2024-25'].includes(l.fy);
      const want = expected.get(l.fy)?.[l.code];
      // Closed years hold the reported figures except the placement lines (count x unit cost) and notional SEN.
      if (
        want === undefined ||
        (closed && !['INDEPENDENT_NMSS', 'POST_16', 'OTHER_LA_PLACEMENTS', 'NOTIONAL_SEN'].includes(l.code))
      )
        continue;
      expect({ line: `${l.fy} ${l.code}`, forecast: l.forecast }).toEqual({
        line: `${l.fy} ${l.code}`,
        forecast: want,
      });
      if (['COMMUNITY_POTS', 'INDIVIDUAL_PROTECTION', 'MAINSTREAM_TOP_UPS', 'NOTIONAL_SEN'].includes(l.code))
        expect(l.budget).toBe(want);
      checked.push(`${l.fy} ${l.code}`);
    }
    // Every element-3 line of every modelled year, and the placements of every year.
    for (const fy of ['2025-26', '2026-27', '2027-28']) {
      for (const code of [
        'SPECIAL_SCHOOLS',
        'MAINSTREAM_TOP_UPS',
        'COMMUNITY_POTS',
        'INDIVIDUAL_PROTECTION',
        'RESOURCED_PROVISION',
        'INDEPENDENT_NMSS',
        'ALTERNATIVE_PROVISION',
        'POST_16',
        'OTHER_LA_PLACEMENTS',
        'NOTIONAL_SEN',
      ]) {
        expect(checked).toContain(`${fy} ${code}`);
      }
    }
    expect(checked.filter((c) => c.startsWith('2024-25'))).toEqual([
      '2024-25 INDEPENDENT_NMSS',
      '2024-25 POST_16',
      '2024-25 OTHER_LA_PLACEMENTS',
      '2024-25 NOTIONAL_SEN',
    ]);
    // Kent's children in other authorities' schools: 790 in 2026-27 at the £25,700 top-up Kent pays.
    expect(expected.get('2026-27')!.OTHER_LA_PLACEMENTS).toBe('20303000.00');
    // Kent 2024-25: 1,623 children in independent and non-maintained special schools at £49,259.
    expect(expected.get('2024-25')!.INDEPENDENT_NMSS).toBe('79947357.00');
    // The banded top-up paid to mainstream schools is on a block line: Autumn 2026 and Spring 2027 in 2026-27.
    const [{ v: banded }] = await q(
      `SELECT sum(banded_top_up)::text AS v FROM school_term_funding WHERE term_code IN ('SUMMER-2026', 'AUTUMN-2026', 'SPRING-2027')`,
    );
    expect(lines.find((l) => l.fy === '2026-27' && l.code === 'MAINSTREAM_TOP_UPS')!.forecast).toBe(banded);
  });

  it("is in Kent's magnitudes: £342.7m budget and £389m forecast in 2024-25, £340m-£410m a year to 2027-28, 24 special schools", async () => {
    const years: Record<string, any> = {};
    for (const fy of ['2023-24', '2024-25', '2025-26', '2026-27', '2027-28']) {
      const r = await t.gql(BLOCK, { fy });
      expect(r.body.errors).toBeUndefined();
      years[fy] = r.body.data.highNeedsBlock;
      expect(years[fy].missingDrivers).toEqual([]);
    }
    expect(years['2024-25']).toMatchObject({ totalBudget: '342700000.00', totalForecast: '389000000.00' });
    for (const fy of ['2025-26', '2026-27', '2027-28']) {
      expect(Number(years[fy].totalForecast)).toBeGreaterThan(340e6);
      expect(Number(years[fy].totalForecast)).toBeLessThan(410e6);
    }
    // The Schools Block transfer at 1.2%: £15.2m, £16.5m, £17.4m.
    expect(['2024-25', '2025-26', '2026-27'].map((fy) => years[fy].income.schoolsBlockTransfer)).toEqual([
      '15200000.00',
      '16500000.00',
      '17400000.00',
    ]);
    expect(years['2026-27'].income.schoolsBlockTransferRate).toBe('0.012');
    // The import/export adjustment: Kent imports 1,310 and exports 1,160 high-needs pupils in 2026-27, a net 150
    // at £6,000; the income adds up with it.
    expect(years['2026-27'].income).toMatchObject({
      importedPupils: '1310',
      exportedPupils: '1160',
      importExportRate: '6000.00',
      importExportAdjustment: '900000.00',
    });
    for (const y of Object.values(years)) {
      const i = y.income;
      expect(i.importExportAdjustment).toBe(dec(i.importedPupils).minus(i.exportedPupils).times(6000).toFixed(2));
      expect(i.total).toBe(
        sum([
          i.highNeedsAllocation,
          i.importExportAdjustment,
          i.schoolsBlockTransfer,
          i.safetyValveDfe,
          i.laContribution,
        ]),
      );
    }
    // The LA's contributions over the agreement add up to its £82m with 2022-23's £13.7m.
    expect(sum(Object.values(years).map((y) => y.income.laContribution))).toBe('68300000.00');
    const [{ n }] = await q(
      `SELECT count(DISTINCT school_urn)::int AS n FROM place_number p JOIN school s ON s.urn = p.school_urn WHERE s.phase = 'SPECIAL'`,
    );
    expect(n).toBe(24);
    const methods = Object.fromEntries(years['2026-27'].lines.map((l: any) => [l.lineCode, l.method]));
    expect(methods).toMatchObject({
      SPECIAL_SCHOOLS: 'DRIVERS',
      MAINSTREAM_TOP_UPS: 'FUNDING_MODEL',
      CENTRAL_SEN_SERVICES: 'GIVEN',
      OTHER_LA_PLACEMENTS: 'DRIVERS',
      NOTIONAL_SEN: 'FUNDING_MODEL',
    });
    // In-year position = income - spend, and the cumulative position runs on from the year before.
    for (const fy of Object.keys(years)) {
      const y = years[fy];
      expect(y.dsg.inYear).toBe(dec(y.income.total).minus(y.dsg.spend).toFixed(2));
    }
    expect(years['2027-28'].dsg.cumulative).toBe(
      dec(years['2026-27'].dsg.cumulative).plus(years['2027-28'].dsg.inYear).toFixed(2),
    );
    expect(years['2023-24'].dsg.cumulative).toBe(dec('-85800000.00').plus(years['2023-24'].dsg.inYear).toFixed(2));
  });
});

describe('the Safety Valve returns and the block', () => {
  it("gives, for every reporting period, the DSG position the block and its income gave at that date; the last return of each year is the block's", async () => {
    const reports: { period: string; fy: string; date: string }[] = await q(
      `SELECT period_code AS period, financial_year_code AS fy, report_date::text AS date FROM safety_valve_report ORDER BY report_date`,
    );
    expect(reports).toHaveLength(14);
    const income = new Map(
      (
        await q(
          `SELECT financial_year_code AS fy, high_needs_allocation AS a, schools_block AS s, la_contribution AS l,
                  imported_pupils AS i, exported_pupils AS e FROM dsg_income_year`,
        )
      ).map((r: any) => [r.fy, r]),
    );
    const instalments: {
      period: string;
      fy: string;
      due: string;
      amount: string;
      status: string;
      paid: string | null;
    }[] = await q(
      `SELECT period_code AS period, financial_year_code AS fy, due_on::text AS due, amount, status, paid_on::text AS paid FROM safety_valve_instalment`,
    );
    const fyOfDate = (d: string) => (d.slice(5) >= '04-01' ? Number(d.slice(0, 4)) : Number(d.slice(0, 4)) - 1);
    const plans = new Map<string, string>(
      (await q(`SELECT financial_year_code AS fy, in_year_plan AS plan FROM safety_valve_plan_year`)).map((r: any) => [
        r.fy,
        r.plan,
      ]),
    );
    const snapshot = new Map<string, string>(
      (await q(`SELECT period_code AS p, sum(forecast)::text AS v FROM block_forecast_snapshot GROUP BY 1`)).map(
        (r: any) => [r.p, r.v],
      ),
    );
    const svReports = (
      await t.gql(
        `{ safetyValve { reports { periodCode inYearPlan inYearForecast cumulativePlan cumulativeForecast } } }`,
      )
    ).body.data.safetyValve.reports;
    const stored = await q(
      `SELECT period_code AS "periodCode", in_year_plan AS "inYearPlan", in_year_forecast AS "inYearForecast", cumulative_plan AS "cumulativePlan", cumulative_forecast AS "cumulativeForecast" FROM safety_valve_report ORDER BY report_date`,
    );
    expect(svReports).toEqual(stored);

    for (const rep of reports) {
      const r = (await t.gql(REPORT, { p: rep.period })).body.data.safetyValveMonitoringReport;
      // DfE money in a year as known on the report date: paid on time in its own year; paid late in the year
      // paid, once paid; withheld nowhere; still to come: expected in its year.
      const dfe = (fy: string) =>
        sum(
          instalments
            .filter((i) => {
              if (i.due > rep.date || i.status === 'PAID' || i.status === 'DUE') return i.fy === fy;
              return i.status === 'PAID_LATE' && i.paid! <= rep.date && `${fyOfDate(i.paid!)}` === fy.slice(0, 4);
            })
            .map((i) => i.amount),
        );
      const incomeOf = (fy: string) => {
        const x: any = income.get(fy);
        // The import/export adjustment: (imported - exported) x £6,000.
        return dec(x.a)
          .plus(dec(x.i - x.e).times(6000))
          .plus(penny(dec(x.s).times('0.012')))
          .plus(x.l)
          .plus(dfe(fy));
      };
      const years = [...new Set(reports.filter((x) => x.date <= rep.date).map((x) => x.fy))];
      let cumulative = dec('-85800000.00');
      let planCumulative = dec('-83000000.00');
      let inYear = dec(0);
      for (const fy of years) {
        const last = reports.filter((x) => x.fy === fy && x.date <= rep.date).at(-1)!;
        inYear = incomeOf(fy).minus(snapshot.get(last.period)!);
        cumulative = cumulative.plus(inYear);
        planCumulative = planCumulative.plus(plans.get(fy)!);
      }
      expect({
        period: rep.period,
        inYear: r.inYear.forecast,
        cumulative: r.cumulative.forecast,
        plan: r.inYear.plan,
        planCumulative: r.cumulative.plan,
      }).toEqual({
        period: rep.period,
        inYear: inYear.toFixed(2),
        cumulative: cumulative.toFixed(2),
        plan: dec(plans.get(rep.fy)!).toFixed(2),
        planCumulative: planCumulative.toFixed(2),
      });
      expect(svReports.find((x: any) => x.periodCode === rep.period)).toEqual({
        periodCode: rep.period,
        inYearPlan: r.inYear.plan,
        inYearForecast: r.inYear.forecast,
        cumulativePlan: r.cumulative.plan,
        cumulativeForecast: r.cumulative.forecast,
      });
      const isLast = !reports.some((x) => x.fy === rep.fy && x.date > rep.date);
      if (isLast) {
        const b = (await t.gql(BLOCK, { fy: rep.fy })).body.data.highNeedsBlock;
        expect({
          period: rep.period,
          inYear: r.inYear.forecast,
          cumulative: r.cumulative.forecast,
          plan: r.cumulative.plan,
        }).toEqual({
          period: rep.period,
          inYear: b.dsg.inYear,
          cumulative: b.dsg.cumulative,
          plan: b.dsg.planCumulative,
        });
      }
    }
    // 2024-25: the £46.3m overspend of the block is what takes the position below the plan.
    const b = (await t.gql(BLOCK, { fy: '2024-25' })).body.data.highNeedsBlock;
    expect(dec(b.totalForecast).minus(b.totalBudget).toFixed(2)).toBe('46300000.00');
    const q4 = (await t.gql(REPORT, { p: '2024-25-Q4' })).body.data.safetyValveMonitoringReport;
    expect(q4.inYear.forecast).toBe(dec(b.income.total).minus(b.dsg.spend).toFixed(2));
  });

  it('reports instalments as they stood: withheld then paid late, withheld, and still due', async () => {
    const at = async (p: string) => (await t.gql(REPORT, { p })).body.data.safetyValveMonitoringReport;
    expect(await at('2024-25-Q3')).toMatchObject({ instalmentThisPeriod: null, instalmentStatus: 'WITHHELD' });
    // Paid late on 15 August 2025: not yet in the 2025-26 Q1 return (31 July), in the Q2 one.
    const q1 = await at('2025-26-Q1');
    const q2 = await at('2025-26-Q2');
    expect(dec(q2.instalmentsToDate).minus(q1.instalmentsToDate).toFixed(2)).toBe('7000000.00');
    expect(await at('2026-27-Q2')).toMatchObject({ instalmentThisPeriod: null, instalmentStatus: 'WITHHELD' });
    const b = (await t.gql(BLOCK, { fy: '2027-28' })).body.data.highNeedsBlock;
    // Four instalments still due in 2027-28.
    expect(b.income.safetyValveDfe).toBe('14000000.00');
  });
});

describe('changing the parameters of record recomputes every computed line', () => {
  it('recomputes the banded top-up line and the special schools line from Autumn 2026 when band values change', async () => {
    const r = await t.gql(
      `mutation($p: ModelParametersInput!) { setModelParameters(effectiveFrom: "2026-09-01", parameters: $p, note: "bands") { version termsRecomputed } }`,
      {
        p: {
          bandValues: [{ band: 'A', value: '3000.00' }],
          settingBandValues: [{ setting: 'SPECIAL', band: 'S3', value: '16000.00' }],
        },
      },
    );
    expect(r.body.errors).toBeUndefined();
    const { parameters } = await recordParameters(t.db.dataSource.manager, '2026-09-01');
    expect(parameters.block.bandSets.SPECIAL.S3).toBe('16000.00');
    // Terms from Autumn 2026 use the new values; Summer 2026 (in 2026-27 too) keeps the old ones.
    const before = await recordParameters(t.db.dataSource.manager, '2026-08-31');
    const recomputed = await recomputeFromDrivers(parameters);
    const old = await recomputeFromDrivers(before.parameters);
    const lines: { code: string; budget: string; forecast: string }[] = await q(
      `SELECT line_code AS code, budget, forecast FROM high_needs_block_line WHERE financial_year_code = '2026-27'`,
    );
    const line = (c: string) => lines.find((l) => l.code === c)!;
    const [{ v: banded }] = await q(
      `SELECT sum(banded_top_up)::text AS v FROM school_term_funding f JOIN funding_term t ON t.code = f.term_code WHERE t.financial_year_code = '2026-27'`,
    );
    expect(line('MAINSTREAM_TOP_UPS')).toMatchObject({ budget: banded, forecast: banded });
    expect(line('MAINSTREAM_TOP_UPS').forecast).toBe(recomputed.get('2026-27')!.MAINSTREAM_TOP_UPS);
    // Special schools: Autumn 2026 and Spring 2027 at the new S3 value, Summer 2026 at the legacy rate as before.
    const [{ v: s3 }] = await q(
      `SELECT sum(round(pupils * 1000.00 * t.months / 12, 2))::text AS v FROM top_up_count c JOIN funding_term t ON t.code = c.term_code WHERE c.band = 'S3' AND t.code IN ('AUTUMN-2026', 'SPRING-2027')`,
    );
    expect(Number(s3)).toBeGreaterThan(0);
    const moved = dec(line('SPECIAL_SCHOOLS').forecast).minus(old.get('2026-27')!.SPECIAL_SCHOOLS);
    // Rounded once per school and term, so the change is within a penny per school-term of the sum of the changes.
    expect(moved.minus(s3).abs().lte('1.00')).toBe(true);
    expect(line('SPECIAL_SCHOOLS').forecast).toBe(recomputed.get('2026-27')!.SPECIAL_SCHOOLS);
  });
});

describe('given block lines are figures of record with their provenance (issue 11)', () => {
  const GIVEN_QUERY = `query($fy: String!) { highNeedsBlock(financialYear: $fy) { lines { lineCode method budget forecast source { kind file by } } } }`;
  const given = async (fy: string) => {
    const r = await t.gql(GIVEN_QUERY, { fy });
    expect(r.body.errors).toBeUndefined();
    return (r.body.data.highNeedsBlock.lines as any[]).filter((l) => l.method === 'GIVEN');
  };

  it("marks the demo's given lines as entered by hand, never COMPUTED, and a recompute (even replacing imported figures) leaves them alone", async () => {
    for (const fy of ['2025-26', '2026-27', '2027-28']) {
      const lines = await given(fy);
      // OTHER_LA_PLACEMENTS is computed from its placements (issue 15): no longer given.
      expect(lines.map((l) => l.lineCode).sort()).toEqual([
        'CENTRAL_SEN_SERVICES',
        'EARLY_YEARS_SEN',
        'HOSPITAL_EDUCATION',
      ]);
      for (const l of lines) expect(l.source).toEqual({ kind: 'MANUAL', file: null, by: 'demo data' });
    }
    const before = await given('2026-27');
    const r = await t.gql(
      `mutation($p: ModelParametersInput!) { setModelParameters(effectiveFrom: "2026-09-01", parameters: $p, note: "protection", replaceImported: true) { version importedReplaced { figure key } } }`,
      { p: { protectionRate: '0.70' } },
    );
    expect(r.body.errors).toBeUndefined();
    // Given lines are not the model's to replace: not even listed among the replaced figures.
    const replaced: { figure: string; key: string }[] = r.body.data.setModelParameters.importedReplaced;
    expect(
      replaced.filter((f) => f.figure === 'BLOCK_LINE' && before.some((l) => f.key.endsWith(`|${l.lineCode}`))),
    ).toEqual([]);
    expect(await given('2026-27')).toEqual(before);
  });

  it("marks a closed year's lines that no driver computes as imported from the reported outturn", async () => {
    const [row] = await q(
      `SELECT source_kind AS kind, source_file AS file, source_by AS by FROM high_needs_block_line WHERE financial_year_code = '2023-24' AND line_code = 'SPECIAL_SCHOOLS'`,
    );
    expect(row).toEqual({ kind: 'IMPORTED', file: 's251-outturn-2023-24.csv', by: 'demo data' });
    const [{ n }] = await q(
      `SELECT count(*)::int AS n FROM high_needs_block_line WHERE line_code = ANY($1::text[]) AND source_kind = 'COMPUTED'`,
      [['CENTRAL_SEN_SERVICES', 'EARLY_YEARS_SEN', 'HOSPITAL_EDUCATION']],
    );
    expect(n).toBe(0);
  });
});
