/**
 * The only module that calls Excel.run. Each method is one Excel.run with as few syncs as the limits
 * allow; all decisions (what to write, how to chunk, what a cell means) are made in core/.
 *
 * What it never does: delete a pulled table, clear a sheet it did not create, write outside a table it
 * pulled (apart from the stamp cell above it), or set a format cell by cell. A refresh finds its table by
 * Excel's Table.id, so a renamed or moved table is still the same table, and rewrites it in place: values
 * over the add-in's own columns (found by header, wherever the user moved them), rows added or deleted at the
 * end. Columns the user added, notes beside the table and formulas that read it (=SUM(HNH_funding[Total]))
 * all survive, because the table itself does.
 */
import { planChunks, DEFAULT_LIMITS } from '../core/chunks';
import type { TableSnapshot } from '../core/allocations';
import { uniqueSheetName, uniqueTableName } from '../core/names';
import type {
  CellMark,
  ChartPlaced,
  ChartRequest,
  MarkRequest,
  WorkbookPort,
  WriteStats,
  WriteTableRequest,
} from '../core/ports';
import { NUMBER_FORMATS, type CellValue } from '../core/types';
import { blocks, runs } from '../core/blocks';
import { prepareToShare, type SharePlan, type ShareResult } from '../core/share';

/** Where a new table starts: row 1 holds the stamp, row 2 is a gap, the header is row 3. */
export const HEADER_ROW = 2;
export const READ_ONLY_FILL = '#EDEDED';
/** Sync before a batch of small instructions passes this many bytes (Excel on the web refuses 5 MB). */
const BATCH_BYTES = 1_500_000;
/** What one format or value instruction on a new range costs in a request, roughly (see fake-office.ts). */
const INSTRUCTION_BYTES = 600;

