import ExcelJS from 'exceljs';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { startTestHub, TestHub } from '../helpers/hub';
import { giasRowOf } from '../../server/modules/imports/gias-sample';
import { SCHOOL_COLUMNS } from '../../server/modules/school/school.sql';
import { COMMANDS } from '../../server/scripts/local/commands';
import { cliViewer } from '../../server/modules/imports/command-line';
import { loadBlockDrivers } from '../../server/modules/funding/block.service';
import { splitYear } from '../../server/modules/imports/officer-files';

/**
 * The files officers hold, as the DfE publishes them: each generated here in its public layout (CSV and XLSX),
 * imported, and read back through GraphQL to the penny.
 */
let t: TestHub;
let sch: { primary: any; secondary: any; special: any; srp: any; other: any[] };

/** The one place the test hub is set up (imports write into its database). */
async function startOfficerFilesHub(): Promise<TestHub> {
  return startTestHub({ realData: true });
}

beforeAll(async () => {
  t = await startOfficerFilesHub();
  const pick = async (where: string) =>
    (await q(`SELECT ${SCHOOL_COLUMNS} FROM school s WHERE s.status = 'OPEN' AND ${where} ORDER BY s.urn LIMIT 3`))[0];
  sch = {
    primary: await pick(`s.phase = 'PRIMARY'`),
    secondary: await pick(`s.phase = 'SECONDARY'`),
    special: await pick(`s.phase = 'SPECIAL'`),
    srp: await pick(`coalesce(s.srp_capacity, 0) > 0 AND s.phase IN ('PRIMARY', 'SECONDARY')`),
    other: await q(
      `SELECT ${SCHOOL_COLUMNS} FROM school s WHERE s.status = 'OPEN' AND s.phase = 'PRIMARY' ORDER BY s.urn OFFSET 5 LIMIT 4`,
    ),
  };
}, 120_000);
afterAll(() => t?.stop());

const q = <T = any>(sql: string, params: unknown[] = []): Promise<T[]> => t.db.dataSource.query(sql, params);
async function post(pathAndQuery: string, body: Buffer | string, token: string = t.tokens.FINANCE, name = 'file') {
  const payload: BodyInit = typeof body === 'string' ? body : new Uint8Array(body);
  const res = await fetch(`${t.url}/import/${pathAndQuery}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'x-file-name': name },
    body: payload,
  });
  return { status: res.status, body: await res.json() };
}
const xlsx = async (wb: ExcelJS.Workbook) => Buffer.from(await wb.xlsx.writeBuffer());
const csvOf = (rows: (string | number)[][]) =>
  rows
    .map((r) => r.map((c) => (/[",]/.test(String(c)) ? `"${String(c).replace(/"/g, '""')}"` : String(c))).join(','))
    .join('\r\n');

// ---------------------------------------------------------------------------------------------------------------

const APT_HEADER = [
  'URN',
  'LAESTAB',
  'School Name',
  'Basic Entitlement Primary',
  'Basic Entitlement KS3',
  'Basic Entitlement KS4',
  'Primary FSM',
  'Secondary FSM',
  'Primary FSM6',
  'Secondary FSM6',
  'Primary IDACI Band F',
  'Primary IDACI Band E',
  'Primary IDACI Band B',
  'Primary Low Prior Attainment',
  'Secondary Low Prior Attainment',
  'Primary EAL',
  'Primary Mobility',
  'Minimum Per Pupil Funding',
  'Lump Sum',
  'Sparsity',
  'Split Sites',
  'PFI',
  'Basic Entitlement Total',
  'Notional SEN Budget',
];

/** An APT workbook as the DfE issues it: several sheets, the New ISB sheet with title rows above its header. */
async function aptWorkbook(rows: (string | number | null)[][], opts: { newIsb?: boolean } = {}): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.addWorksheet('Cover').addRow(['Authority Proforma Tool 2026-27']);
  wb.addWorksheet('Proforma').addRow(['Factor', 'Rate']);
  wb.addWorksheet('Inputs & Adjustments').addRow(['URN', 'NOR']);
  if (opts.newIsb ?? true) {
    const ws = wb.addWorksheet('New ISB');
    ws.addRow(['New ISB: school-level allocations']);
    ws.addRow(['Local authority 886 Kent']);
    ws.addRow([]);
    ws.addRow(APT_HEADER);
    for (const r of rows) ws.addRow(r);
  }
  wb.addWorksheet('Recoupment').addRow(['URN']);
  return xlsx(wb);
}

function aptRow(s: any, cells: Partial<Record<string, string | number>>): (string | number | null)[] {
  return APT_HEADER.map((h) =>
    h === 'URN' ? s.urn : h === 'LAESTAB' ? s.laestab : h === 'School Name' ? s.name : (cells[h] ?? null),
  );
}

async function notionalSen(urn: number, fy: string) {
  const r = await t.gql(
    `query($u: Int!, $fy: String!) { school(urn: $u) { notionalSenBudget(financialYear: $fy) { total factors { factor formulaAmount senPercentage senAmount source { kind file by } } } } }`,
    { u: urn, fy },
  );
  expect(r.body.errors).toBeUndefined();
  return r.body.data.school.notionalSenBudget;
}

