import { excelDate, localStamp, pence, percent, pounds, ukDate } from '../../addin/src/core/format';
import { uniqueSheetName, uniqueTableName } from '../../addin/src/core/names';
import { blocks, runs } from '../../addin/src/core/blocks';
import type { CellValue } from '../../addin/src/core/types';
import { diffAllocations, resolveConflict, type TableSnapshot } from '../../addin/src/core/allocations';
import { planChunks } from '../../addin/src/core/chunks';
import { composeQuery, parseOperation } from '../../addin/src/core/compose';
import { fetchAllPages } from '../../addin/src/core/datasets';
import { moneyFromCell, sumMoney } from '../../addin/src/core/money-cells';
import { OPERATIONS } from '../../addin/src/core/operations.generated';
import { failedStampText, stampText } from '../../addin/src/core/stamp';
import { decodeBaseline, encodeBaseline, type BaselineRow } from '../../addin/src/core/store';

const HEADER = ['Id', 'School URN', 'School', 'Community', 'Term', 'Amount', 'Status', 'Purpose', 'Version'];
const base = (id: string, amount: string, version = 1): BaselineRow => ({
  id,
  version,
  schoolUrn: 118000 + Number(id),
  communityCode: 'ASH-01',
  term: 'SUMMER-2025',
  amount,
  status: 'APPROVED',
  purpose: 'Inclusion',
});
const row = (b: BaselineRow, amount: CellValue = Number(b.amount), status = b.status): CellValue[] => [
  b.id,
  b.schoolUrn,
  'School',
  b.communityCode,
  b.term,
  amount,
  status,
  b.purpose,
  b.version,
];

describe('allocation diff and validation', () => {
  const b1 = base('1', '1000.00', 3);
  const b2 = base('2', '2500.50');
  const baseline = new Map([
    [b1.id, b1],
    [b2.id, b2],
  ]);

  it('finds edits made against the baseline and sends the baseline version, not the sheet version', () => {
    const r1 = row(b1, 1200);
    r1[8] = 99; // someone typed over the Version column
    const snap: TableSnapshot = { name: 'HNH_allocations', header: HEADER, rows: [r1, row(b2)] };
    const d = diffAllocations(snap, baseline);
    expect(d.tableErrors).toEqual([]);
    expect(d.cellIssues).toEqual([]);
    expect(d.unchanged).toBe(1);
    expect(d.changes).toEqual([
      {
        row: 0,
        id: '1',
        base: b1,
        input: {
          schoolUrn: 118001,
          communityCode: 'ASH-01',
          term: 'SUMMER-2025',
          amount: '1200.00',
          purpose: 'Inclusion',
          status: 'APPROVED',
          baseVersion: 3,
        },
      },
    ]);
  });

  it('flags text in an amount cell on that cell and sends nothing for that row', () => {
    const snap = { name: 'HNH_allocations', header: HEADER, rows: [row(b1, '1,200'), row(b2, 2600.123)] };
    const d = diffAllocations(snap, baseline);
    expect(d.changes).toEqual([]);
    expect(d.cellIssues).toEqual([
      { row: 0, column: 'Amount', message: 'Amount is text ("1,200"), not a number' },
      { row: 1, column: 'Amount', message: 'Amount 2600.123 has more than 2 decimal places' },
    ]);
  });

  it('refuses a table whose header was edited, naming the table and the column', () => {
    const header = HEADER.map((h) => (h === 'Amount' ? 'Amount (£)' : h));
    const d = diffAllocations({ name: 'HNH_allocations', header, rows: [row(b1, 5)] }, baseline);
    expect(d.changes).toEqual([]);
    expect(d.tableErrors).toEqual([
      expect.stringMatching(
        /^Table "HNH_allocations": column "Amount" missing: a header was edited or a column deleted.*nothing was sent/,
      ),
    ]);
  });

  it('refuses a table whose key column was deleted', () => {
    const d = diffAllocations(
      { name: 'HNH_allocations_2', header: HEADER.slice(1), rows: [row(b1).slice(1)] },
      baseline,
    );
    expect(d.tableErrors[0]).toMatch(/Table "HNH_allocations_2": column "Id" missing/);
  });

  it('treats a row without an Id as a new allocation and a changed key as an error on that cell', () => {
    const fresh: CellValue[] = ['', 118010, 'New', 'ASH-01', 'SUMMER-2025', 500, 'PROPOSED', 'Outreach', ''];
    const moved = row(b2);
    moved[4] = 'AUTUMN-2025';
    const d = diffAllocations({ name: 'T', header: HEADER, rows: [row(b1), moved, fresh] }, baseline);
    expect(d.changes.map((c) => [c.row, c.id, c.input.baseVersion, c.input.amount])).toEqual([
      [2, null, null, '500.00'],
    ]);
    expect(d.cellIssues).toEqual([
      {
        row: 1,
        column: 'Term',
        message: 'Term of an existing allocation cannot change (was "SUMMER-2025"); add a new row instead',
      },
    ]);
  });

  it('reports pulled rows deleted from the sheet instead of sending them', () => {
    const d = diffAllocations({ name: 'T', header: HEADER, rows: [row(b1)] }, baseline);
    expect(d.removed.map((r) => r.id)).toEqual(['2']);
  });

  it('keep mine moves the base to their version; take theirs writes their value into the sheet', () => {
    const c = {
      row: 0,
      id: '1',
      base: { amount: '1000.00', status: 'APPROVED', version: 3 },
      mine: { amount: '1200.00', status: 'APPROVED' },
      theirs: { amount: '1100.00', status: 'APPROVED', version: 4 },
    };
    expect(resolveConflict(c, 'mine', b1)).toEqual({
      baseline: { ...b1, version: 4, amount: '1100.00' },
      sheet: { Version: 4 },
    });
    expect(resolveConflict(c, 'theirs', b1)).toEqual({
      baseline: { ...b1, version: 4, amount: '1100.00' },
      sheet: { Amount: 1100, Status: 'APPROVED', Version: 4 },
    });
  });

  it('round-trips the baseline through workbook cells exactly', () => {
    const store = new Map([['T', baseline]]);
    expect(decodeBaseline(encodeBaseline(store))).toEqual(store);
  });
});

