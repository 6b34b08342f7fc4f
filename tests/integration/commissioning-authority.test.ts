import Decimal from 'decimal.js';
import { startTestHub, TestHub } from '../helpers/hub';

/**
 * The commissioning and the providing authority (issue 15): the LA's children in other authorities' schools
 * (OTHER_LA placements, count x the top-up the LA pays) and the import/export adjustment in the block's income
 * (£6,000 a pupil: gained per pupil imported, lost per pupil exported), on the demo data, in scenarios, from the
 * recoupment import, and in dataStatus.
 */
let t: TestHub;
jest.setTimeout(180_000);
// The demo data as a REAL-mode fixture: a demo database refuses imports.
beforeAll(async () => {
  t = await startTestHub({ realData: true });
}, 180_000);
afterAll(() => t?.stop());

const q = (sql: string, params: unknown[] = []) => t.db.dataSource.query(sql, params);
const dec = (v: string | number) => new Decimal(v);
const penny = (v: Decimal) => v.toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);

const BLOCK = `query($fy: String!) { highNeedsBlock(financialYear: $fy) {
  lines { lineCode forecast method source { kind file } }
  income { highNeedsAllocation importedPupils exportedPupils importExportRate importExportAdjustment total }
  dsg { spend inYear cumulative } missingDrivers { kind setting period } } }`;
const block = async (fy: string) => {
  const r = await t.gql(BLOCK, { fy });
  expect(r.body.errors).toBeUndefined();
  return r.body.data.highNeedsBlock;
};
const CREATE = `mutation($name: String!) { createScenario(name: $name) { id } }`;
const UPDATE = `mutation($id: String!, $p: ModelParametersInput!) { updateScenarioParameters(id: $id, parameters: $p) { id version } }`;
const RESULTS = `query($id: String!) { scenario(id: $id) { results { missingDrivers { kind }
  years { financialYear spend inYear cumulative recordInYear recordCumulative
    income { exportedPupils importedPupils importExportRate importExportAdjustment total } lines { lineCode amount } } }
  comparison { blockLines { key period difference } dsg { key period difference } } } }`;

async function scenarioWith(p: Record<string, unknown>) {
  const id = (await t.gql(CREATE, { name: 'out of area' }, t.tokens.SUBGROUP)).body.data.createScenario.id;
  const r = await t.gql(UPDATE, { id, p }, t.tokens.SUBGROUP);
  expect(r.body.errors).toBeUndefined();
  const res = await t.gql(RESULTS, { id }, t.tokens.SUBGROUP);
  expect(res.body.errors).toBeUndefined();
  return res.body.data.scenario;
}