describe("apt-budgets: school budgets in the APT's layout", () => {
  it('derives the notional SEN lines from the New ISB sheet with the percentages of record, and reports where the APT disagrees', async () => {
    const [rec] = await q(`SELECT count(*)::int AS n FROM model_parameter_set`);
    expect(rec.n).toBeGreaterThanOrEqual(0);
    const file = await aptWorkbook([
      aptRow(sch.primary, {
        'Basic Entitlement Primary': 798835.8,
        'Primary FSM': 17327.8,
        'Primary FSM6': 38166.48,
        'Primary IDACI Band F': 4935.84,
        'Primary IDACI Band E': 13682.4,
        'Primary IDACI Band B': 1040.18,
        'Primary Low Prior Attainment': 67557.59,
        'Primary EAL': 694.28,
        'Minimum Per Pupil Funding': 1234.5678, // Excel's unrounded formula result
        'Lump Sum': 145124.67,
        'Basic Entitlement Total': 798835.8,
        'Notional SEN Budget': 160637.14,
      }),
      aptRow(sch.secondary, {
        'Basic Entitlement KS3': 500000,
        'Basic Entitlement KS4': 300000,
        'Secondary FSM6': 10000.01,
        'Secondary Low Prior Attainment': 2000,
        'Notional SEN Budget': 49012.35,
      }),
      [null, null, 'Total', 1298835.8, 500000, 300000],
    ]);
    const r = await post('apt-budgets?financialYear=2026-27', file, t.tokens.FINANCE, 'APT 2026-27.xlsx');
    expect(r.body.errors).toBeUndefined();
    expect(r.status).toBe(200);
    const rep = r.body.report;
    expect(rep).toMatchObject({ applied: true, format: 'xlsx', rejected: 0, errorCount: 0 });
    expect(rep.details).toMatchObject({
      sheet: 'New ISB',
      headerLine: 4,
      schools: 2,
      financialYears: ['2026-27'],
      checked: 2,
      factorsWithoutColumn: [],
      roundedCells: 1,
      skipped: [{ line: 7, reason: 'no URN or LAESTAB (a total or note row)' }],
      otherFactorColumns: ['Primary EAL', 'Lump Sum', 'Sparsity', 'Split Sites', 'PFI', 'Basic Entitlement Total'],
      factorColumns: {
        BASIC_ENTITLEMENT: ['Basic Entitlement Primary', 'Basic Entitlement KS3', 'Basic Entitlement KS4'],
        DEPRIVATION: [
          'Primary FSM',
          'Secondary FSM',
          'Primary IDACI Band F',
          'Primary IDACI Band E',
          'Primary IDACI Band B',
        ],
        FSM_EVER6: ['Primary FSM6', 'Secondary FSM6'],
      },
    });
    expect(rep.details.differences).toEqual({
      count: 1,
      items: [
        {
          line: 6,
          schoolUrn: sch.secondary.urn,
          schoolName: sch.secondary.name,
          fileNotionalSen: '49012.35',
          derivedNotionalSen: '49000.01',
          difference: '12.34',
        },
      ],
    });
    const a = await notionalSen(sch.primary.urn, '2026-27');
    expect(a.total).toBe('160637.14');
    const by = Object.fromEntries(
      a.factors.map((f: any) => [f.factor, [f.formulaAmount, f.senPercentage, f.senAmount]]),
    );
    expect(by).toEqual({
      BASIC_ENTITLEMENT: ['798835.80', '0.05', '39941.79'],
      DEPRIVATION: ['36986.22', '0.7', '25890.35'],
      FSM_EVER6: ['38166.48', '0.7', '26716.54'],
      LOW_PRIOR_ATTAINMENT: ['67557.59', '1', '67557.59'],
      MOBILITY: ['0.00', '0.7', '0.00'],
      MINIMUM_PER_PUPIL_MFG: ['1234.57', '0.43', '530.87'],
    });
    expect(a.factors[0].source).toEqual({ kind: 'IMPORTED', file: 'APT 2026-27.xlsx', by: 'Demo finance officer' });
    expect((await notionalSen(sch.secondary.urn, '2026-27')).total).toBe('49000.01');
    const [audit] = await q(`SELECT count(*)::int AS n FROM audit_log WHERE entity = 'IMPORT' AND entity_id LIKE $1`, [
      `apt-budgets:${sch.primary.urn}|2026-27|%`,
    ]);
    expect(audit.n).toBeGreaterThan(0);
  });

  it('reads a CSV of the sheet with a Financial Year column, and a second import of the same file changes nothing', async () => {
    const csv = csvOf([
      [
        'URN',
        'Financial Year',
        'Basic Entitlement Primary (£)',
        'Primary FSM6 (£)',
        'Notional SEN Budget (£)',
        'FSM % Primary',
      ],
      [sch.other[0].urn, '2027-28', '100000.00', '1000.00', '5700.00', '23.5'],
    ]);
    const r1 = await post('apt-budgets', csv);
    expect(r1.status).toBe(200);
    expect(r1.body.report.details).toMatchObject({
      notionalSenColumn: 'Notional SEN Budget (£)',
      checked: 1,
      differences: { count: 0 },
      otherFactorColumns: ['FSM % Primary'],
    });
    expect(r1.body.report.details.factorsWithoutColumn).toEqual([
      'DEPRIVATION',
      'MOBILITY',
      'LOW_PRIOR_ATTAINMENT',
      'MINIMUM_PER_PUPIL_MFG',
    ]);
    const r2 = await post('apt-budgets', csv);
    expect(r2.body.report).toMatchObject({ applied: false, created: 0, updated: 0 });
    const b = await notionalSen(sch.other[0].urn, '2027-28');
    expect(b.factors.find((f: any) => f.factor === 'BASIC_ENTITLEMENT').senAmount).toBe('5000.00');
  });

  it('refuses the whole file for bad rows, naming line, column, value and reason, and writes none of it', async () => {
    const before = await notionalSen(sch.other[1].urn, '2026-27');
    const csv = csvOf([
      ['URN', 'LAESTAB', 'Basic Entitlement Primary', 'Primary FSM6'],
      [sch.other[1].urn, sch.other[1].laestab, '1000.00', '10.00'],
      ['999999', '', '1000.00', ''],
      ['', '2012001', '1000.00', ''],
      [sch.other[2].urn, '', 'twelve', '-5'],
      [sch.other[1].urn, '', '5.00', ''],
    ]);
    const r = await post('apt-budgets?financialYear=2026-27', csv);
    expect(r.status).toBe(400);
    expect(r.body.report.errors.map((e: any) => [e.line, e.column, e.value, e.reason])).toEqual([
      [3, 'URN', '999999', 'is not a school in the hub (import the GIAS register first)'],
      [4, 'LAESTAB', '2012001', "belongs to LA 201, not this hub's (886, Kent)"],
      [5, 'Basic Entitlement Primary', 'twelve', expect.stringMatching(/^is not an amount of pounds and pence/)],
      [5, 'Primary FSM6', '-5', expect.stringMatching(/is negative/)],
      [6, 'URN', String(sch.other[1].urn), 'the same school and year appear twice, on lines 2 and 6: keep one'],
    ]);
    expect(await notionalSen(sch.other[1].urn, '2026-27')).toEqual(before);
  });

  it('says what a wrong file looks like: a GIAS file, an APT without its New ISB sheet, no year', async () => {
    const schools = await q(`SELECT ${SCHOOL_COLUMNS} FROM school s ORDER BY urn LIMIT 3`);
    const rows = schools.map((s) => giasRowOf(s));
    const gias = csvOf([Object.keys(rows[0]), ...rows.map((r) => Object.values(r) as string[])]);
    const g = await post('apt-budgets?financialYear=2026-27', gias);
    expect(g.status).toBe(400);
    expect(g.body.errors[0].message).toMatch(
      /^This is not a file the apt-budgets import reads: it looks like a GIAS establishment file \(edubasealldata…csv\), which npm run import:gias or POST \/import\/gias reads\. Expected the APT's "New ISB" sheet/,
    );
    const noSheet = await post('apt-budgets?financialYear=2026-27', await aptWorkbook([], { newIsb: false }));
    expect(noSheet.status).toBe(400);
    expect(noSheet.body.errors[0].message).toMatch(
      /it looks like an Authority Proforma Tool workbook \(sheets Cover, Proforma, Inputs & Adjustments, Recoupment\)\. Expected .*the workbook has no "New ISB" sheet/,
    );
    const noYear = await post(
      'apt-budgets',
      csvOf([
        ['URN', 'Basic Entitlement Primary'],
        [sch.primary.urn, '1.00'],
      ]),
    );
    expect(noYear.status).toBe(400);
    expect(noYear.body.errors[0].message).toMatch(
      /no "Financial Year" column: say which financial year .*financialYear=2025-26/,
    );
    const badOption = await post(
      'apt-budgets?financialYear=2026',
      csvOf([
        ['URN', 'Basic Entitlement Primary'],
        [sch.primary.urn, '1.00'],
      ]),
    );
    expect(badOption.status).toBe(400);
    expect(badOption.body.errors[0].message).toBe(
      'The option financialYear="2026" is not a financial year such as 2025-26.',
    );
  });

  it("says what a published file given to one of the hub's template imports looks like", async () => {
    const schools = await q(`SELECT ${SCHOOL_COLUMNS} FROM school s ORDER BY urn LIMIT 2`);
    const rows = schools.map((s) => giasRowOf(s));
    const gias = csvOf([Object.keys(rows[0]), ...rows.map((r) => Object.values(r) as string[])]);
    const r = await post('community-pots', gias);
    expect(r.status).toBe(400);
    expect(r.body.errors[0].message).toMatch(
      /^The file lacks the columns "communityCode", "term", "amount" .* It looks like a GIAS establishment file \(edubasealldata…csv\), which npm run import:gias or POST \/import\/gias reads\.$/,
    );
    const s251 = await post('hn-block-lines', csvOf([S251_HEADER]));
    expect(s251.body.errors[0].message).toMatch(
      /It looks like an S251 budget file from the statistics service, which the s251 import reads\.$/,
    );
  });

  it('refuses an analyst, and gives a template with the APT headings', async () => {
    const r = await post(
      'apt-budgets?financialYear=2026-27',
      csvOf([
        ['URN', 'Basic Entitlement Primary'],
        [sch.primary.urn, '1.00'],
      ]),
      t.tokens.ANALYST,
    );
    expect(r.status).toBe(403);
    const res = await fetch(`${t.url}/import/templates/apt-budgets.xlsx`, {
      headers: { authorization: `Bearer ${t.tokens.ANALYST}` },
    });
    expect(res.status).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await res.arrayBuffer()) as unknown as ArrayBuffer);
    const header = (wb.getWorksheet('Data')!.getRow(1).values as string[]).slice(1);
    expect(header.slice(0, 7)).toEqual([
      'URN',
      'LAESTAB',
      'School Name',
      'Financial Year',
      'Basic Entitlement Primary',
      'Basic Entitlement KS3',
      'Basic Entitlement KS4',
    ]);
    expect(header).toContain('Primary IDACI Band A');
    expect(header.at(-1)).toBe('Notional SEN Budget');
  });
});

