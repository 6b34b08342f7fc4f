import { installFakeOffice } from '../../addin/src/dev/fake-office';
import { HubRequestError } from '../../addin/src/core/graphql';
import { ExcelGateway } from '../../addin/src/gateway/excel';
import { AddinActions, REJECTED_FILL } from '../../addin/src/app/actions';
import { session } from '../../addin/src/shared/session';
import { FakeHub, FakeHubData, SCENARIO_60 } from './helpers/fake-hub';

function setup(data = new FakeHubData()) {
  const host = installFakeOffice(globalThis);
  const hub = new FakeHub(data);
  let fetchImpl: typeof fetch = hub.fetch;
  const actions = new AddinActions({
    port: new ExcelGateway(),
    fetchImpl: ((...a: Parameters<typeof fetch>) => fetchImpl(...a)) as typeof fetch,
    now: () => new Date('2025-06-01T09:00:00Z'),
  });
  return { host, hub, actions, setFetch: (f: typeof fetch) => (fetchImpl = f) };
}

afterEach(() => {
  const s = session();
  s.client = undefined;
  s.me = undefined;
  s.token = undefined;
});

describe('task pane actions over the fake Excel host', () => {
  it('connects and knows who you are, keeping the token out of the workbook', async () => {
    const { actions, host } = setup();
    const me = await actions.connect('http://hub.test', 'finance-token');
    expect(me).toEqual({ name: 'Fiona Finance', role: 'FINANCE', communityCode: null });
    await actions.insert('schools', {});
    const everything = JSON.stringify(host.workbook.sheets.map((s) => s.grid()));
    expect(everything).not.toContain('finance-token');
  });

  it('refuses a wrong token with the hub message and stays disconnected', async () => {
    const { actions } = setup();
    await expect(actions.connect('http://hub.test', 'nope')).rejects.toMatchObject({ kind: 'UNAUTHENTICATED' });
    expect(session().client).toBeUndefined();
  });

  it('pulls 10,000 schools in pages of 1,000 into a stamped table without any sync above the limits', async () => {
    const { actions, host, hub } = setup(new FakeHubData(10_000));
    await actions.connect('http://hub.test', 'finance-token');
    const r = await actions.insert('schools', {});
    expect(r.rows).toBe(10_000);
    expect(hub.requests).toBe(1 + 10);
    const wb = host.workbook;
    expect(Math.max(...wb.syncs.map((s) => s.cells))).toBeLessThanOrEqual(100_000);
    expect(Math.max(...wb.syncs.map((s) => s.bytes))).toBeLessThanOrEqual(2_000_000);
    expect(wb.syncs.filter((s) => s.cells > 50_000).every((s) => s.calcSuspended)).toBe(true);
    // Screen updating is suspended once per Excel.run: calling it before every sync makes the screen flicker.
    expect(wb.syncs.reduce((n, s) => n + s.screenSuspendCalls, 0)).toBeLessThanOrEqual(wb.runs);
    const values = wb.tableValues('HNH_schools');
    expect(values).toHaveLength(10_001);
    expect(values[0].slice(0, 3)).toEqual(['URN', 'LAESTAB', 'Name']);
    expect(values[10_000][0]).toBe(127_999);
    expect(wb.sheet('Schools')!.cell(0, 0)!.value).toBe(
      'Schools from http://hub.test/graphql · filters: none · as at 01/06/2025 09:00 UTC · by Fiona Finance (FINANCE)',
    );
  });

  it('refreshes every table, marks the one that failed and keeps its old stamp', async () => {
    const { actions, host, hub, setFetch } = setup();
    await actions.connect('http://hub.test', 'finance-token');
    await actions.insert('schools', {});
    await actions.insert('pots', { term: 'SUMMER-2025' });
    hub.data.schools[0].name = 'Changed';
    const real = hub.fetch;
    setFetch((async (url: any, init: any) =>
      String(init.body).includes('CommunityPots')
        ? Promise.reject(new TypeError('connect ECONNREFUSED'))
        : real(url, init)) as typeof fetch);
    const results = await actions.refreshAll();
    expect(results.map((r) => [r.table, r.status])).toEqual([
      ['HNH_schools', 'refreshed'],
      ['HNH_pots', 'failed'],
    ]);
    expect(results[1].message).toMatch(/Cannot reach the hub/);
    expect(host.workbook.tableValues('HNH_schools')[1][2]).toBe('Changed');
    const stamp = String(host.workbook.sheet('Community pots')!.cell(0, 0)!.value);
    expect(stamp).toMatch(
      /^REFRESH FAILED .*Cannot reach the hub.* figures below are still Community pots .* as at 01\/06\/2025 09:00 UTC/,
    );
    expect(host.workbook.sheet('Community pots')!.tabColor).toBe('#CC0000');
    expect((await actions.listTables()).find((t) => t.table === 'HNH_pots')!.status).toBe('failed');
    // No =HNH function has run in this session, so there is nothing to recalculate.
    expect(host.workbook.calculations).toBe(0);
  });

  it('submits edited amounts after a dry run, writes results and moves the baseline on', async () => {
    const { actions, host, hub } = setup();
    await actions.connect('http://hub.test', 'finance-token');
    await actions.insert('allocations', {});
    host.workbook.setTableCell('HNH_allocations', 0, 'Amount', 15000);
    host.workbook.setTableCell('HNH_allocations', 2, 'Amount', 16000.5);
    const p = await actions.preview('HNH_allocations', 'SG-2025-07', 'Sub-Group June meeting');
    expect(p.kind).toBe('preview');
    if (p.kind !== 'preview') return;
    expect(p.preview.rows.map((r) => [r.row, r.before, r.after, r.result])).toEqual([
      [0, '£10,000.00 APPROVED', '£15,000.00 APPROVED', 'UPDATED'],
      [2, '£10,200.00 APPROVED', '£16,000.50 APPROVED', 'UPDATED'],
    ]);
    expect(p.preview.totals[0]).toMatchObject({
      communityCode: 'ASH-01',
      term: 'SUMMER-2025',
      approvedBefore: '30600.00',
      approvedAfter: '41400.50',
    });
    expect(hub.data.allocations[0].amount).toBe('10000.00');
    const out = await actions.confirm();
    expect(out.applied).toBe(true);
    expect(hub.data.allocations[0]).toMatchObject({ amount: '15000.00', version: 2 });
    const values = host.workbook.tableValues('HNH_allocations');
    const col = (h: string) => values[0].indexOf(h);
    expect(values[1][col('Result')]).toBe('updated (v2)');
    expect(values[1][col('Version')]).toBe(2);
    const again = await actions.preview('HNH_allocations', 'SG-2025-07', 'Sub-Group June meeting');
    expect(again.kind).toBe('nothing');
  });

  it('reuses the idempotency key when Confirm is pressed again after a timeout, so the change applies once', async () => {
    const { actions, host, hub, setFetch } = setup();
    await actions.connect('http://hub.test', 'finance-token');
    await actions.insert('allocations', {});
    host.workbook.setTableCell('HNH_allocations', 1, 'Amount', 11111);
    await actions.preview('HNH_allocations', 'D-1', 'why');
    const key = actions.idempotencyKey;
    const real = hub.fetch;
    // The hub applies the submit but the answer is lost on the way back.
    setFetch((async (url: any, init: any) => {
      await real(url, init);
      throw new TypeError('socket hang up');
    }) as typeof fetch);
    await expect(actions.confirm()).rejects.toMatchObject({ kind: 'UNREACHABLE' });
    expect(actions.idempotencyKey).toBe(key);
    setFetch(real);
    const out = await actions.confirm();
    expect(out.applied).toBe(true);
    expect(hub.data.allocations[1]).toMatchObject({ amount: '11111.00', version: 2 });
  });

  it('flags text in an amount cell on the cell and sends nothing', async () => {
    const { actions, host, hub } = setup();
    await actions.connect('http://hub.test', 'finance-token');
    await actions.insert('allocations', {});
    host.workbook.setTableCell('HNH_allocations', 3, 'Amount', 'twelve thousand');
    const before = hub.data.submits;
    const p = await actions.preview('HNH_allocations', 'D-1', 'why');
    expect(p).toEqual({
      kind: 'blocked',
      tableErrors: [],
      cellIssues: [{ row: 3, column: 'Amount', message: 'Amount is text ("twelve thousand"), not a number' }],
      // Body row 3 is Excel's row 7 (stamp, gap, header), and the school is named.
      issues: [
        {
          row: 3,
          sheetRow: 7,
          column: 'Amount',
          message: 'Row 7 (School 4, URN 118003), Amount: Amount is text ("twelve thousand"), not a number',
        },
      ],
    });
    expect(hub.data.submits).toBe(before);
    expect(host.workbook.tableFill('HNH_allocations', 3, 'Amount')).toBe(REJECTED_FILL);
  });

  it('shows base, mine and theirs for a row another writer changed, and "take theirs" clears it', async () => {
    const { actions, host, hub } = setup();
    await actions.connect('http://hub.test', 'finance-token');
    await actions.insert('allocations', {});
    host.workbook.setTableCell('HNH_allocations', 0, 'Amount', 20000);
    Object.assign(hub.data.allocations[0], { amount: '19000.00', version: 2 });
    const p = await actions.preview('HNH_allocations', 'D-2', 'why');
    expect(p.kind === 'preview' && p.preview.rejected).toBe(1);
    await expect(actions.confirm()).resolves.toMatchObject({ applied: false });
    const [c] = actions.conflicts;
    expect(c).toMatchObject({
      row: 0,
      base: { amount: '10000.00', version: 1 },
      mine: { amount: '20000.00' },
      theirs: { amount: '19000.00', version: 2 },
    });
    await actions.resolve(c, 'theirs');
    const values = host.workbook.tableValues('HNH_allocations');
    expect(values[1][values[0].indexOf('Amount')]).toBe(19000);
    expect((await actions.preview('HNH_allocations', 'D-2', 'why')).kind).toBe('nothing');
  });

  it('asks to reconnect when the token expires mid-session and keeps the edits in the sheet', async () => {
    const { actions, host, hub } = setup();
    await actions.connect('http://hub.test', 'finance-token');
    await actions.insert('allocations', {});
    host.workbook.setTableCell('HNH_allocations', 0, 'Amount', 12345);
    delete hub.data.tokens['finance-token'];
    const err = await actions.preview('HNH_allocations', 'D', 'r').catch((e) => e);
    expect(err).toBeInstanceOf(HubRequestError);
    expect(err.kind).toBe('UNAUTHENTICATED');
    hub.data.tokens['new-token'] = { name: 'Fiona Finance', role: 'FINANCE', communityCode: null };
    await actions.connect('http://hub.test', 'new-token');
    const p = await actions.preview('HNH_allocations', 'D', 'r');
    expect(p.kind === 'preview' && p.preview.rows[0].after).toBe('£12,345.00 APPROVED');
  });

  it('says the hub is unreachable instead of waiting forever', async () => {
    const { actions } = setup();
    await actions.connect('http://hub.test', 'finance-token');
    session().client = new (session().client!.constructor as any)({
      url: 'http://hub.test',
      token: () => 'finance-token',
      timeoutMs: 50,
      fetchImpl: () => new Promise(() => undefined),
    });
    await expect(actions.insert('schools', {})).rejects.toMatchObject({
      kind: 'TIMEOUT',
      message: expect.stringMatching(/did not answer/),
    });
  });

  it('inserts native charts for the Safety Valve trajectory and pots against allocations', async () => {
    const { actions, host } = setup();
    await actions.connect('http://hub.test', 'finance-token');
    await actions.chartSafetyValve();
    await actions.chartPots('SUMMER-2025');
    const sv = host.workbook.sheet('Safety Valve chart')!;
    expect(sv.charts[0]).toMatchObject({
      type: 'Line',
      title: { text: 'Safety Valve: cumulative DSG deficit, plan against forecast' },
    });
    expect(sv.grid()[3]).toEqual(['2023-24 Q4', -80000000, -85000000]);
    expect(host.workbook.sheet('Pots chart')!.charts[0].type).toBe('ColumnClustered');
  });

  it('pulls a scenario next to the figures of record: every school row has its record total and difference', async () => {
    const { actions, host, hub } = setup();
    await actions.connect('http://hub.test', 'finance-token');
    const r = await actions.insert('scenario', { scenario: SCENARIO_60, term: 'SUMMER-2025' });
    expect(r).toMatchObject({ table: 'HNH_scenario', sheet: 'Scenario vs record', rows: hub.data.schools.length });
    expect(hub.lastQueries.some((q) => /includeUnchanged: true/.test(q))).toBe(true);
    const values = host.workbook.tableValues('HNH_scenario');
    const head = values[0] as string[];
    expect(head).toEqual([
      'URN',
      'School',
      'Community',
      'Term',
      'Baseline funding',
      'Protected',
      'Community share',
      'Banded top-up',
      'Scenario total',
      'Record total',
      'Difference',
    ]);
    const col = (h: string) => head.indexOf(h);
    const rows = values.slice(1);
    // No blanks: unchanged rows (secondary schools, no protection either way) have a record total of their own.
    expect(
      rows.every((x) => typeof x[col('Record total')] === 'number' && typeof x[col('Difference')] === 'number'),
    ).toBe(true);
    const unchanged = rows.filter((x) => x[col('Difference')] === 0);
    expect(unchanged.length).toBe(hub.data.schools.filter((s) => s.phase === 'SECONDARY').length);
    for (const x of rows) {
      const urn = x[col('URN')] as number;
      expect(x[col('Scenario total')]).toBe(Number(hub.data.funding(urn, 'SUMMER-2025', '0.60').total));
      expect(x[col('Record total')]).toBe(Number(hub.data.funding(urn, 'SUMMER-2025').total));
      expect(Math.round(((x[col('Scenario total')] as number) - (x[col('Record total')] as number)) * 100)).toBe(
        Math.round((x[col('Difference')] as number) * 100),
      );
    }
    expect(host.workbook.sheet('Scenario vs record')!.cell(0, 0)!.value).toMatch(
      new RegExp(`^Scenario vs record from .* filters: scenario=${SCENARIO_60}, term=SUMMER-2025`),
    );
  });

  it("says so when a scenario is unknown, and passes the hub's FORBIDDEN through for roles without scenarios", async () => {
    const { actions } = setup();
    await actions.connect('http://hub.test', 'finance-token');
    await expect(actions.insert('scenario', {})).rejects.toThrow(/Scenario vs record needs: scenario/);
    await expect(actions.insert('scenario', { scenario: '5c000000-0000-4000-8000-0000000000ff' })).rejects.toThrow(
      /No scenario 5c000000-0000-4000-8000-0000000000ff, or you have no access to it/,
    );
    await actions.connect('http://hub.test', 'chair-token');
    await expect(actions.insert('scenario', { scenario: SCENARIO_60 })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(/Scenarios are for the High Needs Funding Sub-Group and Finance/),
    });
  });
});
