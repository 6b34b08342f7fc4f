/**
 * The only module that calls Excel.run. Each method is one Excel.run with as few syncs as the limits
 * allow; all decisions (what to write, how to chunk, what a cell means) are made in core/.
 */
import { planChunks, DEFAULT_LIMITS } from '../core/chunks';
import type { TableSnapshot } from '../core/allocations';
import type { CellMark, ChartRequest, WorkbookPort, WriteStats, WriteTableRequest } from '../core/ports';
import { NUMBER_FORMATS, type CellValue } from '../core/types';

/** Where tables start: row 1 holds the stamp, row 2 is a gap, the header is row 3. */
export const HEADER_ROW = 2;

export function columnLetter(index: number): string {
  let s = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

export const READ_ONLY_FILL = '#EDEDED';

async function getOrAddSheet(ctx: Excel.RequestContext, name: string): Promise<Excel.Worksheet> {
  const ws = ctx.workbook.worksheets.getItemOrNullObject(name);
  await ctx.sync();
  return ws.isNullObject ? ctx.workbook.worksheets.add(name) : ws;
}

export class ExcelGateway implements WorkbookPort {
  async writeTable(req: WriteTableRequest): Promise<WriteStats> {
    const t0 = Date.now();
    const limits = req.limits ?? DEFAULT_LIMITS;
    const chunks = planChunks(req.rows, limits);
    const n = req.columns.length;
    let syncs = 0;
    await Excel.run(async (ctx) => {
      const ws = await getOrAddSheet(ctx, req.sheet);
      syncs++;
      const old = ctx.workbook.tables.getItemOrNullObject(req.table);
      await ctx.sync();
      syncs++;
      // A refresh rewrites the whole sheet: the table may have grown or shrunk, and a stale tail of old
      // rows under a new table would be exactly the silent staleness the stamp exists to prevent.
      if (!old.isNullObject) old.delete();
      ws.getRange().clear();
      ws.getRange('A1').values = [[req.stamp]];
      ws.getRange('A1').format.font.bold = true;
      ws.getRangeByIndexes(HEADER_ROW, 0, 1, n).values = [req.columns.map((c) => c.header)];
      if (req.rows.length) {
        req.columns.forEach((c, j) => {
          // A scalar applies to every cell of the range: one small instruction per column, not per cell.
          (ws.getRangeByIndexes(HEADER_ROW + 1, j, req.rows.length, 1) as any).numberFormat = NUMBER_FORMATS[c.kind];
        });
      }
      ctx.workbook.application.suspendApiCalculationUntilNextSync();
      await ctx.sync();
      syncs++;
      for (const ch of chunks) {
        ctx.workbook.application.suspendApiCalculationUntilNextSync();
        ctx.workbook.application.suspendScreenUpdatingUntilNextSync();
        ws.getRangeByIndexes(HEADER_ROW + 1 + ch.start, 0, ch.count, n).values = req.rows.slice(ch.start, ch.start + ch.count);
        await ctx.sync();
        syncs++;
      }
      const last = HEADER_ROW + 1 + Math.max(req.rows.length, 1);
      const table = ws.tables.add(`A${HEADER_ROW + 1}:${columnLetter(n - 1)}${last}`, true);
      table.name = req.table;
      ws.activate();
      if (req.styleReadOnly) {
        req.columns.forEach((c, j) => {
          if (!c.editable && req.rows.length) ws.getRangeByIndexes(HEADER_ROW + 1, j, req.rows.length, 1).format.fill.color = READ_ONLY_FILL;
        });
      }
      await ctx.sync();
      syncs++;
    });
    return { syncs, chunks, ms: Date.now() - t0 };
  }

  async readTable(name: string): Promise<TableSnapshot | null> {
    return Excel.run(async (ctx) => {
      const t = ctx.workbook.tables.getItemOrNullObject(name);
      await ctx.sync();
      if (t.isNullObject) return null;
      const header = t.getHeaderRowRange().load('values');
      const body = t.getDataBodyRange().load('values');
      await ctx.sync();
      return { name, header: header.values[0].map(String), rows: body.values as CellValue[][] };
    });
  }

  async readStore(sheet: string): Promise<unknown[][]> {
    return Excel.run(async (ctx) => {
      const ws = ctx.workbook.worksheets.getItemOrNullObject(sheet);
      await ctx.sync();
      if (ws.isNullObject) return [];
      const used = ws.getUsedRangeOrNullObject(true).load('values');
      await ctx.sync();
      return used.isNullObject ? [] : (used.values as unknown[][]);
    });
  }

  async writeStore(sheet: string, rows: string[][]): Promise<void> {
    await Excel.run(async (ctx) => {
      const ws = await getOrAddSheet(ctx, sheet);
      ws.visibility = 'Hidden';
      ws.getRange().clear();
      if (rows.length) {
        const width = Math.max(...rows.map((r) => r.length));
        const padded = rows.map((r) => [...r, ...Array(width - r.length).fill('')]);
        const range = ws.getRangeByIndexes(0, 0, padded.length, width);
        // Text format first, so "1234.50" and "0012" come back exactly as written.
        (range as any).numberFormat = '@';
        range.values = padded;
      }
      await ctx.sync();
    });
  }

  async setStamp(sheet: string, text: string, failed: boolean): Promise<void> {
    await Excel.run(async (ctx) => {
      const ws = ctx.workbook.worksheets.getItem(sheet);
      const cell = ws.getRange('A1');
      cell.values = [[text]];
      if (failed) {
        cell.format.fill.color = '#F4CCCC';
        cell.format.font.color = '#990000';
        ws.tabColor = '#CC0000';
      } else {
        cell.format.fill.clear();
        cell.format.font.color = '#000000';
        ws.tabColor = '';
      }
      await ctx.sync();
    });
  }

  async markRows(tableName: string, marks: CellMark[], result?: { header: string; values: string[] }): Promise<void> {
    await Excel.run(async (ctx) => {
      const table = ctx.workbook.tables.getItem(tableName);
      const header = table.getHeaderRowRange().load('values');
      await ctx.sync();
      let headers = header.values[0].map(String);
      if (result) {
        const idx = headers.indexOf(result.header);
        if (idx < 0) {
          table.columns.add(undefined, [[result.header], ...result.values.map((v) => [v])]);
          headers = [...headers, result.header];
        } else {
          table.columns.getItemAt(idx).getDataBodyRange().values = result.values.map((v) => [v]);
        }
      }
      const body = table.getDataBodyRange();
      for (const m of marks) {
        const j = headers.indexOf(m.column);
        if (j < 0) continue;
        const fill = body.getCell(m.row, j).format.fill;
        if (m.fill) fill.color = m.fill;
        else fill.clear();
      }
      await ctx.sync();
    });
  }

  async writeCells(tableName: string, cells: { row: number; column: string; value: CellValue }[]): Promise<void> {
    await Excel.run(async (ctx) => {
      const table = ctx.workbook.tables.getItem(tableName);
      const header = table.getHeaderRowRange().load('values');
      await ctx.sync();
      const headers = header.values[0].map(String);
      const body = table.getDataBodyRange();
      for (const c of cells) {
        const j = headers.indexOf(c.column);
        if (j >= 0) body.getCell(c.row, j).values = [[c.value]];
      }
      await ctx.sync();
    });
  }

  async addChart(req: ChartRequest): Promise<void> {
    await Excel.run(async (ctx) => {
      const ws = await getOrAddSheet(ctx, req.sheet);
      ws.getRange().clear();
      const n = req.header.length;
      ws.getRange('A1').values = [[req.title]];
      const data = ws.getRangeByIndexes(2, 0, req.rows.length + 1, n);
      data.values = [req.header, ...req.rows];
      const chart = ws.charts.add(req.type, data, 'Columns');
      chart.title.text = req.title;
      chart.setPosition(`${columnLetter(n + 1)}3`, `${columnLetter(n + 10)}24`);
      ws.activate();
      await ctx.sync();
    });
  }

  async recalculate(): Promise<void> {
    await Excel.run(async (ctx) => {
      ctx.workbook.application.calculate('Full');
      await ctx.sync();
    });
  }
}
