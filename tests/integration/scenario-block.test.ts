import Decimal from 'decimal.js';
import { startTestHub, TestHub } from '../helpers/hub';

/** Scenarios that run the whole chain: drivers, every block line per year, income, the DSG position and the trajectory. */
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

const CREATE = `mutation($name: String!) { createScenario(name: $name) { id } }`;
const UPDATE = `mutation($id: String!, $p: ModelParametersInput!) { updateScenarioParameters(id: $id, parameters: $p) { id version } }`;
const RESULTS = `query($id: String!) { scenario(id: $id) {
  results { computeMs missingDrivers { kind setting schoolUrn period message }
    years { financialYear spend inYear cumulative planCumulative recordCumulative cumulativeAgainstPlan
      income { schoolsBlockTransfer total } lines { lineCode amount modelled } }
    trajectory { label plan record scenario } }
  comparison { blockLines { key period baseline scenario difference } dsg { key period difference } } } }`;

async function scenarioWith(p: Record<string, unknown>, token = t.tokens.SUBGROUP): Promise<string> {
  const id = (await t.gql(CREATE, { name: 'whole chain' }, token)).body.data.createScenario.id;
  const r = await t.gql(UPDATE, { id, p }, token);
  expect(r.body.errors).toBeUndefined();
  return id;
}

/** Special schools' line for a year, by hand: places x £10,000 and pupils x (1 + growth) x band value (legacy £14,250 before September 2026), per term. */
async function specialByHand(fy: string, growth: string): Promise<Decimal> {
  const terms: { code: string; ay: string; months: number; start: string }[] = await q(
    `SELECT code, academic_year_code AS ay, months, start_date::text AS start FROM funding_term WHERE financial_year_code = $1 ORDER BY start_date`,
    [fy],
  );
  const bandValue: Record<string, string> = { S1: '8000', S2: '11500', S3: '15000', S4: '19000', S5: '26000' };
  let total = dec(0);
  const special: { urn: number }[] = await q(`SELECT urn FROM school WHERE phase = 'SPECIAL' AND status = 'OPEN'`);
  for (const term of terms) {
    for (const { urn } of special) {
      const [{ places }] = await q(
        `SELECT sum(places)::int AS places FROM place_number WHERE school_urn = $1 AND academic_year_code = $2`,
        [urn, term.ay],
      );
      total = total.plus(penny(dec(places).times(10000).times(term.months).dividedBy(12)));
      const counts: { band: string; pupils: number }[] = await q(
        `SELECT band, pupils FROM top_up_count WHERE school_urn = $1 AND term_code = $2 AND setting = 'SPECIAL'`,
        [urn, term.code],
      );
      const annual = counts.reduce(
        (a, c) =>
          a.plus(
            dec(c.pupils)
              .times(dec(1).plus(growth))
              .times(term.start >= '2026-09-01' ? bandValue[c.band] : '14250'),
          ),
        dec(0),
      );
      total = total.plus(penny(annual.times(term.months).dividedBy(12)));
    }
  }
  return total;
}

/** Mainstream banded top-ups for a year, by hand: plans x (1 + growth) x band value x months / 12, per school and term. */
async function mainstreamByHand(fy: string, growth: string): Promise<Decimal> {
  const rows: { urn: number; term: string; months: number; band: string; plans: number }[] = await q(
    `SELECT c.school_urn AS urn, c.term_code AS term, t.months, c.band, c.plans FROM ehcp_band_count c JOIN funding_term t ON t.code = c.term_code WHERE t.financial_year_code = $1`,
    [fy],
  );
  const value: Record<string, string> = { A: '2000', B: '4000', C: '6500', D: '9000', E: '12000' };
  const per = new Map<string, { months: number; annual: Decimal }>();
  for (const r of rows) {
    const k = `${r.urn}|${r.term}`;
    const x = per.get(k) ?? { months: r.months, annual: dec(0) };
    x.annual = x.annual.plus(dec(r.plans).times(dec(1).plus(growth)).times(value[r.band]));
    per.set(k, x);
  }
  return [...per.values()].reduce((a, x) => a.plus(penny(x.annual.times(x.months).dividedBy(12))), dec(0));
}