describe('money', () => {
  it('reads cell numbers as exact 2-dp strings and sums in pence', () => {
    expect(moneyFromCell(0.1 + 0.2)).toEqual({ ok: true, value: '0.30' });
    expect(moneyFromCell(-5)).toEqual({ ok: true, value: '-5.00' });
    expect(moneyFromCell(null)).toEqual({ ok: false, message: 'Amount is empty' });
    expect(sumMoney(['0.10', '0.20', '1234567890.99'])).toBe('1234567891.29');
  });
});

describe('chunk planner', () => {
  it('never plans a chunk above the cell or byte limit and covers every row once', () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => [i, `name ${i}`, 'x'.repeat(i % 300)]);
    const chunks = planChunks(rows, { maxCells: 5_000, maxBytes: 200_000 });
    expect(chunks.every((c) => c.cells <= 5_000 && c.bytes <= 200_000)).toBe(true);
    expect(chunks.reduce((n, c) => n + c.count, 0)).toBe(10_000);
    chunks.forEach((c, i) => i && expect(c.start).toBe(chunks[i - 1].start + chunks[i - 1].count));
    expect(JSON.stringify(rows.slice(chunks[1].start, chunks[1].start + chunks[1].count)).length).toBeLessThanOrEqual(
      200_000,
    );
  });
});

describe('paging', () => {
  it('follows cursors to the end and stops on a cursor that does not advance', async () => {
    const pages = [
      { totalCount: 3, pageInfo: { hasNextPage: true, endCursor: 'a' }, nodes: [1, 2] },
      { totalCount: 3, pageInfo: { hasNextPage: true, endCursor: 'a' }, nodes: [3] },
    ];
    const seen: unknown[] = [];
    const hub = {
      request: async (_q: string, v: any) => {
        seen.push(v.after);
        return { schools: pages[seen.length - 1] };
      },
    } as any;
    expect(await fetchAllPages(hub, 'q', {}, (d) => d.schools)).toEqual([1, 2, 3]);
    expect(seen).toEqual([null, 'a']);
  });
});

