import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { parse as parseGraphQL, print, validate } from 'graphql';
import { getComplexity } from 'graphql-query-complexity';
import { startTestHub, TestHub } from '../helpers/hub';
import { sqlStatements } from '../helpers/metrics';
import { getSchema } from '../../server/schema';
import { rowAwareEstimator } from '../../server/http/complexity';
import { trackBounds } from '../../server/http/cost';
import { DATASETS, DATASET_BY_NAME } from '../../server/modules/exports/export-datasets';
import { planExport } from '../../server/modules/exports/export-query';
import { OPERATIONS } from '../../addin/src/core/operations.generated';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(() => t?.stop());

async function fetchExport(path: string, token: string | null = t.tokens.FINANCE) {
  const res = await fetch(`${t.url}/export/${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: Buffer.from(await res.arrayBuffer()),
  };
}

async function csv(path: string, token?: string): Promise<Record<string, string>[]> {
  const r = await fetchExport(path, token);
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.body.toString()}`);
  expect(r.type).toMatch(/^text\/csv/);
  return parse(r.body, { columns: true, bom: true });
}

async function xlsx(path: string, token?: string): Promise<ExcelJS.Workbook> {
  const r = await fetchExport(path, token);
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.body.toString()}`);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(r.body as unknown as ArrayBuffer);
  return wb;
}

function sheetRows(ws: ExcelJS.Worksheet): Record<string, ExcelJS.CellValue>[] {
  const header = (ws.getRow(1).values as ExcelJS.CellValue[]).slice(1).map(String);
  const out: Record<string, ExcelJS.CellValue>[] = [];
  ws.eachRow((row, n) => {
    if (n === 1) return;
    out.push(Object.fromEntries(header.map((h, i) => [h, row.getCell(i + 1).value])));
  });
  return out;
}

const blankToNull = (v: string) => (v === '' ? null : v);

/** The value beside a label in column A of the About sheet. */
function aboutValue(wb: ExcelJS.Workbook, label: RegExp): ExcelJS.CellValue {
  let v: ExcelJS.CellValue = null;
  wb.getWorksheet('About')!.eachRow((row) => {
    if (label.test(String(row.getCell(1).value))) v = row.getCell(2).value;
  });
  return v;
}

describe('exports give the same figures as GraphQL', () => {
  it('exports the schools of a district and phase exactly as the schools query lists them', async () => {
    const q = `{ schools(first: 1000, filter: { districtCode: "E07000105", phase: [PRIMARY, SECONDARY] }) {
      nodes { urn laestab name phase establishmentType status openDate pupilsOnRoll percentFsm ukprn
              district { name } community { code name } } } }`;
    const g = (await t.gql(q)).body.data.schools.nodes;
    const rows = await csv('schools.csv?districtCode=E07000105&phase=PRIMARY,SECONDARY');
    expect(g.length).toBeGreaterThan(20);
    // The School field catalogue's columns, relation columns beside the field they follow.
    expect(Object.keys(rows[0])).toEqual([
      'urn',
      'laestab',
      'name',
      'phase',
      'type',
      'establishmentType',
      'status',
      'openDate',
      'closeDate',
      'districtCode',
      'districtName',
      'communityCode',
      'communityName',
      'postcode',
      'ukprn',
      'pupilsOnRoll',
      'percentFsm',
      'srpCapacity',
      'srpOnRoll',
    ]);
    expect(rows.map((r) => Number(r.urn))).toEqual(g.map((s: any) => s.urn));
    for (const [i, s] of g.entries()) {
      const r = rows[i];
      expect([r.name, r.phase, r.status, Number(r.laestab)]).toEqual([s.name, s.phase, s.status, s.laestab]);
      expect(blankToNull(r.pupilsOnRoll)).toBe(s.pupilsOnRoll === null ? null : String(s.pupilsOnRoll));
      expect(blankToNull(r.percentFsm)).toBe(s.percentFsm);
      expect(blankToNull(r.openDate)).toBe(s.openDate);
      expect(blankToNull(r.communityCode)).toBe(s.community?.code ?? null);
      expect([r.districtName, blankToNull(r.communityName), blankToNull(r.establishmentType)]).toEqual([
        s.district.name,
        s.community?.name ?? null,
        s.establishmentType,
      ]);
      expect(blankToNull(r.ukprn)).toBe(s.ukprn === null ? null : String(s.ukprn));
    }
    expect(rows.every((r) => r.districtName === 'Ashford')).toBe(true);
  });

  it('exports school funding for a term as typed XLSX whose totals match the funding query to the penny', async () => {
    const g = (
      await t.gql(
        `{ schools(first: 1000, filter: { areaCode: "EAST" }) { nodes { urn funding(term: "AUTUMN-2025") { baseline protectedAmount communityShare total bandedTopUpSuppressed } } } }`,
      )
    ).body.data.schools.nodes.filter((s: any) => s.funding);
    expect(g.length).toBeGreaterThan(50);
    const csvRows = await csv('school-funding.csv?term=AUTUMN-2025&areaCode=EAST');
    // The school's id columns, then every SchoolFunding field but its schoolUrn (the row's urn is the school's).
    expect(Object.keys(csvRows[0])).toEqual([
      'urn',
      'laestab',
      'name',
      'districtCode',
      'term',
      'baseline',
      'protectionRate',
      'protectedAmount',
      'communityShare',
      'bandedTopUp',
      'total',
      'bandedTopUpSuppressed',
    ]);
    expect(csvRows.map((r) => r.bandedTopUpSuppressed)).toEqual(
      g.map((s: any) => (s.funding.bandedTopUpSuppressed ? 'TRUE' : 'FALSE')),
    );
    expect(csvRows.map((r) => [Number(r.urn), r.baseline, r.protectedAmount, r.communityShare, r.total])).toEqual(
      g.map((s: any) => [
        s.urn,
        s.funding.baseline,
        s.funding.protectedAmount,
        s.funding.communityShare,
        s.funding.total,
      ]),
    );

    const wb = await xlsx('school-funding.xlsx?term=AUTUMN-2025&areaCode=EAST');
    const ws = wb.getWorksheet('Data')!;
    expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    const rows = sheetRows(ws);
    expect(rows.length).toBe(g.length);
    expect(typeof rows[0].urn).toBe('number');
    expect(typeof rows[0].total).toBe('number');
    expect(ws.getCell('A2').numFmt ?? '0').toBe('0');
    const totalCol = (ws.getRow(1).values as string[]).indexOf('total');
    expect(ws.getRow(2).getCell(totalCol).numFmt).toBe('"£"#,##0.00;[Red]-"£"#,##0.00');
    expect(rows.map((r) => (r.total as number).toFixed(2))).toEqual(g.map((s: any) => s.funding.total));
    expect(rows[0].protectionRate).toBe(0.75);

    const about = wb.getWorksheet('About')!;
    const text = about.getSheetValues().flat().map(String).join('\n');
    expect(text).toMatch(/School high-needs funding by funding term/);
    expect(text).toMatch(/term\nAUTUMN-2025/);
    expect(text).toMatch(/areaCode\nEAST/);
    expect(text).toMatch(/\/export\/school-funding\.xlsx\?term=AUTUMN-2025&areaCode=EAST/);
    // Typed cells on the About sheet too: the time a date, the row count a number.
    expect(aboutValue(wb, /^Generated at/)).toBeInstanceOf(Date);
    expect(aboutValue(wb, /^Rows$/)).toBe(g.length);
  });

  it('exports dates as Excel dates', async () => {
    const wb = await xlsx('safety-valve.xlsx?financialYear=2024-25');
    const rows = sheetRows(wb.getWorksheet('Data')!);
    expect(rows[0].reportDate).toBeInstanceOf(Date);
    expect((rows[0].reportDate as Date).toISOString().slice(0, 10)).toBe('2024-07-31');
    expect(rows[0].inYearPlan).toBe(17000000);
  });

  it('exports community pots with approved and remaining amounts equal to the pot query', async () => {
    const g = (
      await t.gql(
        `{ communities(areaCode: "WEST") { code pot(term: "SUMMER-2025") { amount approved proposed remaining } } }`,
      )
    ).body.data.communities;
    const rows = await csv('community-pots.csv?term=SUMMER-2025&areaCode=WEST');
    expect(rows.length).toBeGreaterThan(5);
    expect(Object.keys(rows[0])).toEqual([
      'communityCode',
      'communityName',
      'primaryDistrictCode',
      'areaCode',
      'term',
      'amount',
      'approved',
      'proposed',
      'remaining',
    ]);
    expect(rows.every((r) => r.term === 'SUMMER-2025')).toBe(true);
    expect(rows.map((r) => [r.communityCode, r.amount, r.approved, r.proposed, r.remaining])).toEqual(
      g
        .filter((c: any) => c.pot)
        .map((c: any) => [c.code, c.pot.amount, c.pot.approved, c.pot.proposed, c.pot.remaining]),
    );
  });

  it("exports notional SEN factor lines that add up to each school's budget in GraphQL", async () => {
    const g = (
      await t.gql(
        `{ schools(first: 1000, filter: { districtCode: "E07000116" }) { nodes { urn notionalSenBudget(financialYear: "2025-26") { total factors { factor senAmount } } } } }`,
      )
    ).body.data.schools.nodes;
    const rows = await csv('notional-sen.csv?financialYear=2025-26&districtCode=E07000116');
    const byUrn = new Map<number, Record<string, string>[]>();
    for (const r of rows) byUrn.set(Number(r.urn), [...(byUrn.get(Number(r.urn)) ?? []), r]);
    const withBudget = g.filter((s: any) => s.notionalSenBudget);
    expect(byUrn.size).toBe(withBudget.length);
    for (const s of withBudget) {
      const lines = byUrn.get(s.urn)!;
      expect(lines.map((l) => [l.factor, l.senAmount])).toEqual(
        s.notionalSenBudget.factors.map((f: any) => [f.factor, f.senAmount]),
      );
      const pennies = lines.reduce((sum, l) => sum + BigInt(l.senAmount.replace('.', '')), 0n);
      expect((Number(pennies) / 100).toFixed(2)).toBe(s.notionalSenBudget.total);
      expect(lines.every((l) => l.schoolTotal === s.notionalSenBudget.total)).toBe(true);
    }
  });

  it('exports the High Needs block lines as the highNeedsBlock query returns them', async () => {
    const g = (
      await t.gql(`{ highNeedsBlock(financialYear: "2025-26") { lines { lineCode budget forecast outturn memo } } }`)
    ).body.data.highNeedsBlock.lines;
    const rows = await csv('high-needs-block.csv?financialYear=2025-26');
    expect(rows.map((r) => [r.lineCode, r.budget, r.forecast, blankToNull(r.outturn), r.memo === 'TRUE'])).toEqual(
      g.map((l: any) => [l.lineCode, l.budget, l.forecast, l.outturn, l.memo]),
    );
  });

  it('exports Safety Valve KPIs as the safetyValve query reports them', async () => {
    const g = (
      await t.gql(`{ safetyValve { reports(financialYear: "2025-26") { periodCode kpis { kpiCode plan actual } } } }`)
    ).body.data.safetyValve.reports;
    const rows = await csv('safety-valve-kpis.csv?financialYear=2025-26');
    expect(rows.map((r) => [r.periodCode, r.kpiCode, blankToNull(r.plan), r.actual])).toEqual(
      g.flatMap((r: any) => r.kpis.map((k: any) => [r.periodCode, k.kpiCode, k.plan, k.actual])),
    );
  });

  it('exports allocations as the allocations query lists them', async () => {
    const g = (
      await t.gql(
        `{ allocations(filter: { status: [APPROVED, PROPOSED] }) { totalCount nodes { id schoolUrn amount status } } }`,
      )
    ).body.data.allocations;
    const rows = await csv('allocations.csv?status=APPROVED&status=PROPOSED');
    expect(rows.length).toBe(g.totalCount);
    expect(rows.map((r) => [r.id, Number(r.schoolUrn), r.amount, r.status])).toEqual(
      g.nodes.map((a: any) => [a.id, a.schoolUrn, a.amount, a.status]),
    );
  });
});

describe('caseload exports apply the same disclosure control as GraphQL', () => {
  const TABLE = `query($kind: CaseloadKind!, $groupBy: CaseloadGrouping!, $period: String, $community: String) {
    caseloads(kind: $kind, groupBy: $groupBy, period: $period, communityCode: $community) { rows { key period count suppressed } totals { period count suppressed } } }`;
  const asTable = (rows: Record<string, string>[]) => ({
    rows: rows
      .filter((r) => r.rowType === 'ROW')
      .map((r) => ({
        key: r.key,
        period: r.period,
        count: r.count === '' ? null : Number(r.count),
        suppressed: r.suppressed === 'TRUE',
      })),
    totals: rows
      .filter((r) => r.rowType === 'TOTAL')
      .map((r) => ({
        period: r.period,
        count: r.count === '' ? null : Number(r.count),
        suppressed: r.suppressed === 'TRUE',
      })),
  });

  it.each([
    ['ANALYST', 'EHCP_PLANS', 'SCHOOL', false],
    ['CHAIR', 'EHCP_PLANS', 'SCHOOL', false],
    ['CHAIR', 'EHCP_PLANS', 'SCHOOL', true],
    ['FINANCE', 'SIPS_CHILDREN', 'WORKER', false],
    ['ANALYST', 'SIPS_CHILDREN', 'COMMUNITY', false],
  ] as const)(
    '%s sees the same %s by %s cells in the export as in GraphQL (own community only: %s)',
    async (role, kind, groupBy, own) => {
      const token = t.tokens[role];
      const community = own ? t.tokens.chairCommunity : null;
      const g = (await t.gql(TABLE, { kind, groupBy, period: '2025/26-T1', community }, token)).body.data.caseloads;
      const path = `caseloads.csv?kind=${kind}&groupBy=${groupBy}&period=${encodeURIComponent('2025/26-T1')}${community ? '&communityCode=' + community : ''}`;
      const e = asTable(await csv(path, token));
      expect(e).toEqual(g);
      if (role === 'ANALYST' && groupBy === 'SCHOOL') expect(e.rows.some((r) => r.suppressed)).toBe(true);
      if (role === 'FINANCE') expect(e.rows.every((r) => !r.suppressed)).toBe(true);
    },
  );

  it('leaves a suppressed count empty in the XLSX, never the number', async () => {
    const wb = await xlsx(
      `caseloads.xlsx?kind=EHCP_PLANS&groupBy=SCHOOL&period=${encodeURIComponent('2025/26-T1')}`,
      t.tokens.ANALYST,
    );
    const rows = sheetRows(wb.getWorksheet('Data')!);
    const hidden = rows.filter((r) => r.suppressed === true);
    expect(hidden.length).toBeGreaterThan(0);
    expect(hidden.every((r) => r.count === null)).toBe(true);
    expect(
      rows
        .filter((r) => r.suppressed === false)
        .every((r) => typeof r.count === 'number' && (r.count === 0 || r.count >= 5)),
    ).toBe(true);
  });
});

describe('bad export requests', () => {
  it.each([
    ['an unknown dataset', 'pupils.csv', /Unknown dataset "pupils"\. Datasets: schools, school-funding/],
    ['an unknown format', 'schools.pdf', /Unknown format "\.pdf": ask for \.csv or \.xlsx/],
    [
      'a misspelt filter',
      'schools.csv?districtcode=E07000105',
      /Unknown filter "districtcode" for the schools export\. Valid filters: districtCode/,
    ],
    ['a bad enum value', 'schools.csv?phase=PRIMARI', /Filter "phase": "PRIMARI" is not one of NURSERY, PRIMARY/],
    ['a bad date', 'schools.csv?asOf=2025-02-30', /Filter "asOf": "2025-02-30" is not a date/],
    ['a bad number', 'schools.csv?urns=12,abc', /Filter "urns": "abc" is not a whole number/],
    ['a missing required filter', 'school-funding.xlsx', /needs the filter "term"/],
    [
      'an unknown term',
      'school-funding.csv?term=AUTUMN-2099',
      /Unknown funding term "AUTUMN-2099"\. Valid terms: .*SUMMER-2025/,
    ],
    ['an unknown caseload kind', 'caseloads.csv?kind=PUPILS&groupBy=SCHOOL', /Filter "kind": "PUPILS" is not one of/],
    [
      'too many URNs',
      `schools.csv?urns=${Array.from({ length: 1001 }, (_, i) => i + 1).join(',')}`,
      /at most 1000 URNs/,
    ],
  ])('answers 400 with a message for %s', async (_what, path, message) => {
    const r = await fetchExport(path);
    expect(r.status).toBe(400);
    const body = JSON.parse(r.body.toString());
    expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(body.errors[0].message).toMatch(message);
  });

  it('answers 401 without a bearer token and with an unknown one', async () => {
    const none = await fetchExport('schools.csv', null);
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body.toString()).errors[0].message).toMatch(/No Authorization header/);
    const bad = await fetchExport('schools.csv', 'hnh_not_a_token');
    expect(bad.status).toBe(401);
  });

  it('lists the datasets and their filters at /export', async () => {
    const res = await fetch(`${t.url}/export`, { headers: { authorization: `Bearer ${t.tokens.ANALYST}` } });
    const body = await res.json();
    expect(body.datasets.map((d: any) => d.name)).toEqual(
      expect.arrayContaining([
        'schools',
        'school-funding',
        'notional-sen',
        'community-pots',
        'high-needs-block',
        'caseloads',
        'safety-valve',
        'safety-valve-kpis',
        'allocations',
        'allocation-history',
      ]),
    );
    const funding = body.datasets.find((d: any) => d.name === 'school-funding');
    expect(funding.graphql).toBe(DATASET_BY_NAME.get('school-funding')!.query.document);
    expect(funding.graphql).toMatch(/^query ExportSchoolFunding\(/);
  });
});

describe('CSV safety', () => {
  it('prefixes text that Excel would run as a formula, and leaves the XLSX cell as plain text', async () => {
    const [{ urn, c }] = await t.db.dataSource.query(
      `SELECT m.school_urn AS urn, m.community_code AS c FROM community_membership m WHERE m.effective_to IS NULL ORDER BY m.id LIMIT 1`,
    );
    await t.db.dataSource.query(
      `INSERT INTO allocation (school_urn, community_code, term_code, purpose, amount, status, version, updated_by) VALUES ($1, $2, 'SPRING-2028', '=HYPERLINK("http://x")', 10, 'PROPOSED', 1, 'test')`,
      [urn, c],
    );
    const rows = await csv('allocations.csv?term=SPRING-2028');
    expect(rows.map((r) => r.purpose)).toEqual([`'=HYPERLINK("http://x")`]);
    const wb = await xlsx('allocations.xlsx?term=SPRING-2028');
    expect(sheetRows(wb.getWorksheet('Data')!)[0].purpose).toBe('=HYPERLINK("http://x")');
  });
});

