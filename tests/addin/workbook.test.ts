/**
 * The add-in against the strict fake Excel host (addin/src/dev/fake-office.ts): what a finance officer's
 * workbook looks like after a week of use. Each test is a way the add-in used to hurt its users in real Excel.
 */
import { installFakeOffice, PAYLOAD_LIMIT } from '../../addin/src/dev/fake-office';
import { ExcelGateway } from '../../addin/src/gateway/excel';
import { AddinActions, REJECTED_FILL } from '../../addin/src/app/actions';
import { session } from '../../addin/src/shared/session';
import { Batcher } from '../../addin/src/functions/batcher';
import { pot as potFn, funding as fundingFn } from '../../addin/src/functions/functions';
import { FakeHub, FakeHubData, SCENARIO_50, SCENARIO_60 } from './helpers/fake-hub';

function setup(data = new FakeHubData()) {
  const host = installFakeOffice(globalThis);
  const hub = new FakeHub(data);
  const actions = new AddinActions({
    port: new ExcelGateway(),
    fetchImpl: hub.fetch,
    now: () => new Date('2026-06-01T09:00:00Z'),
  });
  return { host, hub, actions, wb: host.workbook };
}

afterEach(() => {
  const s = session();
  s.client = undefined;
  s.me = undefined;
  s.token = undefined;
  s.batcher = undefined;
});

const maxSyncBytes = (wb: { syncs: { bytes: number }[] }) => Math.max(...wb.syncs.map((s) => s.bytes));

describe("refresh never destroys a user's work", () => {
  it('keeps a user column with a formula, a note beside the table and a formula on another sheet that reads the table', async () => {
    const { actions, wb, hub } = setup();
    await actions.connect('http://hub.test', 'finance-token');
    const first = await actions.insert('funding', { term: 'SUMMER-2025' });
    const tableId = wb.table('HNH_funding')!.id;
    wb.addUserColumn('HNH_funding', 'Double', '=[@Total]*2');
    wb.setCell('School funding', 'N5', 'Checked with Jo, 3 June');
    wb.addSheet('Summary');
    wb.setCell('Summary', 'B2', '=SUM(HNH_funding[Total])');
    const before = wb.sheet('Summary')!.valueAt(1, 1) as number;
    expect(typeof before).toBe('number');

    // The hub's figures change and the county gains two schools.
    hub.data.pots.set('ASH-01|SUMMER-2025', '600000.00');
    for (const extra of [118900, 118901])
      hub.data.schools.push({ ...hub.data.schools[0], urn: extra, name: `New school ${extra}` });
    const results = await actions.refreshAll();
    expect(results.map((r) => r.status)).toEqual(['refreshed']);

    const t = wb.table(tableId)!;
    expect(t.name).toBe('HNH_funding');
    const values = wb.tableValues('HNH_funding');
    expect(values).toHaveLength(first.rows + 2 + 1);
    const head = values[0] as string[];
    expect(head.at(-1)).toBe('Double');
    const total = head.indexOf('Total');
    // The user's calculated column filled the new rows too.
    for (const r of values.slice(1)) expect(r[head.indexOf('Double')]).toBe((r[total] as number) * 2);
    expect(wb.sheet('School funding')!.valueAt(4, 13)).toBe('Checked with Jo, 3 June');
    const after = wb.sheet('Summary')!.valueAt(1, 1);
    expect(after).toBe(Math.round(values.slice(1).reduce((n, r) => n + (r[total] as number), 0) * 100) / 100);
    expect(after).not.toBe(before);
  });

  it('refreshes a table the user renamed (and whose sheet they renamed) in place, by its identity', async () => {
    const { actions, wb, hub } = setup();
    await actions.connect('http://hub.test', 'finance-token');
    await actions.insert('schools', {});
    wb.renameTable('HNH_schools', 'MySchools');
    wb.renameSheet('Schools', 'Our schools');
    hub.data.schools[0].name = 'Renamed Primary';
    const sheetsBefore = wb.sheets.length;
    const [r] = await actions.refreshAll();
    expect(r).toMatchObject({ status: 'refreshed', table: 'MySchools' });
    expect(wb.sheets.length).toBe(sheetsBefore);
    expect(wb.tables.map((t) => t.name)).toEqual(['MySchools']);
    expect(wb.tableValues('MySchools')[1][2]).toBe('Renamed Primary');
    expect((await actions.listTables())[0]).toMatchObject({ table: 'MySchools', sheet: 'Our schools' });
  });

  it('never writes to a sheet it did not create: a user\'s own "community pots" sheet (any case) is left alone', async () => {
    const { actions, wb } = setup();
    await actions.connect('http://hub.test', 'finance-token');
    wb.addSheet('community pots');
    wb.setCell('community pots', 'A1', 'My own working');
    wb.setCell('community pots', 'C4', 42);
    const r = await actions.insert('pots', { term: 'SUMMER-2025' });
    expect(r.sheet).toBe('Community pots 2');
    expect(wb.sheet('community pots')!.grid()).toEqual([
      ['My own working', '', ''],
      ['', '', ''],
      ['', '', ''],
      ['', '', 42],
    ]);
  });

  it('keeps its baseline and settings sheets VeryHidden, so they are not offered under Unhide', async () => {
    const { actions, wb } = setup();
    await actions.connect('http://hub.test', 'finance-token');
    await actions.insert('allocations', {});
    const hidden = wb.sheets.filter((s) => s.name.startsWith('_hnh_'));
    expect(
      hidden
        .map((s) => [s.name, s.visibility])
        .sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0)),
    ).toEqual([
      ['_hnh_baseline', 'VeryHidden'],
      ['_hnh_tables', 'VeryHidden'],
    ]);
  });
});

