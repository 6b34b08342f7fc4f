import ExcelJS from 'exceljs';
import { startTestHub, TestHub } from '../helpers/hub';
import { giasRowOf, writeGiasSample } from '../../server/modules/imports/gias-sample';
import { SCHOOL_COLUMNS } from '../../server/modules/school/school.sql';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ realData: true });
});
afterAll(() => t?.stop());

async function post(pathAndQuery: string, body: Buffer | string, token: string = t.tokens.FINANCE) {
  const payload: BodyInit = typeof body === 'string' ? body : new Uint8Array(body);
  const res = await fetch(`${t.url}/import/${pathAndQuery}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'x-file-name': 'test-file' },
    body: payload,
  });
  return { status: res.status, body: await res.json() };
}
const q = <T = any>(sql: string, params: unknown[] = []): Promise<T[]> => t.db.dataSource.query(sql, params);
const importAudits = async () => (await q(`SELECT count(*)::int AS n FROM audit_log WHERE entity = 'IMPORT'`))[0].n;

async function template(kind: string): Promise<ExcelJS.Workbook> {
  const res = await fetch(`${t.url}/import/templates/${kind}.xlsx`, {
    headers: { authorization: `Bearer ${t.tokens.ANALYST}` },
  });
  expect(res.status).toBe(200);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(Buffer.from(await res.arrayBuffer()) as unknown as ArrayBuffer);
  return wb;
}
const xlsxBuffer = async (wb: ExcelJS.Workbook) => Buffer.from(await wb.xlsx.writeBuffer());

describe("community pots from the hub's XLSX template", () => {
  it('provides a template with the columns and a guide', async () => {
    const wb = await template('community-pots');
    expect(wb.getWorksheet('Data')!.getRow(1).values).toEqual([undefined, 'communityCode', 'term', 'amount']);
    const guide = wb.getWorksheet('Guide')!.getSheetValues().flat().map(String).join('\n');
    expect(guide).toMatch(/npm run import -- community-pots FILE/);
    expect(wb.getWorksheet('Data')!.rowCount).toBe(1);
  });

  it("imports the filled template, reads a formula cell's saved value, audits each change, and the pot query shows the new amounts", async () => {
    const pots = await q(
      `SELECT community_code AS c, amount FROM community_pot WHERE term_code = 'AUTUMN-2026' ORDER BY community_code LIMIT 3`,
    );
    const wb = await template('community-pots');
    const ws = wb.getWorksheet('Data')!;
    ws.addRow([pots[0].c, 'AUTUMN-2026', 412000.5]);
    ws.addRow([pots[1].c, 'AUTUMN-2026', { formula: 'C2*2', result: 824001 }]);
    ws.addRow([pots[2].c, 'AUTUMN-2026', Number(pots[2].amount)]);
    const before = await importAudits();
    const r = await post('community-pots', await xlsxBuffer(wb));
    expect(r.status).toBe(200);
    expect(r.body.report).toMatchObject({
      applied: true,
      format: 'xlsx',
      rows: 3,
      created: 0,
      updated: 2,
      unchanged: 1,
      rejected: 0,
    });
    const g = await t.gql(`{ communities { code pot(term: "AUTUMN-2026") { amount } } }`);
    const byCode = new Map(g.body.data.communities.map((c: any) => [c.code, c.pot?.amount]));
    expect([byCode.get(pots[0].c), byCode.get(pots[1].c), byCode.get(pots[2].c)]).toEqual([
      '412000.50',
      '824001.00',
      pots[2].amount,
    ]);
    expect(await importAudits()).toBe(before + 2);
    const [audit] = await q(
      `SELECT action, before, after, source, actor_name AS "actorName" FROM audit_log WHERE entity_id = $1`,
      [`community-pots:${pots[0].c}|AUTUMN-2026`],
    );
    expect(audit).toMatchObject({
      action: 'UPDATE',
      source: 'API',
      before: { amount: pots[0].amount },
      after: { amount: '412000.50' },
      actorName: 'Demo finance officer',
    });
  });

  it('changes nothing when the same file is imported again', async () => {
    const [p] = await q(
      `SELECT community_code AS c, amount FROM community_pot WHERE term_code = 'SPRING-2027' ORDER BY community_code LIMIT 1`,
    );
    const csv = `communityCode,term,amount\r\n${p.c},SPRING-2027,${p.amount}\r\n`;
    const before = await importAudits();
    const r = await post('community-pots', csv);
    expect(r.body.report).toMatchObject({ applied: false, created: 0, updated: 0, unchanged: 1 });
    expect(await importAudits()).toBe(before);
  });

  it('rejects a formula with no saved value, naming the cell', async () => {
    const [p] = await q(`SELECT code AS c FROM community ORDER BY code LIMIT 1`);
    const wb = await template('community-pots');
    wb.getWorksheet('Data')!.addRow([p.c, 'AUTUMN-2026', { formula: 'SUM(X1:X9)' }]);
    const r = await post('community-pots', await xlsxBuffer(wb));
    expect(r.status).toBe(400);
    expect(r.body.report.errors).toEqual([
      { line: 2, column: 'amount', value: '=SUM(X1:X9)', reason: expect.stringMatching(/formula has no saved value/) },
    ]);
  });

  it('refuses to set a pot below the allocations already approved from it', async () => {
    const [{ urn, c }] = await q(
      `SELECT m.school_urn AS urn, m.community_code AS c FROM community_membership m WHERE m.effective_to IS NULL ORDER BY m.id LIMIT 1`,
    );
    // The database refuses an approval with no pot to pay it from, so the pot comes first.
    await q(`INSERT INTO community_pot (community_code, term_code, amount) VALUES ($1, 'SUMMER-2027', 6000)`, [c]);
    await q(
      `INSERT INTO allocation (school_urn, community_code, term_code, purpose, amount, status, version, decision_reference, approved_by, approved_at, updated_by)
       VALUES ($1, $2, 'SUMMER-2027', 'Test support', 5000, 'APPROVED', 1, 'HNF/TEST/1', 'test', now(), 'test')`,
      [urn, c],
    );
    const r = await post('community-pots', `communityCode,term,amount\n${c},SUMMER-2027,4999.99\n`);
    expect(r.status).toBe(400);
    expect(r.body.report.errors).toEqual([
      {
        line: 2,
        column: 'amount',
        value: '4999.99',
        reason: `is below the £5000.00 already approved from this pot (${c} SUMMER-2027): withdraw or reduce those allocations first`,
      },
    ]);
  });
});

describe('finance files that are refused, with nothing imported', () => {
  it('reports every bad row with its line, column, value and reason, and writes none of the good ones', async () => {
    const [a, b] = await q(
      `SELECT community_code AS c, amount FROM community_pot WHERE term_code = 'AUTUMN-2025' ORDER BY community_code LIMIT 2`,
    );
    const csv = [
      'communityCode,term,amount,notes',
      `${a.c},AUTUMN-2025,1.00,fine on its own`,
      `NOPE-99,AUTUMN-2025,10`,
      `${b.c},AUTUMN-2025,12.345`,
      `${b.c},WINTER-2025,-5`,
      `${a.c},AUTUMN-2025,2.00`,
    ].join('\r\n');
    const r = await post('community-pots', csv);
    expect(r.status).toBe(400);
    expect(r.body.errors[0].message).toBe(
      'Nothing imported: 5 problems in 5 rows. Fix them and import the file again.',
    );
    expect(r.body.report.errors.map((e: any) => [e.line, e.column, e.value, e.reason])).toEqual([
      [3, 'communityCode', 'NOPE-99', 'is not a Community of Schools in the hub'],
      [
        4,
        'amount',
        '12.345',
        'is not an amount of pounds and pence: it has more than 2 decimal places. Write it as 1250.00 or 1,250.00.',
      ],
      [
        5,
        'amount',
        '-5',
        'is not an amount of pounds and pence: it is negative, and this amount must be zero or more. Write it as 1250.00 or 1,250.00.',
      ],
      [5, 'term', 'WINTER-2025', expect.stringMatching(/^is not a funding term \(SUMMER-2024, /)],
      [
        6,
        'communityCode, term',
        `${a.c}|AUTUMN-2025`,
        'the same communityCode + term appears twice, on lines 2 and 6: keep one',
      ],
    ]);
    expect(r.body.report.ignoredColumns).toEqual(['notes']);
    const [after] = await q(
      `SELECT amount FROM community_pot WHERE community_code = $1 AND term_code = 'AUTUMN-2025'`,
      [a.c],
    );
    expect(after.amount).toBe(a.amount);
  });

  it('refuses a pot written with a decimal comma (412000,50) or a stray separator, naming line and column, and leaves the pots as they were', async () => {
    const pots = await q(
      `SELECT community_code AS c, amount FROM community_pot WHERE term_code = 'SPRING-2027' ORDER BY community_code LIMIT 3`,
    );
    const csv = [
      'communityCode,term,amount',
      `${pots[0].c},SPRING-2027,"412000,50"`,
      `${pots[1].c},SPRING-2027,"1,2,3"`,
      `${pots[2].c},SPRING-2027,1.2.3`,
    ].join('\n');
    const r = await post('community-pots', csv);
    expect(r.status).toBe(400);
    expect(r.body.report.errors).toEqual([
      {
        line: 2,
        column: 'amount',
        value: '412000,50',
        reason:
          'is not an amount of pounds and pence: it has a comma that is not a thousands separator (groups of three digits, as in 1,250.00). Write it as 1250.00 or 1,250.00.',
      },
      {
        line: 3,
        column: 'amount',
        value: '1,2,3',
        reason: expect.stringMatching(
          /^is not an amount of pounds and pence: it has a comma that is not a thousands separator/,
        ),
      },
      {
        line: 4,
        column: 'amount',
        value: '1.2.3',
        reason: expect.stringMatching(/^is not an amount of pounds and pence: it has more than one point/),
      },
    ]);
    const after = await q(
      `SELECT community_code AS c, amount FROM community_pot WHERE term_code = 'SPRING-2027' ORDER BY community_code LIMIT 3`,
    );
    expect(after).toEqual(pots);
  });

  it.each([
    [
      'a file missing a required column',
      'community-pots',
      'communityCode,amount\nASH-01,5\n',
      /lacks the column "term" \(line 1\) of the community-pots template/,
    ],
    ['a binary file', 'community-pots', Buffer.from([0, 1, 2, 3, 0]), /neither CSV nor XLSX/],
    ['an old .xls workbook', 'community-pots', Buffer.from('d0cf11e0a1b11ae1000000', 'hex'), /Excel 97-2003/],
    [
      'an unknown kind',
      'pupils',
      'a,b\n',
      /Unknown import "pupils"\. Imports: notional-sen, baseline-funding, community-pots, hn-block-lines, caseloads/,
    ],
    ['a header with no rows', 'community-pots', 'communityCode,term,amount\n', /header but no rows/],
  ])('answers 400 for %s', async (_what, kind, body, message) => {
    const r = await post(kind, body as string);
    expect(r.status).toBe(400);
    expect(r.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(r.body.errors[0].message).toMatch(message);
  });

  it('lets only Finance import', async () => {
    const r = await post('community-pots', 'communityCode,term,amount\n', t.tokens.CHAIR);
    expect(r.status).toBe(403);
    expect(r.body.errors[0].extensions.code).toBe('FORBIDDEN');
  });
});

describe('the other finance imports', () => {
  it('computes notional SEN amounts from factor inputs, rounded half up to the penny, as the budget query then reports', async () => {
    const [s] = await q(
      `SELECT school_urn AS urn FROM notional_sen_factor WHERE financial_year_code = '2026-27' ORDER BY school_urn LIMIT 1`,
    );
    const r = await post(
      'notional-sen',
      `schoolUrn,financialYear,factor,formulaAmount,senPercentage\n${s.urn},2026-27,FSM_EVER6,"10,000.05",0.7\n`,
    );
    expect(r.status).toBe(200);
    expect(r.body.report).toMatchObject({ updated: 1 });
    const g = await t.gql(
      `query($u: Int!) { school(urn: $u) { notionalSenBudget(financialYear: "2026-27") { factors { factor formulaAmount senPercentage senAmount } } } }`,
      { u: s.urn },
    );
    const f = g.body.data.school.notionalSenBudget.factors.find((x: any) => x.factor === 'FSM_EVER6');
    expect(f).toEqual({ factor: 'FSM_EVER6', formulaAmount: '10000.05', senPercentage: '0.7', senAmount: '7000.04' });
  });

  it("recomputes the protected amount from a new baseline at the term's protection rate", async () => {
    const [s] = await q(
      `SELECT school_urn AS urn FROM school_term_funding WHERE term_code = 'SPRING-2026' AND protection_rate = 0.75 ORDER BY school_urn LIMIT 1`,
    );
    const r = await post('baseline-funding?dryRun=TRUE', `schoolUrn,term,baseline\n${s.urn},SPRING-2026,10000.01\n`);
    expect(r.body.report).toMatchObject({ applied: false, dryRun: true, updated: 1 });
    const [unchanged] = await q(
      `SELECT baseline FROM school_term_funding WHERE school_urn = $1 AND term_code = 'SPRING-2026'`,
      [s.urn],
    );
    expect(unchanged.baseline).not.toBe('10000.01');
    await post('baseline-funding', `schoolUrn,term,baseline\n${s.urn},SPRING-2026,10000.01\n`);
    const g = await t.gql(
      `query($u: Int!) { school(urn: $u) { funding(term: "SPRING-2026") { baseline protectedAmount } } }`,
      { u: s.urn },
    );
    expect(g.body.data.school.funding).toEqual({ baseline: '10000.01', protectedAmount: '7500.01' });
  });

  it('updates High Needs block lines, with outturn left empty', async () => {
    const [line] = await q(
      `SELECT line_code AS code, name, sort_order AS "sortOrder", budget FROM high_needs_block_line WHERE financial_year_code = '2026-27' AND NOT memo LIMIT 1`,
    );
    const r = await post(
      'hn-block-lines',
      `financialYear,lineCode,name,sortOrder,budget,forecast,outturn,memo\n2026-27,${line.code},"${line.name}",${line.sortOrder},${line.budget},£1234567.89,,FALSE\n`,
    );
    expect(r.status).toBe(200);
    const g = await t.gql(`{ highNeedsBlock(financialYear: "2026-27") { lines { lineCode forecast outturn } } }`);
    expect(g.body.data.highNeedsBlock.lines.find((l: any) => l.lineCode === line.code)).toEqual({
      lineCode: line.code,
      forecast: '1234567.89',
      outturn: null,
    });
  });

  it('replaces the caseload counts of a kind and term, and a second import of the same file changes nothing', async () => {
    const cells = await q(
      `SELECT kind, period_code AS period, district_code AS d, worker_code AS w, school_urn AS s, setting_urn AS e, count FROM caseload_count
        WHERE kind = 'LINK_WORKER_SCHOOLS' AND period_code = '2026/27-T2' ORDER BY id`,
    );
    expect(cells.length).toBeGreaterThan(10);
    const rows = cells.map((c, i) =>
      [c.kind, c.period, c.d, c.w ?? '', c.s ?? '', c.e ?? '', i === 0 ? c.count + 7 : c.count].join(','),
    );
    const csv = ['kind,period,districtCode,workerCode,schoolUrn,settingUrn,count', ...rows].join('\n');
    const first = await post('caseloads', csv);
    expect(first.body.report).toMatchObject({ applied: true, updated: cells.length });
    const [{ n }] = await q(
      `SELECT sum(count)::int AS n FROM caseload_count WHERE kind = 'LINK_WORKER_SCHOOLS' AND period_code = '2026/27-T2'`,
    );
    expect(n).toBe(cells.reduce((s, c) => s + c.count, 0) + 7);
    const second = await post('caseloads', csv);
    expect(second.body.report).toMatchObject({ applied: false, unchanged: cells.length, updated: 0 });
  });
});

describe('GIAS upload through the API', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hnh-gias-api-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('imports a register file sent as the request body and reports what changed', async () => {
    const schools = await q(`SELECT ${SCHOOL_COLUMNS} FROM school s ORDER BY urn`);
    const target = schools.find((s) => s.status === 'OPEN')!;
    const rows = schools.map((s) => ({
      ...giasRowOf(s),
      ...(s.urn === target.urn ? { NumberOfPupils: String((s.pupilsOnRoll ?? 0) + 1) } : {}),
    }));
    const file = path.join(dir, 'edubasealldata.csv');
    await writeGiasSample(file, { laRows: rows, totalRows: 3000 });
    const r = await post('gias?la=886', fs.readFileSync(file));
    expect(r.status).toBe(200);
    expect(r.body.report).toMatchObject({
      applied: true,
      updated: 1,
      added: 0,
      closed: 0,
      unchanged: schools.length - 1,
    });
    expect(r.body.report.changes).toEqual([
      { urn: target.urn, action: 'UPDATED', name: target.name, fields: ['pupilsOnRoll'] },
    ]);
  });

  it('answers 400 naming the missing columns for a file that is not the GIAS download, and 403 for a non-Finance token', async () => {
    const bad = await post('gias', 'URN,Name\n1,x\n');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].message).toMatch(
      /not a GIAS establishment download: it lacks the columns "LA \(code\)", "EstablishmentNumber"/,
    );
    const denied = await post('gias', 'URN\n', t.tokens.SUBGROUP);
    expect(denied.status).toBe(403);
  });
});