describe('an export is the GraphQL document its About sheet shows', () => {
  it('every dataset document is valid against the schema, and a column that reads nothing the document selects is refused', async () => {
    const schema = await getSchema();
    for (const d of DATASETS) expect([d.name, validate(schema, parseGraphQL(d.query.document))]).toEqual([d.name, []]);
    expect(() =>
      planExport('bad', 'query Bad { schools(first: 1) { nodes { urn } } }', {
        rows: [{ list: 'schools.nodes' }],
        columns: [{ key: 'postcode', type: 'text', description: 'Not selected.' }],
      }),
    ).toThrow(/column "postcode" reads "postcode", which the document selects nowhere of "schools.nodes"/);
  });

  it("runs the add-in's own Caseloads operation for the caseloads export: one document for both, totals and filters included", async () => {
    const plan = DATASET_BY_NAME.get('caseloads')!.query;
    expect(plan.operationName).toBe('Caseloads');
    expect(plan.document).toBe(print(parseGraphQL(OPERATIONS.Caseloads)));
    const wb = await xlsx('caseloads.xlsx?kind=EHCP_PLANS&groupBy=DISTRICT&period=2025/26-T1');
    expect(String(aboutValue(wb, /^GraphQL$/))).toBe(plan.document);
    const rows = sheetRows(wb.getWorksheet('Data')!);
    const g = (await t.gql(OPERATIONS.Caseloads, { kind: 'EHCP_PLANS', groupBy: 'DISTRICT', period: '2025/26-T1' }))
      .body.data.caseloads;
    expect(rows.filter((r) => r.rowType === 'ROW').map((r) => [r.key, r.count])).toEqual(
      g.rows.map((r: any) => [r.key, r.count]),
    );
    expect(rows.filter((r) => r.rowType === 'TOTAL').map((r) => r.count)).toEqual(g.totals.map((r: any) => r.count));
    expect(g.totals.length).toBeGreaterThan(0);
  });

  it('runs the document and variables on its About sheet: sent to /graphql they give the figures of the file', async () => {
    const wb = await xlsx('school-funding.xlsx?term=AUTUMN-2025&areaCode=EAST');
    const document = String(aboutValue(wb, /^GraphQL$/));
    const variables = JSON.parse(String(aboutValue(wb, /^Variables$/)));
    expect(document).toBe(DATASET_BY_NAME.get('school-funding')!.query.document);
    expect(variables).toMatchObject({ term: 'AUTUMN-2025', filter: { areaCode: 'EAST' }, first: 1000, after: null });
    const g = await t.gql(document, variables);
    expect(g.body.errors).toBeUndefined();
    const nodes = g.body.data.schools.nodes.filter((s: any) => s.funding);
    const rows = sheetRows(wb.getWorksheet('Data')!);
    expect(rows.length).toBeGreaterThan(50);
    expect(rows.map((r) => [r.urn, r.districtCode, r.term, (r.total as number).toFixed(2)])).toEqual(
      nodes.map((s: any) => [s.urn, s.districtCode, s.funding.term, s.funding.total]),
    );
    // The operation the sheet names is the one the hub ran (its SQL is counted under that name).
    const name = /^query (\w+)/.exec(document)![1];
    const before = await sqlStatements(t.url, name, { mustHaveRun: true });
    await csv('school-funding.csv?term=AUTUMN-2025&areaCode=EAST');
    expect(await sqlStatements(t.url, name)).toBeGreaterThan(before);
  });

  it("refuses the whole file with the API's code and status when the document's answer has errors, even with data", async () => {
    const d = DATASET_BY_NAME.get('school-funding')!;
    const api = await t.gql(d.query.document, {
      filter: { districtCode: 'E07000105' },
      term: 'AUTUMN-2099',
      first: 1000,
      after: null,
    });
    // The API answers a partial result: the schools, with the funding of each an error.
    expect(api.body.data.schools.nodes.length).toBeGreaterThan(20);
    const [first] = api.body.errors;
    expect(first.extensions.code).toBe('BAD_USER_INPUT');
    const r = await fetchExport('school-funding.xlsx?term=AUTUMN-2099&districtCode=E07000105');
    expect([r.status, r.type]).toEqual([400, expect.stringMatching(/^application\/json/)]);
    const body = JSON.parse(r.body.toString());
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].extensions.code).toBe(first.extensions.code);
    expect(body.errors[0].message.startsWith(first.message)).toBe(true);
  });
});