describe('stamps', () => {
  it('keeps the old stamp inside a failed-refresh stamp', () => {
    const s = {
      source: 'https://hub/graphql',
      dataset: 'Schools',
      filters: { districtCode: 'E07000105' },
      asAt: '2025-05-02T10:00:00Z',
      by: 'Fiona',
      role: 'FINANCE',
    };
    // The stamp is in the reader's own local time with its zone (this test machine runs on UTC).
    expect(stampText(s)).toBe(
      `Schools from https://hub/graphql · filters: district=E07000105 · as at ${localStamp(new Date(s.asAt))} · by Fiona (FINANCE)`,
    );
    expect(failedStampText(s, '2025-05-03T09:00:00Z', 'Cannot reach the hub')).toBe(
      `REFRESH FAILED ${localStamp(new Date('2025-05-03T09:00:00Z'))}: Cannot reach the hub · figures below are still ${stampText(s)}`,
    );
  });

  it('writes times as a finance officer reads them: dd/mm/yyyy, 24-hour, with the zone', () => {
    expect(localStamp(new Date('2025-05-02T10:00:00Z'), 'Europe/London')).toBe('02/05/2025 11:00 BST');
    expect(localStamp(new Date('2025-12-02T10:00:00Z'), 'Europe/London')).toBe('02/12/2025 10:00 GMT');
  });
});

describe('finance formats', () => {
  it('writes pounds with thousands and bracketed negatives, rates as %, dates as dd/mm/yyyy, exactly', () => {
    expect([pounds('1234567.5'), pounds('-1000'), pounds('0.07'), pounds(null), pounds(-12.34)]).toEqual([
      '£1,234,567.50',
      '(£1,000.00)',
      '£0.07',
      '—',
      '(£12.34)',
    ]);
    expect([percent('0.7500'), percent('0.625'), percent('1'), percent('0.05')]).toEqual([
      '75%',
      '62.5%',
      '100%',
      '5%',
    ]);
    expect([ukDate('2026-09-01'), excelDate('2010-09-01'), excelDate('1900-03-01')]).toEqual(['01/09/2026', 40422, 61]);
    expect(pence('99999999999999.99')).toBe(9999999999999999n);
    expect(pence('1e3')).toBeNull();
  });

  it("names new sheets within Excel's rules, unique ignoring case", () => {
    expect(uniqueSheetName('Community pots', ['community POTS', 'Community pots 2'])).toBe('Community pots 3');
    expect(uniqueSheetName('Pots: autumn/spring [draft]?', [])).toBe('Pots autumn spring draft');
    const long = uniqueSheetName('A very long dataset label for a sheet', ['A very long dataset label for a']);
    expect([long, long.length]).toEqual(['A very long dataset label for 2', 31]);
    expect(uniqueSheetName("'History'", [])).toBe('HNH');
    expect(uniqueTableName('HNH_funding', ['hnh_FUNDING'])).toBe('HNH_funding_2');
  });
});

describe('blocks', () => {
  it('turns cells into runs: one instruction per contiguous block', () => {
    expect(runs([5, 0, 1, 2, 6])).toEqual([
      { start: 0, length: 3 },
      { start: 5, length: 2 },
    ]);
    const b = blocks(
      [
        { row: 3, c: 'A' },
        { row: 4, c: 'A' },
        { row: 9, c: 'A' },
        { row: 4, c: 'B' },
      ],
      (x) => x.c,
    );
    expect(b.map((x) => [x.item.c, x.start, x.length])).toEqual([
      ['A', 3, 2],
      ['A', 9, 1],
      ['B', 4, 1],
    ]);
  });
});

describe('operation composition', () => {
  it('aliases operation files and renames their variables', () => {
    const op = parseOperation(OPERATIONS.FnPot);
    expect(op.variables).toEqual([
      { name: 'code', type: 'String!' },
      { name: 'term', type: 'String!' },
    ]);
    const { query, variables } = composeQuery('B', [
      { alias: 'f0', op, variables: { code: 'A', term: 'T' } },
      { alias: 'f1', op, variables: { code: 'B', term: 'T' } },
    ]);
    expect(query).toMatch(/^query B\(\$f0_code: String!, \$f0_term: String!, \$f1_code: String!, \$f1_term: String!\)/);
    expect(query).toContain('f1: community(code: $f1_code)');
    expect(variables).toEqual({ f0_code: 'A', f0_term: 'T', f1_code: 'B', f1_term: 'T' });
  });
});