describe('new allocations from Excel', () => {
  it('creates the first allocation for a community and term that has none, typed into the empty pulled table and under it', async () => {
    const { actions, wb, hub } = setup();
    await actions.connect('http://hub.test', 'finance-token');
    const pulled = await actions.insert('allocations', { communityCode: 'ASH-01', term: 'AUTUMN-2025' });
    expect(pulled.rows).toBe(0);
    wb.setTableCell(pulled.table, 0, 'School URN', 118000);
    wb.setTableCell(pulled.table, 0, 'Community', 'ASH-01');
    wb.setTableCell(pulled.table, 0, 'Term', 'AUTUMN-2025');
    wb.setTableCell(pulled.table, 0, 'Amount', 2500);
    wb.setTableCell(pulled.table, 0, 'Status', 'PROPOSED');
    wb.setTableCell(pulled.table, 0, 'Purpose', 'Speech and language');
    wb.typeBelowTable(pulled.table, {
      'School URN': 118002,
      Community: 'ASH-01',
      Term: 'AUTUMN-2025',
      Amount: 1200.5,
      Status: 'PROPOSED',
      Purpose: 'Nurture group',
    });
    const p = await actions.preview(pulled.table, 'SG-2025-09', 'First allocations for Autumn');
    expect(p.kind).toBe('preview');
    if (p.kind !== 'preview') return;
    expect(p.creates).toBe(2);
    expect(p.preview.rows.map((r) => [r.sheetRow, r.before, r.after, r.result])).toEqual([
      [4, 'new', '£2,500.00 PROPOSED', 'CREATED'],
      [5, 'new', '£1,200.50 PROPOSED', 'CREATED'],
    ]);
    const out = await actions.confirm();
    expect(out.applied).toBe(true);
    const made = hub.data.allocations.filter((a) => a.term === 'AUTUMN-2025');
    expect(
      made
        .map((a) => [a.schoolUrn, a.amount, a.purpose])
        .sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0)),
    ).toEqual([
      [118000, '2500.00', 'Speech and language'],
      [118002, '1200.50', 'Nurture group'],
    ]);
    // The new rows now have their ids and versions, and the next preview has nothing to send.
    const table = wb.tableValues(pulled.table);
    expect(table.slice(1).map((r) => r[table[0].indexOf('Version')])).toEqual([1, 1]);
    expect(await actions.preview(pulled.table, 'SG-2025-09', 'again')).toMatchObject({ kind: 'nothing' });
  });

  it('names the school of a row typed with only its URN, in the preview and in a cell problem', async () => {
    const { actions, wb, hub } = setup();
    await actions.connect('http://hub.test', 'finance-token');
    const pulled = await actions.insert('allocations', { communityCode: 'ASH-01', term: 'AUTUMN-2025' });
    const typed = { 'School URN': 118002, Community: 'ASH-01', Term: 'AUTUMN-2025', Purpose: 'Outreach' };
    for (const [k, v] of Object.entries({ ...typed, Amount: 'lots', Status: 'PROPOSED' }))
      wb.setTableCell(pulled.table, 0, k, v);
    const blocked = await actions.preview(pulled.table, 'SG-1', 'typed');
    expect(blocked.kind === 'blocked' && blocked.issues.map((i) => i.message)).toEqual([
      'Row 4 (School 3, URN 118002), Amount: Amount is text ("lots"), not a number',
    ]);
    wb.setTableCell(pulled.table, 0, 'Amount', 900);
    const p = await actions.preview(pulled.table, 'SG-1', 'typed');
    expect(p.kind === 'preview' && p.preview.rows.map((r) => [r.sheetRow, r.schoolName, r.school, r.result])).toEqual([
      [4, 'School 3', 118002, 'CREATED'],
    ]);
    // A URN the hub does not know has no name to give: the message names the URN.
    wb.setTableCell(pulled.table, 0, 'School URN', 999999);
    wb.setTableCell(pulled.table, 0, 'Amount', 'x');
    const unknown = await actions.preview(pulled.table, 'SG-1', 'typed');
    expect(unknown.kind === 'blocked' && unknown.issues[0].message).toBe(
      'Row 4 (URN 999999), Amount: Amount is text ("x"), not a number',
    );
    expect(hub.data.allocations.filter((a) => a.term === 'AUTUMN-2025')).toEqual([]);
  });

  it('warns at preview when proposals would overspend a pot', async () => {
    const data = new FakeHubData();
    data.pots.set('ASH-01|AUTUMN-2025', '208356.00');
    const { actions, wb } = setup(data);
    await actions.connect('http://hub.test', 'finance-token');
    const pulled = await actions.insert('allocations', { communityCode: 'ASH-01', term: 'AUTUMN-2025' });
    for (const [k, v] of Object.entries({
      'School URN': 118000,
      Community: 'ASH-01',
      Term: 'AUTUMN-2025',
      Amount: 250000,
      Status: 'PROPOSED',
      Purpose: 'Outreach',
    }))
      wb.setTableCell(pulled.table, 0, k, v);
    const p = await actions.preview(pulled.table, 'SG-1', 'proposal');
    expect(p.kind === 'preview' && p.warnings).toEqual([
      'ASH-01 AUTUMN-2025: proposals and approvals in this table come to £250,000.00, above its pot of £208,356.00 (over by £41,644.00).',
    ]);
  });
});