// ---------------------------------------------------------------------------------------------------------------

const S251_HEADER = [
  'time_period',
  'time_identifier',
  'geographic_level',
  'country_code',
  'country_name',
  'region_code',
  'region_name',
  'old_la_code',
  'new_la_code',
  'la_name',
  'main_category_planned_expenditure',
  'category_of_planned_expenditure',
  'early_years_establishments',
  'primary_schools',
  'secondary_schools',
  'sen_and_special_schools',
  'pupil_referral_units_and_alt_provision',
  'post_16',
  'gross_planned_expenditure',
  'income',
  'net_planned_expenditure',
  'net_per_capita_planned_expenditure',
];

function s251Row(
  tp: string,
  level: string,
  la: [string, string, string],
  category: string,
  phases: (string | number)[],
  gross: string | number,
  income: string | number,
  net: string | number,
): (string | number)[] {
  return [
    tp,
    'Financial year',
    level,
    'E92000001',
    'England',
    level === 'National' ? '' : 'E12000008',
    level === 'National' ? '' : 'South East',
    la[0],
    la[1],
    la[2],
    'Section A: Schools',
    category,
    ...phases,
    gross,
    income,
    net,
    'x',
  ];
}

const KENT: [string, string, string] = ['886', 'E10000016', 'Kent'];
const CITY: [string, string, string] = ['201', 'E09000001', 'City of London'];