describe("exports spend the caller's query cost budget", () => {
  /** A page's estimated cost, as the hub's complexity estimate computes it from the same data. */
  async function pageCost(name: string, variables: Record<string, unknown>): Promise<number> {
    const bounds = trackBounds(t.db.dataSource);
    await bounds.ready;
    bounds.stop();
    return getComplexity({
      schema: await getSchema(),
      query: parseGraphQL(DATASET_BY_NAME.get(name)!.query.document),
      variables,
      estimators: [rowAwareEstimator(() => bounds.current())],
    });
  }

  it('refuses an export over the budget with the 429 and Retry-After the API gives, and shares one budget with /graphql', async () => {
    const d = DATASET_BY_NAME.get('schools')!;
    const variables = { filter: { districtCode: 'E07000105' }, asOf: null, first: 1000, after: null };
    const cost = await pageCost('schools', variables);
    expect(cost).toBeGreaterThan(1000);
    // Room for one page and a half: the first export is served, the second would overspend.
    const b = await startTestHub({
      db: t.db,
      costBudgetPerToken: Math.floor(cost * 1.5),
      costBudgetWindowSeconds: 600,
    });
    try {
      const get = (path: string) =>
        fetch(`${b.url}/export/${path}`, { headers: { authorization: `Bearer ${b.tokens.SUBGROUP}` } });
      const ok = await get('schools.csv?districtCode=E07000105');
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();
      const refused = await get('schools.xlsx?districtCode=E07000105');
      const body = (await refused.json()) as any;
      expect([refused.status, body.errors[0].extensions.code]).toEqual([429, 'RATE_LIMITED']);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(body.errors[0].message).toMatch(/Query cost budget spent/);
      // The export spent the same budget a query spends: the document itself is now refused at /graphql too.
      const api = await b.gql(d.query.document, variables, b.tokens.SUBGROUP);
      expect([api.status, api.body.errors[0].extensions.code]).toEqual([429, 'RATE_LIMITED']);
      // Another caller is still served.
      const other = await fetch(`${b.url}/export/schools.csv?districtCode=E07000105`, {
        headers: { authorization: `Bearer ${b.tokens.FINANCE}` },
      });
      expect(other.status).toBe(200);
      await other.arrayBuffer();
    } finally {
      await b.hub.stop();
    }
  });
});