describe("within Excel on the web's limits", () => {
  it('marks a 10,000-row allocations table without any sync above 5 MB, a fill per block of cells rather than per cell', async () => {
    const data = new FakeHubData(10_000);
    data.allocations = data.schools.map((s, i) => ({
      id: String(i + 1),
      schoolUrn: s.urn,
      communityCode: s.communityCode,
      term: 'SUMMER-2025',
      amount: '1000.00',
      purpose: 'Inclusion support',
      status: 'PROPOSED',
      version: 1,
    }));
    const { actions, wb } = setup(data);
    await actions.connect('http://hub.test', 'finance-token');
    const pulled = await actions.insert('allocations', {});
    expect(pulled.rows).toBe(10_000);
    // Every other amount typed as text: 5,000 separate cells to flag.
    const t = wb.table(pulled.table)!;
    const amount = t.column('Amount');
    for (let r = 0; r < 10_000; r += 2) t.sheet.cell(t.r0 + 1 + r, t.c0 + amount, true)!.value = 'ten';
    wb.syncs = [];
    const p = await actions.preview(pulled.table, 'SG-1', 'bulk');
    expect(p.kind).toBe('blocked');
    expect(wb.tableFill(pulled.table, 0, 'Amount')).toBe(REJECTED_FILL);
    expect(wb.tableFill(pulled.table, 1, 'Amount')).toBeUndefined();
    expect(wb.tableFill(pulled.table, 9_998, 'Amount')).toBe(REJECTED_FILL);
    expect(maxSyncBytes(wb)).toBeLessThan(PAYLOAD_LIMIT);
    // Clearing old marks is one instruction per column, never one per cell.
    expect(wb.syncs.reduce((n, s) => n + s.formatWrites, 0)).toBeLessThan(5_000 + 20);
  });

  it('sets number formats once per column: £ with bracketed negatives, rates as %, dates as dd/mm/yyyy', async () => {
    const { actions, wb } = setup();
    await actions.connect('http://hub.test', 'finance-token');
    wb.syncs = [];
    await actions.insert('funding', { term: 'SUMMER-2025' });
    const fmt = (c: string) => wb.tableFormat('HNH_funding', 0, c);
    expect(fmt('Total')).toBe('"£"#,##0.00;("£"#,##0.00)');
    expect(fmt('Protection rate')).toBe('0.0%');
    expect(wb.syncs.reduce((n, s) => n + s.formatWrites, 0)).toBeLessThanOrEqual(3);
    await actions.insert('schools', {});
    expect(wb.tableFormat('HNH_schools', 0, 'Open date')).toBe('dd/mm/yyyy');
    // A date is a date serial, so it sorts and filters as a date (2010-09-01).
    const [headers, first] = wb.tableValues('HNH_schools');
    expect(first[headers.indexOf('Open date')]).toBe(40422);
    expect(first[headers.indexOf('URN')]).toBe(118000);
  });

  it('shows "c" for a banded top-up and total the hub suppresses, in a numeric column that keeps its £ format', async () => {
    const data = new FakeHubData();
    data.suppressedBanding.add(118001);
    const { actions, wb } = setup(data);
    await actions.connect('http://hub.test', 'finance-token');
    await actions.insert('funding', { term: 'AUTUMN-2026' });
    const t = wb.tableValues('HNH_funding');
    const col = (h: string) => t[0].indexOf(h);
    const row = (urn: number) => t.find((r) => r[0] === urn)!;
    expect([row(118001)[col('Banded top-up')], row(118001)[col('Total')]]).toEqual(['c', 'c']);
    expect(typeof row(118001)[col('Baseline')]).toBe('number');
    expect([row(118002)[col('Banded top-up')], typeof row(118002)[col('Total')]]).toEqual([0, 'number']);
  });

  it('refuses what Excel refuses: reading before load and sync, a duplicate sheet name in another case, an oversized request', async () => {
    const { wb } = setup();
    const E = (globalThis as any).Excel;
    await expect(
      E.run(async (ctx: any) => {
        const r = ctx.workbook.worksheets.getItem('Sheet1').getRange('A1');
        r.load('values');
        return r.values;
      }),
    ).rejects.toMatchObject({ code: 'PropertyNotLoaded' });
    await expect(
      E.run(async (ctx: any) => {
        ctx.workbook.worksheets.add('SHEET1');
        await ctx.sync();
      }),
    ).rejects.toMatchObject({ code: 'ItemAlreadyExists' });
    await expect(
      E.run(async (ctx: any) => {
        ctx.workbook.worksheets.add('Pots: autumn');
        await ctx.sync();
      }),
    ).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(
      E.run(async (ctx: any) => {
        const ws = ctx.workbook.worksheets.getItem('Sheet1');
        for (let r = 0; r < 10_000; r++) ws.getRangeByIndexes(r, 0, 1, 1).format.fill.color = '#FF0000';
        await ctx.sync();
      }),
    ).rejects.toMatchObject({ code: 'RequestPayloadSizeLimitExceeded' });
    await expect(
      E.run(async (ctx: any) => {
        const ws = ctx.workbook.worksheets.getItem('Sheet1');
        ws.tables.add('A1:B3', true);
        ws.tables.add('B2:C4', true);
        await ctx.sync();
      }),
    ).rejects.toMatchObject({ code: 'InvalidOperation' });
    expect(wb.tables).toHaveLength(1);
  });
});