export function columnLetter(index: number): string {
  let s = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

/** Optional requirement sets are checked here, once, and degrade gracefully where they are missing. */
export function has(set: string, version: string): boolean {
  const o = (globalThis as { Office?: typeof Office }).Office;
  try {
    return !!o?.context?.requirements?.isSetSupported(set, version);
  } catch {
    return false;
  }
}

export class TableGoneError extends Error {
  constructor(table: string) {
    super(`The table ${table} is no longer in this workbook (deleted?): pull it again`);
    this.name = 'TableGoneError';
  }
}

/** A stamp is ours to overwrite only if it is empty or looks like a stamp the add-in wrote. */
function isStampCell(v: unknown, stampPrefix: string): boolean {
  const s = v === null || v === undefined ? '' : String(v);
  return s === '' || s.startsWith(stampPrefix) || s.startsWith('REFRESH FAILED');
}

interface Located {
  table: Excel.Table;
  ws: Excel.Worksheet;
  headers: string[];
  /** Sheet row and column (0-based) of the header's first cell. */
  row0: number;
  col0: number;
  bodyRows: number;
}

async function locate(ctx: Excel.RequestContext, key: string): Promise<Located | null> {
  const table = ctx.workbook.tables.getItemOrNullObject(key);
  table.load('id,name');
  await ctx.sync();
  if (table.isNullObject) return null;
  const ws = table.worksheet;
  ws.load('id,name');
  const header = table.getHeaderRowRange();
  header.load('values,rowIndex,columnIndex');
  const body = table.getDataBodyRange();
  body.load('rowCount');
  await ctx.sync();
  return {
    table,
    ws,
    headers: header.values[0].map((h) => String(h)),
    row0: header.rowIndex,
    col0: header.columnIndex,
    bodyRows: body.rowCount,
  };
}

export class ExcelGateway implements WorkbookPort {
  async writeTable(req: WriteTableRequest): Promise<WriteStats> {
    const t0 = Date.now();
    const limits = req.limits ?? DEFAULT_LIMITS;
    const chunks = planChunks(req.rows, limits);
    let syncs = 0;
    const sync = async (ctx: Excel.RequestContext) => {
      await ctx.sync();
      syncs++;
    };
    const out = await Excel.run(async (ctx) => {
      // Once per run: suspending screen updating before every sync makes the screen flicker. ExcelApi 1.9;
      // without it the pull only repaints as it goes.
      if (has('ExcelApi', '1.9')) ctx.workbook.application.suspendScreenUpdatingUntilNextSync();
      let key = req.tableId;
      const stampPrefix = req.stamp.slice(0, req.stamp.indexOf(' from ') + 6);
      if (!key) {
        const sheets = ctx.workbook.worksheets.load('items/name');
        const tables = ctx.workbook.tables.load('items/name');
        await sync(ctx);
        const ws = ctx.workbook.worksheets.add(
          uniqueSheetName(
            req.sheetName,
            sheets.items.map((s) => s.name),
          ),
        );
        ws.getRange('A1').values = [[req.stamp]];
        ws.getRange('A1').format.font.bold = true;
        ws.getRangeByIndexes(HEADER_ROW, 0, 1, req.columns.length).values = [req.columns.map((c) => c.header)];
        const table = ws.tables.add(
          `A${HEADER_ROW + 1}:${columnLetter(req.columns.length - 1)}${HEADER_ROW + 2}`,
          true,
        );
        table.name = uniqueTableName(
          req.tableName,
          tables.items.map((t) => t.name),
        );
        table.load('id');
        ws.activate();
        await sync(ctx);
        key = table.id;
      }
      const at = await locate(ctx, key);
      syncs += 2;
      if (!at) throw new TableGoneError(req.tableName);
      const { table, ws } = at;
      // The add-in's columns by header, wherever they are; one the user deleted comes back at the right.
      let width = at.headers.length;
      const index = new Map(at.headers.map((h, j) => [h, j]));
      for (const c of req.columns) {
        if (index.has(c.header)) continue;
        table.columns.add(undefined, [[c.header], ...Array.from({ length: at.bodyRows }, () => [''])]);
        index.set(c.header, width++);
      }
      const cols = req.columns.map((c) => index.get(c.header)!);
      const body0 = at.row0 + 1;
      const existing = at.bodyRows;
      const want = req.rows.length;
      // Runs of adjacent table columns the add-in owns: one 2-D write per run and chunk.
      const colRuns = runs(cols);
      const pick = (row: CellValue[], run: { start: number; length: number }) =>
        Array.from({ length: run.length }, (_, k) => row[cols.indexOf(run.start + k)]);
      for (const ch of chunks) {
        ctx.workbook.application.suspendApiCalculationUntilNextSync();
        const inPlace = Math.max(0, Math.min(ch.count, existing - ch.start));
        if (inPlace > 0) {
          for (const run of colRuns) {
            ws.getRangeByIndexes(body0 + ch.start, at.col0 + run.start, inPlace, run.length).values = req.rows
              .slice(ch.start, ch.start + inPlace)
              .map((r) => pick(r, run));
          }
        }
        if (inPlace < ch.count) {
          // New rows go on at the end of the table; the user's own columns get null (left to Excel, so a
          // calculated column fills itself).
          const added = req.rows.slice(ch.start + inPlace, ch.start + ch.count).map((r) => {
            const full: CellValue[] = Array(width).fill(null);
            cols.forEach((j, k) => (full[j] = r[k] ?? ''));
            return full;
          });
          table.rows.add(undefined, added as any);
        }
        await sync(ctx);
      }
      const keep = Math.max(want, 1);
      if (existing > keep) {
        // Fewer rows than before: the tail rows of the table go, and what is under the table moves up with it.
        ws.getRangeByIndexes(body0 + keep, at.col0, existing - keep, width).delete('Up');
      }
      if (want === 0) {
        // A table keeps one body row; an empty pull leaves it blank, ready for a first entry.
        for (const run of colRuns)
          ws.getRangeByIndexes(body0, at.col0 + run.start, 1, run.length).values = [Array(run.length).fill('')];
      }
      // Formats per column, never per cell: one instruction each.
      req.columns.forEach((c, k) => {
        const col = ws.getRangeByIndexes(body0, at.col0 + cols[k], keep, 1);
        col.numberFormat = NUMBER_FORMATS[c.kind] as any;
        if (req.styleReadOnly && !c.editable) col.format.fill.color = READ_ONLY_FILL;
      });
      let stampCell: Excel.Range | null = null;
      if (at.row0 >= 2) {
        stampCell = ws.getRangeByIndexes(at.row0 - 2, at.col0, 1, 1);
        stampCell.load('values');
      }
      table.load('name');
      await sync(ctx);
      if (stampCell && isStampCell(stampCell.values[0][0], stampPrefix)) {
        stampCell.values = [[req.stamp]];
        stampCell.format.fill.clear();
        stampCell.format.font.color = '#000000';
        if (has('ExcelApi', '1.7')) ws.tabColor = '';
        await sync(ctx);
      }
      return { tableId: key, table: table.name, sheet: ws.name, sheetId: ws.id };
    });
    return { syncs, chunks, ms: Date.now() - t0, ...out };
  }

  async readTable(key: string): Promise<TableSnapshot | null> {
    return Excel.run(async (ctx) => {
      const at = await locate(ctx, key);
      if (!at) return null;
      const body = at.table.getDataBodyRange().load('values');
      // Rows typed directly under the table that Excel did not take in (AutoExpansion off, or pasted).
      const below = at.table.getRange().getRowsBelow(50).load('values');
      await ctx.sync();
      const belowRows: CellValue[][] = [];
      for (const r of below.values as CellValue[][]) {
        if (r.every((x) => x === '' || x === null)) break;
        belowRows.push(r);
      }
      return {
        name: at.table.name,
        id: at.table.id,
        sheet: at.ws.name,
        header: at.headers,
        rows: body.values as CellValue[][],
        below: belowRows,
        headerRow: at.row0,
        headerCol: at.col0,
      };
    });
  }

  async adoptRowsBelow(key: string, rows: number): Promise<boolean> {
    // Table.resize is ExcelApi 1.13; without it the person is asked to type inside the table instead.
    if (!rows || !has('ExcelApi', '1.13')) return false;
    return Excel.run(async (ctx) => {
      const at = await locate(ctx, key);
      if (!at) return false;
      if (has('ExcelApi', '1.13')) {
        at.table.resize(at.ws.getRangeByIndexes(at.row0, at.col0, at.bodyRows + 1 + rows, at.headers.length));
      }
      await ctx.sync();
      return true;
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
      let ws = ctx.workbook.worksheets.getItemOrNullObject(sheet);
      await ctx.sync();
      if (ws.isNullObject) ws = ctx.workbook.worksheets.add(sheet);
      // VeryHidden: not listed under Unhide, so the baseline and settings cannot be edited by accident.
      ws.visibility = 'VeryHidden' as Excel.SheetVisibility;
      // The store sheet is the add-in's own; it is rewritten whole.
      ws.getRange().clear();
      if (rows.length) {
        const width = Math.max(...rows.map((r) => r.length));
        const padded = rows.map((r) => [...r, ...Array(width - r.length).fill('')]);
        const range = ws.getRangeByIndexes(0, 0, padded.length, width);
        // Text format first, so "1234.50" and "0012" come back exactly as written.
        range.numberFormat = '@' as any;
        range.values = padded;
      }
      await ctx.sync();
    });
  }

  async setStamp(key: string, text: string, failed: boolean): Promise<void> {
    await Excel.run(async (ctx) => {
      const at = await locate(ctx, key);
      if (!at || at.row0 < 2) return;
      const cell = at.ws.getRangeByIndexes(at.row0 - 2, at.col0, 1, 1).load('values');
      await ctx.sync();
      const prefix = text.startsWith('REFRESH FAILED') ? 'REFRESH FAILED' : text.slice(0, text.indexOf(' from ') + 6);
      if (!isStampCell(cell.values[0][0], prefix) && !String(cell.values[0][0]).includes(' from ')) return;
      cell.values = [[text]];
      if (failed) {
        cell.format.fill.color = '#F4CCCC';
        cell.format.font.color = '#990000';
        if (has('ExcelApi', '1.7')) at.ws.tabColor = '#CC0000';
      } else {
        cell.format.fill.clear();
        cell.format.font.color = '#000000';
        if (has('ExcelApi', '1.7')) at.ws.tabColor = '';
      }
      await ctx.sync();
    });
  }

  async markRows(key: string, req: MarkRequest): Promise<void> {
    await Excel.run(async (ctx) => {
      const at = await locate(ctx, key);
      if (!at) throw new TableGoneError(key);
      const { ws, table } = at;
      let headers = at.headers;
      let bytes = 0;
      const spend = async (n: number) => {
        bytes += n;
        if (bytes > BATCH_BYTES) {
          await ctx.sync();
          bytes = 0;
        }
      };
      const body0 = at.row0 + 1;
      if (req.result) {
        const idx = headers.indexOf(req.result.header);
        if (idx < 0) {
          table.columns.add(undefined, [[req.result.header], ...Array.from({ length: at.bodyRows }, () => [''])]);
          headers = [...headers, req.result.header];
          await ctx.sync();
        }
        const j = headers.indexOf(req.result.header);
        const vals = req.result.values.slice(0, at.bodyRows);
        // The Result column in slices that stay well under the request limit.
        for (let start = 0; start < vals.length;) {
          let n = 0;
          let size = 0;
          while (start + n < vals.length && size < 1_000_000) size += vals[start + n++].length + 8;
          ws.getRangeByIndexes(body0 + start, at.col0 + j, n, 1).values = vals.slice(start, start + n).map((v) => [v]);
          start += n;
          await spend(size + INSTRUCTION_BYTES);
        }
      }
      for (const column of req.clearColumns) {
        const j = headers.indexOf(column);
        if (j >= 0 && at.bodyRows > 0) ws.getRangeByIndexes(body0, at.col0 + j, at.bodyRows, 1).format.fill.clear();
      }
      for (const b of blocks(
        req.marks.filter((m) => m.row < at.bodyRows),
        (m: CellMark) => `${m.column}\u0000${m.fill}`,
      )) {
        const j = headers.indexOf(b.item.column);
        if (j < 0) continue;
        ws.getRangeByIndexes(body0 + b.start, at.col0 + j, b.length, 1).format.fill.color = b.item.fill;
        await spend(INSTRUCTION_BYTES);
      }
      await ctx.sync();
    });
  }

  async writeCells(key: string, cells: { row: number; column: string; value: CellValue }[]): Promise<void> {
    await Excel.run(async (ctx) => {
      const at = await locate(ctx, key);
      if (!at) throw new TableGoneError(key);
      let bytes = 0;
      const byColumn = new Map<string, { row: number; value: CellValue }[]>();
      for (const c of cells) {
        if (!byColumn.has(c.column)) byColumn.set(c.column, []);
        byColumn.get(c.column)!.push(c);
      }
      for (const [column, list] of byColumn) {
        const j = at.headers.indexOf(column);
        if (j < 0) continue;
        list.sort((a, b) => a.row - b.row);
        // Consecutive rows of one column are one 2-D write.
        for (let i = 0; i < list.length;) {
          let n = 1;
          while (i + n < list.length && list[i + n].row === list[i].row + n) n++;
          if (list[i].row < at.bodyRows) {
            at.ws.getRangeByIndexes(at.row0 + 1 + list[i].row, at.col0 + j, n, 1).values = list
              .slice(i, i + n)
              .map((c) => [c.value]);
            bytes += INSTRUCTION_BYTES + n * 16;
            if (bytes > BATCH_BYTES) {
              await ctx.sync();
              bytes = 0;
            }
          }
          i += n;
        }
      }
      await ctx.sync();
    });
  }

  async addChart(req: ChartRequest): Promise<ChartPlaced> {
    return Excel.run(async (ctx) => {
      let ws: Excel.Worksheet | null = null;
      if (req.sheetId) {
        const found = ctx.workbook.worksheets.getItemOrNullObject(req.sheetId);
        await ctx.sync();
        if (!found.isNullObject) ws = found;
      }
      let updated: boolean;
      if (!ws) {
        const sheets = ctx.workbook.worksheets.load('items/name');
        await ctx.sync();
        ws = ctx.workbook.worksheets.add(
          uniqueSheetName(
            req.sheetName,
            sheets.items.map((s) => s.name),
          ),
        );
      }
      const n = req.header.length;
      // The data block is the add-in's own (on its own sheet): the previous one is cleared before the new one.
      const used = ws.getUsedRangeOrNullObject(true).load('rowCount');
      await ctx.sync();
      const oldRows = used.isNullObject ? 0 : used.rowCount;
      if (oldRows > 2) ws.getRangeByIndexes(2, 0, oldRows - 2, n).clear('Contents' as Excel.ClearApplyTo);
      ws.getRange('A1').values = [[req.title]];
      ws.getRange('A1').format.font.bold = true;
      const data = ws.getRangeByIndexes(2, 0, req.rows.length + 1, n);
      data.values = [req.header, ...req.rows];
      if (req.numberFormat && req.rows.length)
        ws.getRangeByIndexes(3, 1, req.rows.length, n - 1).numberFormat = req.numberFormat as any;
      const existing = ws.charts.getItemOrNullObject(req.chartName);
      await ctx.sync();
      if (existing.isNullObject) {
        const chart = ws.charts.add(req.type as Excel.ChartType, data, 'Columns' as Excel.ChartSeriesBy);
        chart.name = req.chartName;
        chart.title.text = req.title;
        chart.setPosition(`${columnLetter(n + 1)}3`, `${columnLetter(n + 10)}24`);
        updated = false;
      } else {
        existing.setData(data, 'Columns' as Excel.ChartSeriesBy);
        existing.title.text = req.title;
        updated = true;
      }
      ws.activate();
      ws.load('id,name');
      await ctx.sync();
      return { sheetId: ws.id, sheet: ws.name, updated };
    });
  }

  /**
   * Prepare to share: the saved file of this workbook (Office's compressed file, in slices), cleaned by
   * core/share.ts, opened as a new workbook. The open workbook is not changed.
   */
  async shareCopy(plan: SharePlan): Promise<ShareResult> {
    if (!has('ExcelApi', '1.8'))
      throw new Error(
        'Prepare to share needs a newer Excel (ExcelApi 1.8: Excel 2019, Microsoft 365 or Excel on the web)',
      );
    const bytes = await new Promise<Uint8Array>((resolve, reject) => {
      Office.context.document.getFileAsync(Office.FileType.Compressed, { sliceSize: 4 * 1024 * 1024 }, (res) => {
        if (res.status !== Office.AsyncResultStatus.Succeeded) return reject(new Error(res.error.message));
        const file = res.value;
        const parts: number[][] = [];
        const next = (i: number) => {
          if (i >= file.sliceCount) {
            file.closeAsync();
            const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
            let at = 0;
            for (const p of parts) {
              all.set(p, at);
              at += p.length;
            }
            return resolve(all);
          }
          file.getSliceAsync(i, (s) => {
            if (s.status !== Office.AsyncResultStatus.Succeeded) {
              file.closeAsync();
              return reject(new Error(s.error.message));
            }
            parts.push(s.value.data as number[]);
            next(i + 1);
          });
        };
        next(0);
      });
    });
    const result = await prepareToShare(bytes, plan);
    let bin = '';
    for (let i = 0; i < result.bytes.length; i += 0x8000)
      bin += String.fromCharCode(...result.bytes.subarray(i, i + 0x8000));
    if (has('ExcelApi', '1.8')) await Excel.createWorkbook(btoa(bin));
    return result;
  }

  async recalculate(addresses: string[] = []): Promise<void> {
    await Excel.run(async (ctx) => {
      if (!addresses.length) {
        // Nothing known to recalculate: a full recalculation is the only way to re-run non-volatile functions.
        ctx.workbook.application.calculate('Full' as Excel.CalculationType);
        await ctx.sync();
        return;
      }
      const sheets = ctx.workbook.worksheets.load('items/name');
      await ctx.sync();
      const names = new Set(sheets.items.map((s) => s.name.toLowerCase()));
      let bytes = 0;
      for (const a of addresses) {
        const bang = a.lastIndexOf('!');
        if (bang < 0) continue;
        let sheet = a.slice(0, bang);
        if (sheet.startsWith("'") && sheet.endsWith("'")) sheet = sheet.slice(1, -1).split("''").join("'");
        // A cell on a sheet deleted since it was calculated is simply gone.
        if (!names.has(sheet.toLowerCase())) continue;
        ctx.workbook.worksheets
          .getItem(sheet)
          .getRange(a.slice(bang + 1))
          .calculate();
        bytes += INSTRUCTION_BYTES;
        if (bytes > BATCH_BYTES) {
          await ctx.sync();
          bytes = 0;
        }
      }
      await ctx.sync();
    });
  }
}