describe('SQL statements of an export', () => {
  /** Statements the hub counted for an export's operation, and the number of rows it exported. */
  async function statementsFor(path: string, operation: string, token = t.tokens.FINANCE) {
    const before = await sqlStatements(t.url, operation);
    const rows = await csv(path, token);
    return { statements: (await sqlStatements(t.url, operation, { mustHaveRun: true })) - before, rows: rows.length };
  }

  it('are one per page for the schools of a district and of the county: the compiled read', async () => {
    await statementsFor('schools.csv', 'ExportSchools'); // the first read of the process loads reference data
    const district = await statementsFor('schools.csv?districtCode=E07000105', 'ExportSchools');
    const county = await statementsFor('schools.csv', 'ExportSchools');
    expect(county.rows).toBeGreaterThan(500);
    expect(district.rows).toBeLessThan(county.rows);
    expect([district.statements, county.statements]).toEqual([1, 1]);
  });

  it('stay constant with the number of schools for funding and notional SEN, for Finance and for a Chair', async () => {
    // Finance: the compiled page. A Chair: the check of which banded top-ups a Chair may see, then the page.
    for (const [role, expected] of [
      ['FINANCE', 1],
      ['CHAIR', 2],
    ] as const) {
      const token = t.tokens[role];
      await statementsFor('school-funding.csv?term=AUTUMN-2025', 'ExportSchoolFunding', token);
      const district = await statementsFor(
        'school-funding.csv?term=AUTUMN-2025&districtCode=E07000105',
        'ExportSchoolFunding',
        token,
      );
      const county = await statementsFor('school-funding.csv?term=AUTUMN-2025', 'ExportSchoolFunding', token);
      expect(county.rows).toBeGreaterThan(district.rows);
      expect([role, district.statements, county.statements]).toEqual([role, expected, expected]);
    }
    await statementsFor('notional-sen.csv?financialYear=2025-26', 'ExportNotionalSen');
    const sen = await statementsFor('notional-sen.csv?financialYear=2025-26', 'ExportNotionalSen');
    expect(sen.rows).toBeGreaterThan(1000);
    expect(sen.statements).toBe(1);
  });
});