describe('functions recalculate when they should, and only where they must', () => {
  const inv = (address: string) => ({ address }) as CustomFunctions.Invocation;

  it('recalculates the cells that showed #N/A before sign-in, then only the POT cells a resubmit from this workbook changed', async () => {
    const { actions, wb } = setup();
    const s = session();
    s.batcher = new Batcher({ execute: () => (s.client ? (q, v) => s.client!.execute(q, v) : null), windowMs: 5 });
    const before = await Promise.allSettled([
      potFn('ASH-01', 'SUMMER-2025', null, 'remaining', inv('Sheet1!B2')),
      fundingFn(118000, 'SUMMER-2025', 'total', null, inv('Sheet1!B3')),
    ]);
    expect(before.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((before[0] as PromiseRejectedResult).reason.code).toBe('#N/A');

    await actions.connect('http://hub.test', 'finance-token');
    expect(wb.calculatedRanges.sort()).toEqual(['Sheet1!B2', 'Sheet1!B3']);
    expect(wb.calculations).toBe(0);
    const remaining = await potFn('ASH-01', 'SUMMER-2025', null, 'remaining', inv('Sheet1!B2'));
    await fundingFn(118000, 'SUMMER-2025', 'total', null, inv('Sheet1!B3'));
    await potFn('ASH-02', 'SUMMER-2025', null, 'remaining', inv('Sheet1!B4'));

    // A resubmit of an ASH-01 allocation changes ASH-01's pot, nothing else.
    const pulled = await actions.insert('allocations', { communityCode: 'ASH-01', term: 'SUMMER-2025' });
    wb.calculatedRanges = [];
    wb.setTableCell(pulled.table, 0, 'Amount', 11111);
    expect((await actions.preview(pulled.table, 'SG-1', 'r')).kind).toBe('preview');
    expect((await actions.confirm()).applied).toBe(true);
    expect(wb.calculatedRanges).toEqual(['Sheet1!B2']);
    expect(await potFn('ASH-01', 'SUMMER-2025', null, 'remaining', inv('Sheet1!B2'))).not.toBe(remaining);

    wb.calculatedRanges = [];
    await actions.refreshAll();
    expect(wb.calculatedRanges.sort()).toEqual(['Sheet1!B2', 'Sheet1!B3', 'Sheet1!B4']);
    expect(wb.calculations).toBe(0);
  });
});

describe('charts', () => {
  it('keeps one chart per purpose, updated on the next click rather than added again', async () => {
    const { actions, wb } = setup();
    await actions.connect('http://hub.test', 'finance-token');
    expect(await actions.chartPots('SUMMER-2025')).toMatch(/^Added a chart on "Pots chart"/);
    expect(await actions.chartPots('AUTUMN-2025')).toMatch(/^Updated the chart on "Pots chart"/);
    const sheet = wb.sheet('Pots chart')!;
    expect(sheet.charts).toHaveLength(1);
    expect(sheet.charts[0].title.text).toBe('Community pots against allocations, AUTUMN-2025');
    expect(wb.sheets.filter((s) => s.name.startsWith('Pots chart'))).toHaveLength(1);
  });
});

describe("a scenario's whole block in Excel", () => {
  it('pulls every block line, the income and the DSG position per year beside the record and the plan, and the missing drivers', async () => {
    const { actions, wb } = setup();
    await actions.connect('http://hub.test', 'finance-token');
    const r = await actions.insert('scenarioBlock', { scenario: SCENARIO_60 });
    const t = wb.tableValues(r.table);
    expect(t[0]).toEqual([
      'Financial year',
      'Section',
      'Code',
      'Line',
      'Scenario',
      'Record',
      'Difference',
      'Plan',
      'Basis',
    ]);
    const row = (fy: string, code: string) => t.find((x) => x[0] === fy && x[2] === code)!;
    // Special schools at 60%: £100,000,000 + £6,000,000 against the record's £7,500,000 (75%).
    expect(row('2026-27', 'SPECIAL_SCHOOLS').slice(4)).toEqual([106_000_000, 107_500_000, -1_500_000, '', 'modelled']);
    expect(row('2026-27', 'CENTRAL_SEN_SERVICES').slice(4)).toEqual([20_000_000, 20_000_000, 0, '', 'given']);
    expect(row('2026-27', 'NOTIONAL_SEN')[1]).toBe('Memo (Schools block)');
    expect(row('2026-27', 'SPEND').slice(4, 7)).toEqual([126_000_000, 127_500_000, -1_500_000]);
    expect(row('2026-27', 'SCHOOLS_BLOCK_TRANSFER')[3]).toBe('Schools Block transfer (1.2%)');
    expect(row('2026-27', 'INCOME').slice(4, 7)).toEqual([115_000_000, 115_000_000, 0]);
    // In-year: 115m - 126m = -11m; cumulative from -50m brought forward: -61m (record -62.5m), plan -52m.
    expect(row('2026-27', 'IN_YEAR').slice(4, 8)).toEqual([-11_000_000, -12_500_000, 1_500_000, '']);
    expect(row('2026-27', 'CUMULATIVE').slice(4, 8)).toEqual([-61_000_000, -62_500_000, 1_500_000, -52_000_000]);
    expect(row('2027-28', 'CUMULATIVE').slice(4, 8)).toEqual([-77_000_000, -80_000_000, 3_000_000, -40_000_000]);
    // A driver the hub could not find is a row of its own, never a silent 0 inside a line.
    expect(t.filter((x) => x[1] === 'Missing driver')).toEqual([
      [
        '2027/28',
        'Missing driver',
        'PLACES',
        'No place numbers for school 118010 (SPECIAL) in 2027/28: its place funding is not counted.',
        '',
        '',
        '',
        '',
        'SPECIAL · URN 118010',
      ],
    ]);
    expect(wb.tableFormat(r.table, 0, 'Difference')).toBe('"£"#,##0.00;("£"#,##0.00)');
  });

  it('charts the scenario beside the plan and the record, one chart updated for another scenario', async () => {
    const { actions, wb } = setup();
    await actions.connect('http://hub.test', 'finance-token');
    await expect(actions.chartScenarioTrajectory('')).rejects.toThrow('Choose a scenario first');
    expect(await actions.chartScenarioTrajectory(SCENARIO_60)).toMatch(/^Added a chart on "Scenario trajectory chart"/);
    const sheet = wb.sheet('Scenario trajectory chart')!;
    const data = () => sheet.grid().slice(sheet.grid().findIndex((r) => r[0] === 'At'));
    expect(data().slice(0, 4)).toEqual([
      ['At', 'Safety Valve plan', 'Record', 'Scenario: Protection 60%'],
      ['Brought forward (2026-03-31)', -60_000_000, -50_000_000, -50_000_000],
      ['Mar 2027', -52_000_000, -62_500_000, -61_000_000],
      ['Mar 2028', -40_000_000, -80_000_000, -77_000_000],
    ]);
    expect(sheet.charts).toHaveLength(1);
    expect(sheet.charts[0].type).toBe('Line');
    expect(sheet.charts[0].title.text).toBe('Cumulative DSG position: "Protection 60%" beside the plan and the record');
    expect(await actions.chartScenarioTrajectory(SCENARIO_50)).toMatch(/^Updated the chart/);
    expect(sheet.charts).toHaveLength(1);
    expect(sheet.charts[0].title.text).toMatch(/"Protection 50%"/);
    expect(data()[2]).toEqual(['Mar 2027', -52_000_000, -62_500_000, -60_000_000]);
    await expect(actions.chartScenarioTrajectory('5c000000-0000-4000-8000-000000000999')).rejects.toThrow(
      /No scenario 5c000000-0000-4000-8000-000000000999/,
    );
  });
});