async function post(kind: string, body: string, token: string = t.tokens.FINANCE, file = 'recoupment-2026.csv') {
  const res = await fetch(`${t.url}/import/${kind}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'x-file-name': file },
    body,
  });
  return { status: res.status, body: await res.json() };
}

describe("the LA's children in other authorities' schools, of record", () => {
  it('make the OTHER_LA_PLACEMENTS line: count x unit cost to the penny, every year, with their provenance', async () => {
    const rows: { fy: string; n: number; cost: string; file: string }[] = await q(
      `SELECT financial_year_code AS fy, placements AS n, unit_cost AS cost, source_file AS file FROM placement WHERE kind = 'OTHER_LA' ORDER BY 1`,
    );
    expect(rows.map((r) => r.fy)).toEqual(['2023-24', '2024-25', '2025-26', '2026-27', '2027-28']);
    for (const r of rows) {
      expect(r.file).toBe('placements-commissioning.csv');
      const b = await block(r.fy);
      const line = b.lines.find((l: any) => l.lineCode === 'OTHER_LA_PLACEMENTS');
      expect({ fy: r.fy, forecast: line.forecast, method: line.method }).toEqual({
        fy: r.fy,
        forecast: penny(dec(r.n).times(r.cost)),
        method: 'DRIVERS',
      });
      expect(b.missingDrivers).toEqual([]);
    }
    // 2026-27: 790 x £25,700.
    expect((await block('2026-27')).lines.find((l: any) => l.lineCode === 'OTHER_LA_PLACEMENTS').forecast).toBe(
      '20303000.00',
    );
  });

  it('put the import/export adjustment in the income: (imported - exported) x £6,000, counted in the DSG position', async () => {
    const b = await block('2026-27');
    expect(b.income).toMatchObject({
      importedPupils: '1310',
      exportedPupils: '1160',
      importExportRate: '6000.00',
      importExportAdjustment: '900000.00',
    });
    const [row] = await q(
      `SELECT high_needs_allocation AS a, schools_block AS s, la_contribution AS l FROM dsg_income_year WHERE financial_year_code = '2026-27'`,
    );
    // DfE money in 2026-27 of record: three instalments of £3.5m (Q2 withheld).
    expect(b.income.total).toBe(
      dec(row.a)
        .plus('900000.00')
        .plus(penny(dec(row.s).times('0.012')))
        .plus(row.l)
        .plus('10500000.00')
        .toFixed(2),
    );
    expect(b.dsg.inYear).toBe(dec(b.income.total).minus(b.dsg.spend).toFixed(2));
  });
});

describe('a scenario moving placements back from out of area into the LA special schools', () => {
  it('changes the OTHER_LA line, the special schools line, the exports and the DSG position by exactly the amounts worked by hand', async () => {
    const s = await scenarioWith({
      placementShifts: [{ from: 'OTHER_LA', to: 'SPECIAL', share: '0.10', band: 'S3' }],
    });
    const res = s.results;
    expect(res.missingDrivers).toEqual([]);
    const year = (fy: string) => res.years.find((y: any) => y.financialYear === fy);
    const lineOf = (fy: string, code: string) => year(fy).lines.find((l: any) => l.lineCode === code).amount;
    const record: Record<string, Record<string, string>> = {};
    for (const l of await q(`SELECT financial_year_code AS fy, line_code AS code, forecast FROM high_needs_block_line`))
      (record[l.fy] ??= {})[l.code] = l.forecast;

    // 2026-27: 790 x 10% = 79 placements move. OTHER_LA: 711 x £25,700 = £18,272,700.00.
    expect(lineOf('2026-27', 'OTHER_LA_PLACEMENTS')).toBe('18272700.00');
    // Special schools pay them a £10,000 place and the top-up: Summer 2026 (5 months) at the legacy £14,250,
    // Autumn 2026 (4) and Spring 2027 (3) at S3's £15,000: 79 x 24,250 x 5/12 = 798,229.17; 79 x 25,000 x 4/12 =
    // 658,333.33; 79 x 25,000 x 3/12 = 493,750.00; £1,950,312.50 in all.
    const moved2627 = dec('798229.17').plus('658333.33').plus('493750.00');
    expect(moved2627.toFixed(2)).toBe('1950312.50');
    expect(lineOf('2026-27', 'SPECIAL_SCHOOLS')).toBe(
      dec(record['2026-27'].SPECIAL_SCHOOLS).plus(moved2627).toFixed(2),
    );
    // Exports fall by the 79: (1,310 - 1,081) x £6,000 = £1,374,000.00, £474,000.00 more than of record.
    expect(year('2026-27').income).toMatchObject({
      exportedPupils: '1081',
      importedPupils: '1310',
      importExportAdjustment: '1374000.00',
    });
    // In-year: spend falls by 2,030,300.00 - 1,950,312.50 = 79,987.50 and income rises 474,000.00.
    expect(dec(year('2026-27').inYear).minus(year('2026-27').recordInYear).toFixed(2)).toBe('553987.50');

    // Every open year the same way; closed years (2023-24, 2024-25) stay as reported.
    const byHand: Record<string, { n: number; cost: string; moved: Decimal }> = {
      // 2025-26: 77 moved, all terms before the banding start: 77 x 24,250 = £1,867,250.00 over the 12 months
      // (5/12 + 4/12 + 3/12, each rounded: 778,020.83 + 622,416.67 + 466,812.50).
      '2025-26': { n: 770, cost: '25300.00', moved: dec('778020.83').plus('622416.67').plus('466812.50') },
      '2026-27': { n: 790, cost: '25700.00', moved: moved2627 },
      // 2027-28: 80.5 moved at £25,000 all year: 80.5 x 25,000 x 5/12 + 4/12 + 3/12 = 838,541.67 + 670,833.33 + 503,125.00.
      '2027-28': { n: 805, cost: '26100.00', moved: dec('838541.67').plus('670833.33').plus('503125.00') },
    };
    let cumulative = dec(0);
    for (const [fy, h] of Object.entries(byHand)) {
      const kept = dec(h.n).times('0.9');
      expect(lineOf(fy, 'OTHER_LA_PLACEMENTS')).toBe(penny(kept.times(h.cost)));
      expect(lineOf(fy, 'SPECIAL_SCHOOLS')).toBe(dec(record[fy].SPECIAL_SCHOOLS).plus(h.moved).toFixed(2));
      const lessSpend = dec(record[fy].OTHER_LA_PLACEMENTS)
        .minus(penny(kept.times(h.cost)))
        .minus(h.moved);
      const moreIncome = dec(h.n).times('0.1').times(6000);
      const inYear = lessSpend.plus(moreIncome);
      expect({ fy, d: dec(year(fy).inYear).minus(year(fy).recordInYear).toFixed(2) }).toEqual({
        fy,
        d: inYear.toFixed(2),
      });
      cumulative = cumulative.plus(inYear);
    }
    for (const fy of ['2023-24', '2024-25'])
      expect(dec(year(fy).inYear).minus(year(fy).recordInYear).toFixed(2)).toBe('0.00');
    expect(dec(year('2027-28').cumulative).minus(year('2027-28').recordCumulative).toFixed(2)).toBe(
      cumulative.toFixed(2),
    );
    const cum = s.comparison.dsg.find((d: any) => d.key === 'CUMULATIVE' && d.period === '2027-28');
    expect(cum.difference).toBe(cumulative.toFixed(2));
    expect(
      s.comparison.blockLines.find((d: any) => d.key === 'OTHER_LA_PLACEMENTS' && d.period === '2026-27').difference,
    ).toBe('-2030300.00');
  });

  it('follows fewer imports: 10% of 1,310 is 131 pupils x £6,000 less income in 2026-27', async () => {
    const s = await scenarioWith({ importChange: '-0.10' });
    const y = s.results.years.find((x: any) => x.financialYear === '2026-27');
    // (1,179 - 1,160) x £6,000 = £114,000.00.
    expect(y.income).toMatchObject({ importedPupils: '1179', importExportAdjustment: '114000.00' });
    expect(dec(y.inYear).minus(y.recordInYear).toFixed(2)).toBe('-786000.00');
  });

  it('follows a changed import/export rate: the adjustment and the DSG position move by net imports x the change', async () => {
    const s = await scenarioWith({ importExportRate: '7000.00' });
    const y = s.results.years.find((x: any) => x.financialYear === '2026-27');
    // 150 net imports x £7,000.
    expect(y.income).toMatchObject({ importExportRate: '7000.00', importExportAdjustment: '1050000.00' });
    expect(dec(y.inYear).minus(y.recordInYear).toFixed(2)).toBe('150000.00');
  });
});

describe('bad input', () => {
  it('refuses an import/export rate out of range and an OTHER_LA share above 1 as BAD_USER_INPUT naming the parameter', async () => {
    const id = (await t.gql(CREATE, { name: 'bad' }, t.tokens.SUBGROUP)).body.data.createScenario.id;
    const bad = async (p: Record<string, unknown>) =>
      (await t.gql(UPDATE, { id, p }, t.tokens.SUBGROUP)).body.errors?.[0];
    for (const rate of ['-1.00', '20000.01']) {
      const e = await bad({ importExportRate: rate });
      expect(e.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'parameters.importExportRate',
        range: ['0', '20000'],
      });
      expect(e.message).toMatch(/importExportRate must be from 0 to 20000; got -?[\d.]+\.$/);
    }
    for (const name of ['importChange', 'exportChange']) {
      const e = await bad({ [name]: '-0.75' });
      expect(e.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: `parameters.${name}`,
        range: ['-0.5', '1'],
      });
    }
    const share = await bad({
      placementShifts: [
        { from: 'OTHER_LA', to: 'SPECIAL', share: '0.6', band: 'S3' },
        { from: 'OTHER_LA', to: 'SRP', share: '0.5', band: 'R2' },
      ],
    });
    expect(share.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'parameters.placementShifts' });
    expect(share.message).toMatch(/The shares of OTHER_LA moved add up to more than 1\.$/);
    const growth = await bad({ growthBySetting: [{ setting: 'OTHER_LA', share: '-0.6' }] });
    expect(growth.extensions).toMatchObject({ argument: 'parameters.growthBySetting', range: ['-0.5', '1'] });
    // The rate of record is versioned like every parameter: the same check.
    const rec = await t.gql(
      `mutation($p: ModelParametersInput!) { setModelParameters(effectiveFrom: "2027-04-01", parameters: $p, note: "bad rate") { version } }`,
      { p: { importExportRate: '-6000' } },
    );
    expect(rec.body.errors[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'parameters.importExportRate',
    });
  });
});

const HEADER = 'financialYear,importedPupils,exportedPupils,otherLaPlacements,otherLaUnitCost';

describe('the recoupment import', () => {
  it('refuses negative counts, a year with no DSG income and a placement count without its cost, reporting every problem and writing nothing', async () => {
    const before = await q(`SELECT * FROM dsg_income_year ORDER BY 1`);
    const r = await post(
      'recoupment',
      `${HEADER}\n2026-27,-5,1160,790,25700\n2019-20,10,10,,\n2027-28,1330,1180,805,\n2025-26,1290,abc,,\n`,
    );
    expect(r.status).toBe(400);
    expect(r.body.report.errors.map((e: any) => [e.line, e.column, e.value])).toEqual(
      expect.arrayContaining([
        [2, 'importedPupils', '-5'],
        [3, 'financialYear', '2019-20'],
        [4, 'otherLaUnitCost', ''],
        [5, 'exportedPupils', 'abc'],
      ]),
    );
    expect(r.body.report.errors.find((e: any) => e.column === 'importedPupils').reason).toBe(
      'must be a whole number, 0 or more',
    );
    expect(await q(`SELECT * FROM dsg_income_year ORDER BY 1`)).toEqual(before);
  });

  it('writes the counts and the placements with provenance and audit, and the line of record and the income follow', async () => {
    const r = await post('recoupment', `${HEADER}\n2027-28,1400,1100,700,26500.00\n`);
    expect(r.body.report?.errors ?? []).toEqual([]);
    expect(r.status).toBe(200);
    expect(r.body.report).toMatchObject({ applied: true, updated: 1 });
    const [d] = await q(
      `SELECT imported_pupils AS i, exported_pupils AS e, source_kind AS kind, source_file AS file FROM dsg_income_year WHERE financial_year_code = '2027-28'`,
    );
    expect(d).toEqual({ i: 1400, e: 1100, kind: 'IMPORTED', file: 'recoupment-2026.csv' });
    const [p] = await q(
      `SELECT placements, unit_cost AS cost, source_kind AS kind FROM placement WHERE financial_year_code = '2027-28' AND kind = 'OTHER_LA'`,
    );
    expect(p).toEqual({ placements: 700, cost: '26500.00', kind: 'IMPORTED' });
    const b = await block('2027-28');
    // 700 x £26,500 = £18,550,000.00; (1,400 - 1,100) x £6,000 = £1,800,000.00.
    expect(b.lines.find((l: any) => l.lineCode === 'OTHER_LA_PLACEMENTS').forecast).toBe('18550000.00');
    expect(b.income.importExportAdjustment).toBe('1800000.00');
    const [{ n }] = await q(
      `SELECT count(*)::int AS n FROM audit_log WHERE entity = 'IMPORT' AND reason LIKE '%recoupment-2026.csv%'`,
    );
    expect(n).toBeGreaterThan(0);
  });

  it('is Finance’s: a read-only role is refused', async () => {
    const r = await post('recoupment', `${HEADER}\n2027-28,1,1,,\n`, t.tokens.SUBGROUP);
    expect(r.status).toBe(403);
  });
});

describe('dataStatus', () => {
  it('lists the import/export pupils as one dataset and says which years lack them', async () => {
    const STATUS = `query($fy: String) { dataStatus(financialYear: $fy) { datasets { key rows missing latest { kind file } } } }`;
    const ds = async () =>
      (await t.gql(STATUS, { fy: '2026-27' })).body.data.dataStatus.datasets.find(
        (d: any) => d.key === 'import-export-pupils',
      );
    expect(await ds()).toMatchObject({
      rows: 1,
      missing: [],
      latest: { kind: 'IMPORTED', file: 'dsg-allocations.xlsx' },
    });
    await q(`UPDATE dsg_income_year SET exported_pupils = NULL WHERE financial_year_code = '2026-27'`);
    try {
      expect((await ds()).missing).toEqual([
        '2026-27: no exported pupils: the import/export adjustment is not counted',
      ]);
      // Not recorded: no adjustment counted, and the income says so.
      const b = await block('2026-27');
      expect([b.income.exportedPupils, b.income.importExportAdjustment]).toEqual([null, '0.00']);
    } finally {
      await q(`UPDATE dsg_income_year SET exported_pupils = 1160 WHERE financial_year_code = '2026-27'`);
    }
  });
});