describe("an export's role refusals are the API's", () => {
  const HISTORY = `query($c: String) { allocations(filter: { communityCode: $c }) { nodes { id history { at action } } } }`;
  let other: string;
  beforeAll(async () => {
    // A proposal in the Chair's community and one in another, each with its audit entry.
    const { communities, periods } = (
      await t.gql(`{ communities { code schools { urn } } periods { fundingTerms { code } } }`)
    ).body.data;
    const own = communities.find((c: any) => c.code === t.tokens.chairCommunity);
    const another = communities.find((c: any) => c.code !== t.tokens.chairCommunity && c.schools.length > 0);
    other = another.code;
    // The latest term with pots that is still open to proposals (the earlier ones are closed by today's date).
    let created = 0;
    for (const { code: term } of [...periods.fundingTerms].reverse()) {
      const rows = [own, another].map((c: any) => ({
        schoolUrn: c.schools[0].urn,
        communityCode: c.code,
        term,
        purpose: 'Export history test',
        amount: '1.00',
        status: 'PROPOSED',
      }));
      const r = await t.gql(
        `mutation($input: SubmitAllocationsInput!) { submitAllocations(input: $input) { summary { created } } }`,
        { input: { idempotencyKey: `export-history-test-${term}`, reason: 'export test', rows } },
      );
      created = r.body.data.submitAllocations.summary.created;
      if (created > 0) break;
    }
    expect(created).toBe(2);
  });

  it("exports the allocation history Finance reads in GraphQL, with each change's record before and after", async () => {
    const g = (await t.gql(HISTORY, { c: null })).body.data.allocations.nodes;
    const expected = g.flatMap((a: any) => a.history.map((h: any) => [a.id, h.at, h.action]));
    const rows = await csv('allocation-history.csv');
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows.map((r) => [r.allocationId, r.at, r.action])).toEqual(expected);
    for (const r of rows) expect(r.after === '' || typeof JSON.parse(r.after) === 'object').toBe(true);
  });

  it("refuses a Chair another community's allocation history, and an Analyst any, with the API's 403 FORBIDDEN", async () => {
    const own = await csv(`allocation-history.csv?communityCode=${t.tokens.chairCommunity}`, t.tokens.CHAIR);
    expect(own.map((r) => [r.communityCode, r.action])).toContainEqual([t.tokens.chairCommunity, 'CREATE']);
    for (const [role, community] of [
      ['CHAIR', other],
      ['ANALYST', null],
    ] as const) {
      const api = await t.gql(HISTORY, { c: community }, t.tokens[role]);
      expect(api.body.errors[0].extensions.code).toBe('FORBIDDEN');
      const r = await fetchExport(
        `allocation-history.csv${community ? `?communityCode=${community}` : ''}`,
        t.tokens[role],
      );
      const body = JSON.parse(r.body.toString());
      expect([role, r.status, body.errors[0].extensions.code]).toEqual([role, 403, 'FORBIDDEN']);
      expect(body.errors[0].message.startsWith(api.body.errors[0].message)).toBe(true);
    }
  });
});