describe('a scenario that runs the whole High Needs block', () => {
  it('8% more EHCPs in special and mainstream, 5% of independent placements moved to special, the transfer at 1.0%: every 2026-27 line and the deficit at March 2028, by hand', async () => {
    const id = await scenarioWith({
      growthBySetting: [
        { setting: 'MAINSTREAM', share: '0.08' },
        { setting: 'SPECIAL', share: '0.08' },
      ],
      placementShifts: [{ from: 'INDEPENDENT_NMSS', to: 'SPECIAL', share: '0.05', band: 'S3' }],
      schoolsBlockTransferRate: '0.010',
    });
    const r = await t.gql(RESULTS, { id }, t.tokens.SUBGROUP);
    expect(r.body.errors).toBeUndefined();
    const res = r.body.data.scenario.results;
    expect(res.missingDrivers).toEqual([]);
    const year = (fy: string) => res.years.find((y: any) => y.financialYear === fy);
    const lineOf = (fy: string, code: string) => year(fy).lines.find((l: any) => l.lineCode === code).amount;
    const record: Record<string, Record<string, string>> = {};
    for (const l of await q(`SELECT financial_year_code AS fy, line_code AS code, forecast FROM high_needs_block_line`))
      (record[l.fy] ??= {})[l.code] = l.forecast;

    // Moved placements: 1,745 x 5% = 87.25 in 2026-27, funded at the £10,000 place plus the S3 top-up (£15,000) from
    // September 2026 and the legacy £14,250 in Summer 2026: 87.25 x 24,250 x 5/12 + 87.25 x 25,000 x 4/12 + 87.25 x 25,000 x 3/12.
    const moved2627 = dec('881588.54').plus('727083.33').plus('545312.50');
    expect(moved2627.toFixed(2)).toBe('2153984.37');
    const want2627: Record<string, string> = {
      // 1,745 placements x 95% x £53,100.
      INDEPENDENT_NMSS: '88026525.00',
      SPECIAL_SCHOOLS: (await specialByHand('2026-27', '0.08')).plus(moved2627).toFixed(2),
      MAINSTREAM_TOP_UPS: (await mainstreamByHand('2026-27', '0.08')).toFixed(2),
    };
    for (const code of Object.keys(record['2026-27'])) {
      const want = want2627[code] ?? record['2026-27'][code];
      expect({ code, amount: lineOf('2026-27', code) }).toEqual({ code, amount: want });
    }
    expect(dec(want2627.SPECIAL_SCHOOLS).gt(record['2026-27'].SPECIAL_SCHOOLS)).toBe(true);
    // The Schools Block transfer: 1.0% of £1,450m = £14.5m instead of £17.4m.
    expect(year('2026-27').income.schoolsBlockTransfer).toBe('14500000.00');

    // Cumulative deficit at March 2028: the record's, less each open year's extra spend and the smaller transfers
    // (0.2% of £1,375m, £1,450m and £1,500m = £8.65m in all). Closed years (2023-24, 2024-25) stay as reported.
    const moved = { '2025-26': dec('2049125.00'), '2026-27': moved2627, '2027-28': dec('2237500.00') } as Record<
      string,
      Decimal
    >;
    const independent = { '2025-26': '82281875.00', '2026-27': '88026525.00', '2027-28': '93357450.00' } as Record<
      string,
      string
    >;
    let extraSpend = dec(0);
    for (const fy of ['2025-26', '2026-27', '2027-28']) {
      const special = (await specialByHand(fy, '0.08')).plus(moved[fy]);
      const mainstream = await mainstreamByHand(fy, '0.08');
      extraSpend = extraSpend
        .plus(special.minus(record[fy].SPECIAL_SCHOOLS))
        .plus(mainstream.minus(record[fy].MAINSTREAM_TOP_UPS))
        .plus(dec(independent[fy]).minus(record[fy].INDEPENDENT_NMSS));
      expect(lineOf(fy, 'INDEPENDENT_NMSS')).toBe(independent[fy]);
    }
    const recordMarch2028 = (await t.gql(`{ highNeedsBlock(financialYear: "2027-28") { dsg { cumulative } } }`)).body
      .data.highNeedsBlock.dsg.cumulative;
    const march2028 = dec(recordMarch2028).minus(extraSpend).minus('8650000.00').toFixed(2);
    expect(year('2027-28').cumulative).toBe(march2028);
    expect(year('2027-28').recordCumulative).toBe(recordMarch2028);
    // The plan clears the deficit by March 2028; the trajectory shows the scenario beside the plan and the record.
    expect(res.trajectory.at(-1)).toEqual({
      label: 'Mar 2028',
      plan: '0.00',
      record: recordMarch2028,
      scenario: march2028,
    });
    expect(res.trajectory[0]).toMatchObject({ plan: '-83000000.00', record: '-85800000.00' });
    expect(year('2024-25').lines.every((l: any) => !l.modelled)).toBe(true);

    // comparison, line by line and for the DSG position.
    const cmp = r.body.data.scenario.comparison;
    const diff = (key: string, period: string) => cmp.blockLines.find((d: any) => d.key === key && d.period === period);
    expect(diff('INDEPENDENT_NMSS', '2026-27')).toEqual({
      key: 'INDEPENDENT_NMSS',
      period: '2026-27',
      baseline: record['2026-27'].INDEPENDENT_NMSS,
      scenario: '88026525.00',
      difference: dec('88026525.00').minus(record['2026-27'].INDEPENDENT_NMSS).toFixed(2),
    });
    expect(cmp.blockLines.map((d: any) => d.key).sort()).toEqual([
      'INDEPENDENT_NMSS',
      'INDEPENDENT_NMSS',
      'INDEPENDENT_NMSS',
      'MAINSTREAM_TOP_UPS',
      'MAINSTREAM_TOP_UPS',
      'SPECIAL_SCHOOLS',
      'SPECIAL_SCHOOLS',
      'SPECIAL_SCHOOLS',
    ]);
    expect(cmp.dsg.find((d: any) => d.key === 'CUMULATIVE' && d.period === '2027-28').difference).toBe(
      dec(march2028).minus(recordMarch2028).toFixed(2),
    );
  });

  it("changes rates with an annual uplift, place numbers, band sets, the allocation's growth and a protection taper by term", async () => {
    const id = await scenarioWith({
      rateUplift: '0.03',
      placeChange: [{ setting: 'AP', share: '0.10' }],
      allocationGrowth: '0.02',
      protectionRateByTerm: [
        { term: 'AUTUMN-2026', rate: '0.50' },
        { term: 'SPRING-2027', rate: '0.25' },
      ],
      bandSets: [
        {
          setting: 'AP',
          bands: [
            { band: 'P1', value: '7000.00' },
            { band: 'P2', value: '10000.00' },
            { band: 'P3', value: '14000.00' },
          ],
        },
      ],
    });
    const r = await t.gql(
      `query($id: String!) { scenario(id: $id) { results { missingDrivers { kind } years { financialYear income { highNeedsAllocation } lines { lineCode amount } } }
        comparison { blockLines { key period difference } } } }`,
      { id },
      t.tokens.SUBGROUP,
    );
    expect(r.body.errors).toBeUndefined();
    const res = r.body.data.scenario.results;
    expect(res.missingDrivers).toEqual([]);
    const [alloc] = await q(
      `SELECT high_needs_allocation AS a FROM dsg_income_year WHERE financial_year_code = '2025-26'`,
    );
    const year = (fy: string) => res.years.find((y: any) => y.financialYear === fy);
    // The allocation grows 2% a year from 2025-26's.
    expect(year('2026-27').income.highNeedsAllocation).toBe(penny(dec(alloc.a).times('1.02')));
    expect(year('2027-28').income.highNeedsAllocation).toBe(penny(dec(alloc.a).times('1.0404')));
    // Independent unit costs rise 3% a year after 2025-26: £53,100 -> £54,693.00 in 2026-27.
    expect(year('2026-27').lines.find((l: any) => l.lineCode === 'INDEPENDENT_NMSS').amount).toBe(
      penny(dec(1745).times('54693.00')),
    );
    expect(year('2027-28').lines.find((l: any) => l.lineCode === 'INDEPENDENT_NMSS').amount).toBe(
      penny(dec(1790).times(penny(dec('54900').times('1.0609')))),
    );
    // The taper: Autumn 2026 protected at 50% and Spring 2027 at 25% of the baseline.
    const [{ a, s }] = await q(
      `SELECT sum(round(baseline * 0.5, 2)) FILTER (WHERE term_code = 'AUTUMN-2026')::text AS a, sum(round(baseline * 0.25, 2)) FILTER (WHERE term_code = 'SPRING-2027')::text AS s FROM school_term_funding`,
    );
    const [{ summer }] = await q(
      `SELECT sum(protected_amount)::text AS summer FROM school_term_funding WHERE term_code = 'SUMMER-2026'`,
    );
    expect(year('2026-27').lines.find((l: any) => l.lineCode === 'INDIVIDUAL_PROTECTION').amount).toBe(
      dec(a).plus(s).plus(summer).toFixed(2),
    );
    const changed = new Set(
      r.body.data.scenario.comparison.blockLines.filter((d: any) => d.period === '2026-27').map((d: any) => d.key),
    );
    for (const code of [
      'ALTERNATIVE_PROVISION',
      'INDEPENDENT_NMSS',
      'INDIVIDUAL_PROTECTION',
      'SPECIAL_SCHOOLS',
      'RESOURCED_PROVISION',
      'MAINSTREAM_TOP_UPS',
      'POST_16',
    ])
      expect(changed).toContain(code);
  });
});