async function block(fy: string) {
  const r = await t.gql(
    `query($fy: String!) { highNeedsBlock(financialYear: $fy) { lines { lineCode budget forecast outturn source { kind file } } } }`,
    { fy },
  );
  expect(r.body.errors).toBeUndefined();
  return new Map<string, any>(r.body.data.highNeedsBlock.lines.map((l: any) => [l.lineCode, l]));
}

describe("s251: budget and outturn lines in the statistics service's long format", () => {
  it("maps the authority's high-needs lines to the block's lines, by phase where the phases belong to different lines, and reports the rest", async () => {
    const before = await block('2026-27');
    const csv = csvOf([
      [...S251_HEADER, 'forecast'],
      [
        ...s251Row(
          '202627',
          'National',
          ['', '', ''],
          '1.2.1 Top-up funding – maintained schools',
          [1, 2, 3, 4, 5, 6],
          21,
          0,
          21,
        ),
        '',
      ],
      [
        ...s251Row(
          '202627',
          'Local authority',
          CITY,
          '1.2.1 Top-up funding – maintained schools',
          [1, 2, 3, 4, 5, 6],
          21,
          0,
          21,
        ),
        '',
      ],
      [
        ...s251Row(
          '202627',
          'Local authority',
          KENT,
          '1.0.1 Individual Schools Budget, before Academy recoupment',
          ['x', 'x', 'x', 'x', 'x', 'x'],
          1e9,
          0,
          1e9,
        ),
        '',
      ],
      [
        ...s251Row(
          '202627',
          'Local authority',
          KENT,
          '1.0.2 High needs place funding within Individual Schools Budget, including all pre- and post-16 place funding for maintained schools and academies',
          [0, '1200000.00', '800000.00', '30000000.00', '4000000.00', '500000.00'],
          '36500000.00',
          0,
          '36500000.00',
        ),
        '',
      ],
      [
        ...s251Row(
          '202627',
          'Local authority',
          KENT,
          '1.2.1 Top-up funding – maintained schools',
          ['100000.00', '9000000.00', '6000000.00', '20000000.00', '3000000.00', '250000.50'],
          '38350000.50',
          '-1350000.00',
          '37000000.50',
        ),
        '',
      ],
      [
        ...s251Row(
          '202627',
          'Local authority',
          KENT,
          '1.2.5 SEN support service',
          ['x', 'x', 'x', 'x', 'x', 'x'],
          '7500000.00',
          '-500000.00',
          '7000000.00',
        ),
        '7250000.25',
      ],
      [
        ...s251Row(
          '202627',
          'Local authority',
          KENT,
          '1.2.6 Hospital education services',
          ['x', 'x', 'x', 'x', 'x', 'x'],
          'x',
          'x',
          'x',
        ),
        '',
      ],
      [
        ...s251Row(
          '202627',
          'Local authority',
          KENT,
          '1.2.11 Direct payments (SEN and disability)',
          ['x', 'x', 'x', 'x', 'x', 'x'],
          '300000.00',
          0,
          '300000.00',
        ),
        '',
      ],
      [
        ...s251Row(
          '201516',
          'Local authority',
          KENT,
          '1.2.5 SEN support service',
          ['x', 'x', 'x', 'x', 'x', 'x'],
          1,
          0,
          1,
        ),
        '',
      ],
    ]);
    const r = await post('s251', csv, t.tokens.FINANCE, 'schools_othereducation_la_unrounded_data.csv');
    expect(r.status).toBe(200);
    const d = r.body.report.details;
    expect(d).toMatchObject({
      measure: 'BUDGET',
      la: 886,
      financialYears: ['2026-27'],
      otherSections: { count: 1, codes: ['1.0.1'] },
      skipped: { notRead: 2, otherAuthorities: 0, yearsNotHeld: { '2015-16': 1 } },
    });
    expect(d.notImported.items).toEqual([
      {
        line: 8,
        financialYear: '2026-27',
        code: '1.2.6',
        description: 'Hospital education services',
        net: null,
        reason: 'no net amount ("x": suppressed or not collected)',
      },
      {
        line: 9,
        financialYear: '2026-27',
        code: '1.2.11',
        description: 'Direct payments (SEN and disability)',
        net: '300000.00',
        reason: 'no block line',
      },
    ]);
    const lines = Object.fromEntries(d.blockLines.map((l: any) => [l.lineCode, l.amount]));
    expect(lines).toEqual({
      RESOURCED_PROVISION: '2000000.00',
      SPECIAL_SCHOOLS: '50000000.00',
      ALTERNATIVE_PROVISION: '7000000.00',
      POST_16: '750000.50',
      EARLY_YEARS_SEN: '100000.00',
      MAINSTREAM_TOP_UPS: '13650000.00',
      CENTRAL_SEN_SERVICES: '7000000.00',
    });
    const after = await block('2026-27');
    expect(after.get('SPECIAL_SCHOOLS')).toMatchObject({
      budget: '50000000.00',
      source: { kind: 'IMPORTED', file: 'schools_othereducation_la_unrounded_data.csv' },
    });
    expect(after.get('MAINSTREAM_TOP_UPS').budget).toBe('13650000.00');
    expect(after.get('CENTRAL_SEN_SERVICES')).toMatchObject({ budget: '7000000.00', forecast: '7250000.25' });
    // A line the file had no figure for keeps what it had.
    expect(after.get('HOSPITAL_EDUCATION')?.budget).toBe(before.get('HOSPITAL_EDUCATION')?.budget);
    const total = Object.values(lines).reduce((s: number, v: any) => s + Math.round(Number(v) * 100), 0);
    expect(total).toBe(Math.round((36500000 + 37000000.5 + 7000000) * 100));
  });

  it('reads the national file for the authority alone: every other authority and year is left out as it is parsed', async () => {
    const rows: (string | number)[][] = [S251_HEADER];
    for (let la = 201; la < 201 + 150; la++)
      for (let line = 1; line <= 13; line++)
        for (const tp of ['202425', '202526', '202627'])
          rows.push(
            s251Row(
              tp,
              'Local authority',
              [String(la), `E0900${la}`, `Authority ${la}`],
              `1.2.${line} Line ${line}`,
              [1, 1, 1, 1, 1, 1],
              6,
              0,
              6,
            ),
          );
    rows.push(
      s251Row(
        '202627',
        'Local authority',
        KENT,
        '1.2.6 Hospital education services',
        ['x', 'x', 'x', 'x', 'x', 'x'],
        '2500000.00',
        0,
        '2500000.00',
      ),
    );
    const csv = csvOf(rows);
    expect(csv.length).toBeGreaterThan(900_000);
    const r = await post('s251?financialYear=2026-27', csv);
    expect(r.status).toBe(200);
    expect(r.body.report.details.skipped.notRead).toBe(150 * 13 * 3);
    expect(r.body.report.details.blockLines.map((l: any) => [l.lineCode, l.amount])).toEqual([
      ['HOSPITAL_EDUCATION', '2500000.00'],
    ]);
    expect((await block('2026-27')).get('HOSPITAL_EDUCATION').budget).toBe('2500000.00');
  });

  it('puts an outturn file onto the lines, and refuses outturn for a year with no budget yet', async () => {
    const header = S251_HEADER.map((h) =>
      h === 'main_category_planned_expenditure'
        ? 'main_category'
        : h === 'category_of_planned_expenditure'
          ? 'category_of_expenditure'
          : h.replace('_planned_expenditure', '_expenditure'),
    );
    const ok = csvOf([
      header,
      s251Row(
        '202627',
        'Local authority',
        KENT,
        '1.2.5 SEN support service',
        ['x', 'x', 'x', 'x', 'x', 'x'],
        '7600000.00',
        '-400000.00',
        '7200000.10',
      ),
    ]);
    const r = await post('s251', ok);
    expect(r.status).toBe(200);
    expect(r.body.report.details.measure).toBe('OUTTURN');
    expect((await block('2026-27')).get('CENTRAL_SEN_SERVICES')).toMatchObject({
      budget: '7000000.00',
      outturn: '7200000.10',
    });
    await q(
      `DELETE FROM high_needs_block_line WHERE financial_year_code = '2027-28' AND line_code = 'HOSPITAL_EDUCATION'`,
    );
    const none = csvOf([
      header,
      s251Row(
        '202728',
        'Local authority',
        KENT,
        '1.2.6 Hospital education services',
        ['x', 'x', 'x', 'x', 'x', 'x'],
        '1.00',
        0,
        '1.00',
      ),
    ]);
    const r2 = await post('s251', none);
    expect(r2.status).toBe(400);
    expect(r2.body.report.errors).toEqual([
      {
        line: 2,
        column: 'category_of_expenditure',
        value: '1.2.6 Hospital education services',
        reason:
          "2027-28 has no HOSPITAL_EDUCATION block line yet to put the outturn on: import the year's S251 budget first",
      },
    ]);
  });

  it('reads amounts in thousands by the one money parser: a comma out of place refused as the templates refuse it, whatever the units', async () => {
    const before = await block('2026-27');
    const line = (net: string) =>
      s251Row(
        '202627',
        'Local authority',
        KENT,
        '1.2.1 Top-up funding – maintained schools',
        ['x', 'x', 'x', 'x', 'x', 'x'],
        1,
        0,
        net,
      );
    const r = await post('s251?units=THOUSANDS', csvOf([S251_HEADER, line('12,50'), line('1,2,3'), line('2,500.5')]));
    expect(r.status).toBe(400);
    const comma =
      'is not an amount of pounds and pence: it has a comma that is not a thousands separator (groups of three digits, as in 1,250.00). Write it as 1250.00 or 1,250.00.';
    expect(
      r.body.report.errors
        .filter((e: any) => e.column === 'net_planned_expenditure')
        .map((e: any) => [e.line, e.value, e.reason]),
    ).toEqual([
      [2, '12,50', comma],
      [3, '1,2,3', comma],
    ]);
    expect(await block('2026-27')).toEqual(before);
  });

  it("refuses a file with no rows for the hub's authority, and one that is not an S251 file", async () => {
    const r = await post(
      's251',
      csvOf([
        S251_HEADER,
        s251Row(
          '202627',
          'Local authority',
          CITY,
          '1.2.5 SEN support service',
          ['x', 'x', 'x', 'x', 'x', 'x'],
          1,
          0,
          1,
        ),
      ]),
    );
    expect(r.status).toBe(400);
    expect(r.body.errors[0].message).toMatch(
      /^The file has no rows for this hub's authority \(LA 886, Kent\): it holds 1 rows for other authorities, regions or England\./,
    );
    const apt = await post(
      's251',
      csvOf([
        ['URN', 'Basic Entitlement Primary'],
        [sch.primary.urn, '1.00'],
      ]),
    );
    expect(apt.status).toBe(400);
    expect(apt.body.errors[0].message).toMatch(
      /it looks like a school-level budget sheet in the APT's layout, which the apt-budgets import reads/,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe("place-numbers: high needs places in the DfE's per-institution layout", () => {
  const H = {
    pre16: '2026 to 2027 special schools and academies - pre-16 SEN places',
    post16: '2026 to 2027 special schools and academies - post-16 SEN places',
    ap: '2026 to 2027 free schools and academies - pre-16 AP places',
    rp6: '2026 to 2027 mainstream academies and free schools - pre-16 SEN Unit/RP Places (@£6k)',
    rp10: '2026 to 2027 mainstream academies and free schools - pre-16 SEN Unit/RP Places (@£10k)',
    deduction: '2026 to 2027 special schools and academies - SEN places deduction (£s)',
  };

  async function places(urn: number, ay: string) {
    const r = await t.gql(
      `query($u: Int!, $ay: String!) { school(urn: $u) { placeNumbers(academicYear: $ay) { placeType places source { kind file } } } }`,
      { u: urn, ay },
    );
    expect(r.body.errors).toBeUndefined();
    return Object.fromEntries(
      r.body.data.school.placeNumbers.map((p: any) => [p.placeType, [p.places, p.source.kind]]),
    );
  }

  it('imports the High_Needs_Places sheet for the authority, and the block model reads the places', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('High_Needs_Places');
    ws.addRow(['High needs place numbers: 2026 to 2027 academic year']);
    ws.addRow(['Published by the DfE']);
    ws.addRow([]);
    ws.addRow([
      'UKPRN',
      'URN',
      'LAESTAB',
      'LA code',
      'Institution name',
      H.pre16,
      H.post16,
      H.ap,
      H.rp6,
      H.rp10,
      H.deduction,
    ]);
    ws.addRow([null, sch.special.urn, sch.special.laestab, 886, sch.special.name, 120, 30, 4, null, null, 1500000]);
    ws.addRow([null, sch.srp.urn, sch.srp.laestab, 886, sch.srp.name, null, null, null, 12, 3, 0]);
    ws.addRow([10099999, 100999, 2014000, 201, 'A City school', 50, 0, 0, 0, 0, 500000]);
    ws.addRow([10012345, null, null, 886, 'Kent Further Education College', 0, 40, 0, 0, 0, 0]);
    const r = await post('place-numbers', await xlsx(wb), t.tokens.FINANCE, 'high-needs-places-2026-to-2027.xlsx');
    expect(r.status).toBe(200);
    expect(r.body.report.details).toMatchObject({
      academicYear: '2026/27',
      totals: { SPECIAL_PRE16: 120, SPECIAL_POST16: 30, AP: 4, SRP: 15 },
      institutions: 2,
      otherAuthorities: 1,
      notHeld: {
        count: 1,
        items: [
          {
            line: 8,
            reason:
              'UKPRN 10012345 is not a school the hub holds (colleges and independent providers are not held): its places are not imported',
          },
        ],
      },
      columns: { SRP: [H.rp6, H.rp10] },
    });
    expect(await places(sch.special.urn, '2026/27')).toEqual({
      AP: [4, 'IMPORTED'],
      SPECIAL_POST16: [30, 'IMPORTED'],
      SPECIAL_PRE16: [120, 'IMPORTED'],
      SRP: [0, 'IMPORTED'],
    });
    expect((await places(sch.srp.urn, '2026/27')).SRP).toEqual([15, 'IMPORTED']);
    const drivers = await loadBlockDrivers(t.db.dataSource.manager);
    expect(drivers.places.get(`${sch.special.urn}|2026/27`)).toEqual({
      AP: 4,
      SPECIAL_POST16: 30,
      SPECIAL_PRE16: 120,
      SRP: 0,
    });
  });

  it('is what a scenario funds: three more pre-16 places cost £10,000 a place for the 7 months of 2026/27 in 2026-27', async () => {
    const special = async () => {
      const id = (await t.gql('mutation { createScenario(name: "places") { id } }', {}, t.tokens.SUBGROUP)).body.data
        .createScenario.id;
      const r = await t.gql(
        `query($id: String!) { scenario(id: $id) { results { years { financialYear lines { lineCode amount } } } } }`,
        { id },
        t.tokens.SUBGROUP,
      );
      expect(r.body.errors).toBeUndefined();
      const y = r.body.data.scenario.results.years.find((x: any) => x.financialYear === '2026-27');
      return y.lines.find((l: any) => l.lineCode === 'SPECIAL_SCHOOLS').amount as string;
    };
    const before = await special();
    const [{ places }] = await q(
      `SELECT places FROM place_number WHERE school_urn = $1 AND academic_year_code = '2026/27' AND place_type = 'SPECIAL_PRE16'`,
      [sch.special.urn],
    );
    const r = await post(
      'place-numbers?academicYear=2026/27',
      csvOf([
        ['URN', 'Pre-16 SEN places'],
        [sch.special.urn, String(places + 3)],
      ]),
    );
    expect(r.status).toBe(200);
    const after = await special();
    expect(Math.round((Number(after) - Number(before)) * 100)).toBe(1750000);
  });

  it('takes the plain headings with an academicYear option, and refuses bad counts and an unknown year', async () => {
    const csv = csvOf([
      ['URN', 'Pre-16 SEN places', 'Post-16 SEN places', 'AP places', 'SEN unit and resourced provision places'],
      [sch.special.urn, '10', '2.5', '', 'many'],
    ]);
    const r = await post('place-numbers?academicYear=2026/27', csv);
    expect(r.status).toBe(400);
    expect(r.body.report.errors.map((e: any) => [e.line, e.column, e.value])).toEqual([
      [2, 'Post-16 SEN places', '2.5'],
      [2, 'SEN unit and resourced provision places', 'many'],
    ]);
    const wrongYear = await post('place-numbers?academicYear=2040/41', csv);
    expect(wrongYear.status).toBe(400);
    expect(wrongYear.body.report.errors[0].reason).toMatch(/^is not an academic year the hub holds/);
    const noYear = await post('place-numbers', csv);
    expect(noYear.body.errors[0].message).toMatch(/academicYear option/);
  });

  it('answers for a page of schools in one batch, whichever read path the hub takes', async () => {
    const r = await t.gql(
      `{ schools(first: 200, filter: { phase: [SPECIAL] }) { nodes { urn placeNumbers(academicYear: "2026/27") { placeType places } } } }`,
    );
    expect(r.body.errors).toBeUndefined();
    const mine = r.body.data.schools.nodes.find((n: any) => n.urn === sch.special.urn);
    expect(mine.placeNumbers.find((p: any) => p.placeType === 'AP')).toEqual({ placeType: 'AP', places: 4 });
  });

  it('refuses an unknown academic year in GraphQL', async () => {
    const r = await t.gql(`{ school(urn: ${sch.special.urn}) { placeNumbers(academicYear: "1999/00") { places } } }`);
    expect(r.body.errors[0].message).toMatch(/Unknown academic year "1999\/00"\. Valid years: 2023\/24, /);
    expect(r.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('baselines-by-year: a year split into funding terms by their months', () => {
  async function baselines(urn: number, terms: string[]) {
    const out: Record<string, string | null> = {};
    for (const term of terms) {
      const r = await t.gql(`query($u: Int!, $t: String!) { school(urn: $u) { funding(term: $t) { baseline } } }`, {
        u: urn,
        t: term,
      });
      out[term] = r.body.data.school.funding?.baseline ?? null;
    }
    return out;
  }

  it('splits exactly to the penny, residue to the largest remainders, and shows the split', () => {
    expect(
      splitYear('1000.00', [
        { code: 'SUMMER-2026', months: 5 },
        { code: 'AUTUMN-2026', months: 4 },
        { code: 'SPRING-2027', months: 3 },
      ]),
    ).toEqual([
      { term: 'SUMMER-2026', months: 5, amount: '416.67' },
      { term: 'AUTUMN-2026', months: 4, amount: '333.33' },
      { term: 'SPRING-2027', months: 3, amount: '250.00' },
    ]);
    // 0.01 cannot split: the one penny goes to the largest share.
    expect(
      splitYear('0.01', [
        { code: 'A', months: 4 },
        { code: 'B', months: 3 },
        { code: 'C', months: 5 },
      ]).map((x) => x.amount),
    ).toEqual(['0.00', '0.00', '0.01']);
  });

  it('imports financial and academic years, writes the terms as the baseline import does, and reports each split', async () => {
    const [a, b] = sch.other;
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Data');
    ws.addRow(['URN', 'Financial year', 'Academic year', 'Baseline']);
    ws.addRow([a.urn, '2026-27', null, 1000]);
    ws.addRow([b.urn, null, '2026/27', 100.01]);
    const r = await post('baselines-by-year', await xlsx(wb), t.tokens.FINANCE, 'baselines.xlsx');
    expect(r.status).toBe(200);
    expect(r.body.report.details.splits.items).toEqual([
      {
        line: 2,
        schoolUrn: a.urn,
        year: '2026-27',
        amount: '1000.00',
        terms: [
          { term: 'SUMMER-2026', months: 5, amount: '416.67' },
          { term: 'AUTUMN-2026', months: 4, amount: '333.33' },
          { term: 'SPRING-2027', months: 3, amount: '250.00' },
        ],
      },
      {
        line: 3,
        schoolUrn: b.urn,
        year: '2026/27',
        amount: '100.01',
        terms: [
          { term: 'AUTUMN-2026', months: 4, amount: '33.34' },
          { term: 'SPRING-2027', months: 3, amount: '25.00' },
          { term: 'SUMMER-2027', months: 5, amount: '41.67' },
        ],
      },
    ]);
    expect(await baselines(a.urn, ['SUMMER-2026', 'AUTUMN-2026', 'SPRING-2027'])).toEqual({
      'SUMMER-2026': '416.67',
      'AUTUMN-2026': '333.33',
      'SPRING-2027': '250.00',
    });
    expect(await baselines(b.urn, ['AUTUMN-2026', 'SPRING-2027', 'SUMMER-2027'])).toEqual({
      'AUTUMN-2026': '33.34',
      'SPRING-2027': '25.00',
      'SUMMER-2027': '41.67',
    });
    const [src] = await q(
      `SELECT source_kind AS kind, source_file AS file FROM school_term_funding WHERE school_urn = $1 AND term_code = 'AUTUMN-2026'`,
      [a.urn],
    );
    expect(src).toEqual({ kind: 'IMPORTED', file: 'baselines.xlsx' });
  });

  it('refuses a term given twice (a financial and an academic year overlap), a year the hub does not hold, and a fraction of a penny', async () => {
    const [a, b, c] = sch.other;
    const csv = csvOf([
      ['schoolUrn', 'financialYear', 'academicYear', 'baseline'],
      [a.urn, '2026-27', '', '1200.00'],
      [a.urn, '', '2026/27', '1200.00'],
      [b.urn, '2031-32', '', '1.00'],
      [c.urn, '2026-27', '', '10.005'],
    ]);
    const r = await post('baselines-by-year', csv);
    expect(r.status).toBe(400);
    expect(r.body.report.errors.map((e: any) => [e.line, e.column, e.reason])).toEqual([
      [3, 'academicYear', `AUTUMN-2026 of URN ${a.urn} also comes from line 2: give each term's baseline once`],
      [4, 'financialYear', expect.stringMatching(/^is not a financial year the hub holds/)],
      [5, 'baseline', 'has more than two decimal places: give the baseline to the penny'],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('callers and options the imports refuse', () => {
  const apt = () =>
    csvOf([
      ['URN', 'Basic Entitlement Primary'],
      [sch.other[3].urn, '3000.00'],
    ]);

  it('refuses a Chair and a sub-group member, and writes nothing', async () => {
    for (const token of [t.tokens.CHAIR, t.tokens.SUBGROUP]) {
      const r = await post(
        'place-numbers?academicYear=2026/27',
        csvOf([
          ['URN', 'AP places'],
          [sch.special.urn, '99'],
        ]),
        token,
      );
      expect(r.status).toBe(403);
    }
    const [p] = await q(
      `SELECT places FROM place_number WHERE school_urn = $1 AND academic_year_code = '2026/27' AND place_type = 'AP'`,
      [sch.special.urn],
    );
    expect(p?.places).not.toBe(99);
  });

  it('refuses an option the kind does not take, and a units value it does not know', async () => {
    const r = await post('apt-budgets?financialYear=2026-27&academicYear=2026/27', apt());
    expect(r.status).toBe(400);
    expect(r.body.errors[0].message).toMatch(/academicYear/);
    const u = await post('s251?units=BILLIONS', 'time_period\n');
    expect(u.status).toBe(400);
    expect(u.body.errors[0].message).toMatch(/is not one of POUNDS, THOUSANDS, MILLIONS/);
  });

  it('reports a dry run in full and writes nothing', async () => {
    const before = await notionalSen(sch.other[3].urn, '2027-28');
    const r = await post('apt-budgets?financialYear=2027-28&dryRun=TRUE', apt());
    expect(r.status).toBe(200);
    expect(r.body.report).toMatchObject({ dryRun: true, applied: false });
    expect(r.body.report.created + r.body.report.updated).toBe(1);
    expect(r.body.report.details.schools).toBe(1);
    expect(await notionalSen(sch.other[3].urn, '2027-28')).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('any file at all', () => {
  it('gets a report or a 400, never a 500, whatever the headings and cells (and writes nothing when dry)', async () => {
    const headings = [
      'URN',
      'LAESTAB',
      'UKPRN',
      'LA code',
      'Financial Year',
      'Academic year',
      'schoolUrn',
      'financialYear',
      'academicYear',
      'baseline',
      'Basic Entitlement Primary',
      'KS3',
      'Primary FSM6',
      'Primary IDACI Band A',
      'Notional SEN Budget',
      'Lump Sum',
      'Pre-16 SEN places',
      'AP places',
      '2026 to 2027 special schools and academies - post-16 SEN places',
      ...S251_HEADER,
      'forecast',
    ];
    const cell = fc.oneof(
      fc.constantFrom(
        '',
        'x',
        'c',
        ':',
        '0',
        '-1',
        '1.005',
        '1,000.00',
        '£5',
        '2026-27',
        '2026/27',
        '202627',
        '8862001',
        '2012001',
        'Kent',
        'Local authority',
        '1.2.1 Top-up',
        '1.2.99 New line',
        '=A1',
      ),
      fc.constant(String(sch.primary.urn)),
      fc.constant(String(sch.special.urn)),
      fc.string({ maxLength: 12 }),
    );
    const file = fc
      .uniqueArray(fc.constantFrom(...headings), { minLength: 1, maxLength: 8 })
      .chain((h) =>
        fc.tuple(
          fc.constant(h),
          fc.array(fc.array(cell, { minLength: h.length, maxLength: h.length }), { maxLength: 4 }),
        ),
      );
    const kinds = fc.constantFrom('apt-budgets', 's251', 'place-numbers', 'baselines-by-year');
    const audits = async () => (await q(`SELECT count(*)::int AS n FROM audit_log WHERE entity = 'IMPORT'`))[0].n;
    const before = await audits();
    await fc.assert(
      fc.asyncProperty(kinds, file, async (kind, [h, rows]) => {
        const r = await post(`${kind}?dryRun=TRUE`, csvOf([h, ...rows]));
        expect([200, 400]).toContain(r.status);
        if (r.status === 400) expect(typeof r.body.errors[0].message).toBe('string');
      }),
      { numRuns: 120, seed: 13 },
    );
    expect(await audits()).toBe(before);
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------------------------

describe('the command line', () => {
  it("npm run import -- baselines-by-year FILE takes the kind's options as flags and prints the report", async () => {
    const out = await COMMANDS.import(
      {
        dataSource: t.db.dataSource,
        viewer: cliViewer('tester'),
        input: () =>
          Readable.from([
            Buffer.from(
              csvOf([
                ['URN', 'Basic Entitlement Primary'],
                [sch.other[3].urn, '2000.00'],
              ]),
            ),
          ]),
      },
      { kind: 'apt-budgets', fileName: 'apt.csv', options: JSON.stringify({ financialYear: '2026-27' }) },
    );
    expect(out.exitCode).toBe(0);
    expect(out.out.join('\n')).toMatch(/notional SEN derived with the percentages of record/);
    const b = await notionalSen(sch.other[3].urn, '2026-27');
    expect(b.factors.find((f: any) => f.factor === 'BASIC_ENTITLEMENT')).toMatchObject({
      senAmount: '100.00',
      source: { kind: 'IMPORTED', file: 'apt.csv', by: 'tester (command line)' },
    });
  });
});
