import { OfficeMockObject } from 'office-addin-mock';

// office-addin-mock needs only the OfficeApp enum from office-addin-manifest, whose other dependencies are
// ES modules that jest's CommonJS runtime on Node 20 cannot require.
jest.mock('office-addin-manifest', () => ({
  OfficeApp: { Excel: 'excel', OneNote: 'onenote', Outlook: 'outlook', PowerPoint: 'powerpoint', Project: 'project', Word: 'word' },
}));
import { DEFAULT_LIMITS } from '../../addin/src/core/chunks';
import { ALLOCATION_COLUMNS } from '../../addin/src/core/datasets';
import { ExcelGateway, columnLetter } from '../../addin/src/gateway/excel';

/**
 * An office-addin-mock workbook that records, per sync, the cells and bytes of values written and whether
 * calculation and screen updating were suspended, which is what the limits are about.
 */
function mockWorkbook(opts: { tableExists?: boolean; header?: string[]; body?: unknown[][] } = {}) {
  const log = { syncs: [] as { cells: number; bytes: number; calc: boolean; screen: boolean }[], ranges: [] as any[], tablesAdded: [] as string[], rowsAdd: 0 };
  let pending = { cells: 0, bytes: 0, calc: false, screen: false };
  const range = (rows = 1, cols = 1) => {
    const r: any = new OfficeMockObject({ values: [[]], format: { fill: { color: '' }, font: { color: '', bold: false } }, clear() {} });
    Object.defineProperty(r, 'values', {
      set(v: unknown[][]) {
        if (!Array.isArray(v) || v.length !== rows || v.some((row) => !Array.isArray(row) || row.length !== cols)) throw new Error(`values ${v.length}x? for ${rows}x${cols}`);
        pending.cells += rows * cols;
        pending.bytes += JSON.stringify(v).length;
      },
      get() { return opts.body ?? []; },
    });
    log.ranges.push(r);
    return r;
  };
  const sheet = new OfficeMockObject({
    isNullObject: false,
    activate() {},
    getRange: () => range(),
    getRangeByIndexes: (_r: number, _c: number, rows: number, cols: number) => range(rows, cols),
    tables: { add: (address: string) => { log.tablesAdded.push(address); return { name: '', rows: { add: () => log.rowsAdd++ } }; } },
  });
  const loaded = (values: unknown[][]) => ({ values, load() { return this; } });
  const table: any = new OfficeMockObject({
    delete() {},
    getHeaderRowRange: () => loaded([opts.header ?? []]),
    getDataBodyRange: () => loaded(opts.body ?? []),
  });
  // Office.js reads isNullObject after a sync without an explicit load; the mock would insist on one.
  Object.defineProperty(table, 'isNullObject', { value: !opts.tableExists });
  const context = new OfficeMockObject({
    workbook: {
      worksheets: { getItemOrNullObject: () => sheet, add: () => sheet },
      tables: { getItemOrNullObject: () => table },
      application: {
        suspendApiCalculationUntilNextSync: () => (pending.calc = true),
        suspendScreenUpdatingUntilNextSync: () => (pending.screen = true),
      },
    },
  }) as any;
  context.sync = async () => {
    log.syncs.push(pending);
    pending = { cells: 0, bytes: 0, calc: false, screen: false };
  };
  (globalThis as any).Excel = { run: async (cb: (ctx: unknown) => Promise<unknown>) => cb(context) };
  return log;
}

function allocationRows(n: number) {
  return Array.from({ length: n }, (_, i) => [String(i + 1), 118000 + i, `A school with a reasonably long name number ${i}`, 'ASH-01', 'SUMMER-2025', 12345.67 + i, 'APPROVED', 'Inclusion support for pupils with EHCPs', 3]);
}

describe('Excel gateway (office-addin-mock)', () => {
  it('writes a 10,000-row pull in chunks, none above 100,000 cells or 2 MB, each one 2-D range with calculation and screen updating suspended', async () => {
    const log = mockWorkbook();
    const rows = allocationRows(10_000);
    const stats = await new ExcelGateway().writeTable({ sheet: 'Allocations', table: 'HNH_allocations', stamp: 'stamp', columns: ALLOCATION_COLUMNS, rows, limits: { maxCells: 20_000, maxBytes: DEFAULT_LIMITS.maxBytes } });
    const dataSyncs = log.syncs.filter((s) => s.screen);
    expect(stats.chunks.length).toBe(5);
    expect(dataSyncs).toHaveLength(5);
    expect(dataSyncs.reduce((n, s) => n + s.cells, 0)).toBe(10_000 * 9);
    for (const s of log.syncs) {
      expect(s.cells).toBeLessThanOrEqual(20_000);
      expect(s.bytes).toBeLessThanOrEqual(2_000_000);
    }
    expect(dataSyncs.every((s) => s.calc)).toBe(true);
    expect(log.rowsAdd).toBe(0);
    expect(log.tablesAdded).toEqual([`A3:${columnLetter(8)}10003`]);
  });

  it('splits on bytes when rows are wide in text, keeping every sync under 2 MB', async () => {
    const log = mockWorkbook();
    const wide = Array.from({ length: 10_000 }, (_, i) => [i, 'x'.repeat(400), 'é'.repeat(100)]);
    const stats = await new ExcelGateway().writeTable({ sheet: 'S', table: 'T', stamp: 's', columns: [{ header: 'a', kind: 'int' }, { header: 'b', kind: 'text' }, { header: 'c', kind: 'text' }], rows: wide });
    expect(stats.chunks.length).toBeGreaterThan(2);
    expect(Math.max(...log.syncs.map((s) => s.bytes))).toBeLessThanOrEqual(2_000_000);
    expect(log.syncs.filter((s) => s.screen).reduce((n, s) => n + s.cells, 0)).toBe(30_000);
  });

  it('reads a table as header and body values, and answers null for a missing table', async () => {
    mockWorkbook({ tableExists: true, header: ['Id', 'Amount'], body: [['1', 10], ['2', 20]] });
    const snap = await new ExcelGateway().readTable('HNH_allocations');
    expect(snap).toEqual({ name: 'HNH_allocations', header: ['Id', 'Amount'], rows: [['1', 10], ['2', 20]] });
    mockWorkbook({ tableExists: false });
    expect(await new ExcelGateway().readTable('Gone')).toBeNull();
  });

  it('names columns past Z the way Excel does', () => {
    expect([0, 25, 26, 51, 52, 701, 702].map(columnLetter)).toEqual(['A', 'Z', 'AA', 'AZ', 'BA', 'ZZ', 'AAA']);
  });
});