describe('bad input and missing drivers', () => {
  it('refuses parameters out of range as BAD_USER_INPUT naming the parameter and its range', async () => {
    const id = (await t.gql(CREATE, { name: 'bad' }, t.tokens.SUBGROUP)).body.data.createScenario.id;
    const bad = async (p: Record<string, unknown>) =>
      (await t.gql(UPDATE, { id, p }, t.tokens.SUBGROUP)).body.errors?.[0];
    const negative = await bad({ placeRates: [{ placeType: 'SRP', rate: '-100.00' }] });
    expect(negative.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'parameters.placeRates',
      range: ['0', '500000'],
    });
    expect(negative.message).toMatch(/SRP place rate must be from 0 to 500000; got -100\.00/);
    const growth = await bad({ growthBySetting: [{ setting: 'SPECIAL', share: '3' }] });
    expect(growth.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'parameters.growthBySetting',
      range: ['-0.5', '1'],
    });
    const band = await bad({ settingBandValues: [{ setting: 'SRP', band: 'S3', value: '9000.00' }] });
    expect(band.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'parameters.settingBandValues',
      validValues: ['R1', 'R2', 'R3', 'R4'],
    });
    expect(
      (await bad({ placementShifts: [{ from: 'INDEPENDENT_NMSS', to: 'SPECIAL', share: '0.05', band: 'E' }] }))
        .extensions.validValues,
    ).toEqual(['S1', 'S2', 'S3', 'S4', 'S5']);
    expect(
      (await bad({ placementShifts: [{ from: 'HOSPITAL', to: 'SPECIAL', share: '0.05', band: 'S1' }] })).extensions
        .argument,
    ).toBe('parameters.placementShifts');
    expect((await bad({ schoolsBlockTransferRate: '0.2' })).extensions).toMatchObject({
      argument: 'parameters.schoolsBlockTransferRate',
      range: ['0', '0.05'],
    });
    expect((await bad({ bandValues: [{ band: 'S1', value: '100.00' }] })).extensions.code).toBe('BAD_USER_INPUT');
    expect((await bad({ protectionRateByTerm: [{ term: 'AUTUMN-2026', rate: '1.5' }] })).extensions.argument).toBe(
      'parameters.protectionRateByTerm',
    );
    const v = await t.gql(`query($id: String!) { scenario(id: $id) { version } }`, { id }, t.tokens.SUBGROUP);
    expect(v.body.data.scenario.version).toBe(1);
  });

  it("reports a band the setting's set no longer has, and missing place numbers, instead of counting them as 0", async () => {
    const id = await scenarioWith({
      bandSets: [
        {
          setting: 'SPECIAL',
          bands: [
            { band: 'S1', value: '8000.00' },
            { band: 'S2', value: '11500.00' },
            { band: 'S3', value: '15000.00' },
            { band: 'S4', value: '19000.00' },
          ],
        },
      ],
    });
    const r = (await t.gql(RESULTS, { id }, t.tokens.SUBGROUP)).body.data.scenario.results;
    const [{ n }] = await q(`SELECT count(*)::int AS n FROM top_up_count WHERE setting = 'SPECIAL' AND band = 'S5'`);
    const notInSet = r.missingDrivers.filter((m: any) => m.kind === 'BAND_NOT_IN_SET');
    expect(notInSet).toHaveLength(n);
    expect(notInSet[0].message).toMatch(/band "S5", which the SPECIAL band set \(S1, S2, S3, S4\) does not have/);

    const [{ urn }] = await q(
      `SELECT urn FROM school WHERE phase = 'SPECIAL' AND status = 'OPEN' ORDER BY urn LIMIT 1`,
    );
    const saved = await q(`SELECT * FROM place_number WHERE school_urn = $1 AND academic_year_code = '2026/27'`, [urn]);
    await q(`DELETE FROM place_number WHERE school_urn = $1 AND academic_year_code = '2026/27'`, [urn]);
    try {
      const b = await t.gql(
        `{ highNeedsBlock(financialYear: "2026-27") { missingDrivers { kind setting schoolUrn period } } }`,
      );
      expect(b.body.data.highNeedsBlock.missingDrivers).toEqual([
        { kind: 'PLACES', setting: 'SPECIAL', schoolUrn: urn, period: '2026/27' },
      ]);
      const other = await scenarioWith({ ehcpGrowth: '0.01' });
      const s = (await t.gql(RESULTS, { id: other }, t.tokens.SUBGROUP)).body.data.scenario.results;
      expect(s.missingDrivers.map((m: any) => [m.kind, m.schoolUrn, m.period])).toEqual([['PLACES', urn, '2026/27']]);
    } finally {
      for (const row of saved) {
        await q(
          `INSERT INTO place_number (school_urn, academic_year_code, place_type, places, source_kind, source_file, source_by) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [
            row.school_urn,
            row.academic_year_code,
            row.place_type,
            row.places,
            row.source_kind,
            row.source_file,
            row.source_by,
          ],
        );
      }
    }
  });
});
