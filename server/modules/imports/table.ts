import Decimal from 'decimal.js';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { parse } from 'csv-parse/sync';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { cutText } from '../../errors';
import { FileRejected } from './report';

/** A cell as text, as the person would read it in Excel; `error` when the cell cannot give a value. */
export interface Cell {
  text: string;
  error?: string;
}

export interface Table {
  format: 'csv' | 'xlsx';
  header: string[];
  /** `line` is the CSV line or the sheet row number, as a person would find it. */
  rows: { line: number; cells: Map<string, Cell> }[];
  sheet?: string;
  /** Every sheet of a workbook, in order (XLSX only). */
  sheets?: string[];
  /** The line of the header (1 unless `findHeader` found it further down). */
  headerLine?: number;
  /** Rows `keepRow` left out. */
  droppedRows?: number;
}

/** How a kind reads its files; the hub's own templates need none of it. */
export interface TableOptions {
  /** Sheets to read, first found wins (else the first sheet). */
  preferredSheets?: string[];
  /** Wide published layouts (one column per formula factor) need more than the templates' few. */
  maxColumns?: number;
  /**
   * Published files put title rows above the header: the first of the first `headerScanRows` rows for which
   * this is true is the header (else line 1 is).
   */
  findHeader?: (cells: string[]) => boolean;
  headerScanRows?: number;
  /**
   * Rows after the header to read; the others are dropped as they are parsed (counted in `droppedRows`), so a
   * national file is read for one authority without holding every row.
   */
  keepRow?: (cells: string[], header: string[]) => boolean;
}

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/**
 * Small tabular files (finance templates: thousands of rows at most) are read whole. CSV is decoded as
 * UTF-8 when it is valid UTF-8 (templates from the hub are), else as Windows-1252 (Excel's "CSV (Comma
 * delimited)" on Windows).
 */
export async function readTable(buf: Buffer, options: string | TableOptions = 'Data'): Promise<Table> {
  const opts: TableOptions = typeof options === 'string' ? { preferredSheets: [options] } : options;
  if (buf.length === 0) throw new FileRejected('The file is empty.', []);
  if (buf.subarray(0, 4).equals(ZIP_MAGIC)) return readXlsx(buf, opts);
  if (buf.subarray(0, 8).equals(Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]))) {
    throw new FileRejected('The file is an old Excel 97-2003 workbook (.xls): save it as .xlsx or CSV.', []);
  }
  if (buf.subarray(0, 4096).includes(0)) throw new FileRejected('The file is binary: it is neither CSV nor XLSX.', []);
  return readCsv(buf, opts);
}

/** The header's index among the first rows: the first `findHeader` accepts, else 0. */
function headerIndex(rows: string[][], opts: TableOptions): number {
  if (!opts.findHeader) return 0;
  const n = Math.min(rows.length, opts.headerScanRows ?? 30);
  for (let i = 0; i < n; i++) if (opts.findHeader(rows[i])) return i;
  return 0;
}

function decode(buf: Buffer): string {
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return buf.subarray(3).toString('utf8');
  const utf8 = buf.toString('utf8');
  return utf8.includes('\uFFFD') ? iconv.decode(buf, 'win1252') : utf8;
}

function readCsv(buf: Buffer, opts: TableOptions = {}): Table {
  let records: { record: string[]; info: { lines: number } }[];
  let seen = 0;
  let found: string[] | null = null;
  let dropped = 0;
  const keep = opts.keepRow;
  try {
    records = parse(decode(buf), {
      relax_column_count: true,
      info: true,
      skip_empty_lines: true,
      max_record_size: 1_000_000,
      // Rows are filtered as they are parsed: only the header search needs the first ones.
      // With `info`, csv-parse hands on_record the { record, info } pair its types call a record.
      on_record: (keep
        ? (r: { record: string[] }) => {
            const cells = r.record.map((h) => h.trim());
            if (!found) {
              seen++;
              const isHeader = opts.findHeader ? opts.findHeader(cells) : true;
              if (isHeader || seen > (opts.headerScanRows ?? 30)) found = cells;
              return r;
            }
            if (keep(cells, found)) return r;
            dropped++;
            return null;
          }
        : undefined) as never,
    }) as never;
  } catch (err) {
    const line = (err as { lines?: number }).lines ?? 0;
    throw new FileRejected(`The file is not valid CSV at line ${line}: ${cutText((err as Error).message, 300)}`, [
      { line, column: null, value: null, reason: cutText((err as Error).message, 300) },
    ]);
  }
  if (records.length === 0) throw new FileRejected('The file is empty: it has no header line.', []);
  const at = headerIndex(
    records.map((r) => r.record.map((h) => h.trim())),
    opts,
  );
  const header = records[at].record.map((h) => h.trim());
  return {
    format: 'csv',
    header,
    headerLine: records[at].info.lines,
    droppedRows: dropped,
    rows: records.slice(at + 1).map(({ record, info }) => ({
      line: info.lines,
      cells: new Map(header.map((h, i) => [h, { text: (record[i] ?? '').trim() }])),
    })),
  };
}

/** Excel stores numbers as binary doubles: 15 significant digits is what Excel itself shows and keeps. */
function numberText(n: number): string {
  return new Decimal(n.toPrecision(15)).toFixed();
}

export function cellOf(v: ExcelJS.CellValue): Cell {
  if (v === null || v === undefined) return { text: '' };
  if (typeof v === 'number') return { text: numberText(v) };
  if (typeof v === 'string') return { text: v.trim() };
  if (typeof v === 'boolean') return { text: v ? 'TRUE' : 'FALSE' };
  if (v instanceof Date) return { text: v.toISOString().slice(0, 10) };
  if (typeof v === 'object') {
    if ('error' in v) return { text: String(v.error), error: `the cell holds the Excel error ${v.error}` };
    if ('formula' in v || 'sharedFormula' in v) {
      const result = (v as ExcelJS.CellFormulaValue).result;
      if (result === undefined || result === null) {
        return {
          text: `=${(v as ExcelJS.CellFormulaValue).formula ?? ''}`,
          error: 'the formula has no saved value: open the file in Excel and save it, or paste values',
        };
      }
      return cellOf(result as ExcelJS.CellValue);
    }
    if ('richText' in v)
      return {
        text: v.richText
          .map((r) => r.text)
          .join('')
          .trim(),
      };
    if ('text' in v) return { text: String((v as { text: unknown }).text).trim() };
  }
  return { text: String(v) };
}

/** Limits of the XLSX reading layer: a finance template is thousands of rows and a few columns. */
export const XLSX_LIMITS = {
  /** Inflated size of all entries together (checked from the zip's directory before inflating, then while inflating). */
  maxInflatedBytes: 256 * 1024 * 1024,
  /** An entry inflating to more than this many times its compressed size is a zip bomb, not a workbook. */
  maxRatio: 200,
  maxRows: 200_000,
  maxColumns: 200,
  /** Excel's own limit for a cell. */
  maxCellChars: 32_767,
};

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  dataStart: number;
}

/**
 * The zip's central directory, read from the buffer without inflating anything, so a small file that
 * declares a huge sheet is refused before any of it is inflated. ZIP64 is refused (no template needs it).
 */
function zipEntries(buf: Buffer): ZipEntry[] {
  const bad = (why: string) => new FileRejected(`The file looks like XLSX but is not a valid workbook: ${why}.`, []);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad('no zip directory (the file is cut short?)');
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || at === 0xffffffff) throw bad('a ZIP64 archive');
  const entries: ZipEntry[] = [];
  for (let k = 0; k < count; k++) {
    if (at + 46 > buf.length || buf.readUInt32LE(at) !== 0x02014b50) throw bad('a damaged zip directory');
    const method = buf.readUInt16LE(at + 10);
    const compressedSize = buf.readUInt32LE(at + 20);
    const size = buf.readUInt32LE(at + 24);
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.toString('utf8', at + 46, at + 46 + Math.min(nameLength, 200));
    if (compressedSize === 0xffffffff || size === 0xffffffff) throw bad('a ZIP64 archive');
    if (local + 30 > buf.length || buf.readUInt32LE(local) !== 0x04034b50) throw bad('a damaged zip entry');
    const dataStart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    if (dataStart + compressedSize > buf.length) throw bad('an entry runs past the end of the file');
    entries.push({ name, method, compressedSize, size, dataStart });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

const tooBig = (what: string) =>
  new FileRejected(
    `The workbook is too large once unpacked (${what}): a finance template is far smaller. Save only the data sheet, or use CSV.`,
    [],
  );

/**
 * Refuses a workbook whose entries declare, or actually inflate to, more than the limits. The real inflation is
 * counted chunk by chunk and thrown away (a directory can lie about sizes), so memory stays flat.
 */
async function checkInflatedSize(buf: Buffer): Promise<void> {
  const entries = zipEntries(buf);
  let declared = 0;
  for (const e of entries) {
    declared += e.size;
    if (declared > XLSX_LIMITS.maxInflatedBytes) throw tooBig(`${Math.round(declared / 1048576)} MB declared`);
    if (e.size > Math.max(1048576, e.compressedSize * XLSX_LIMITS.maxRatio))
      throw tooBig(`${e.name} inflates ${Math.round(e.size / Math.max(1, e.compressedSize))} times`);
  }
  let total = 0;
  for (const e of entries) {
    if (e.method === 0) {
      total += e.compressedSize;
      continue;
    }
    if (e.method !== 8)
      throw new FileRejected(`The workbook uses an unsupported compression (method ${e.method}).`, []);
    const limit = Math.min(XLSX_LIMITS.maxInflatedBytes - total, e.size + 1024);
    const inflater = zlib.createInflateRaw();
    inflater.end(buf.subarray(e.dataStart, e.dataStart + e.compressedSize));
    let n = 0;
    try {
      for await (const chunk of inflater) {
        n += (chunk as Buffer).length;
        if (n > limit) throw tooBig(`${e.name} inflates to more than it declares`);
      }
    } catch (err) {
      inflater.destroy();
      if (err instanceof FileRejected) throw err;
      throw new FileRejected(
        `The file looks like XLSX but cannot be read: ${cutText((err as Error).message, 200)}`,
        [],
      );
    }
    total += n;
  }
}

/**
 * XLSX through ExcelJS's streaming reader: rows are checked as they are read (count, width, cell length),
 * so memory follows the rows kept, never the inflated XML. The first of `preferredSheets` found is used, else the
 * first one.
 */
async function readXlsx(buf: Buffer, opts: TableOptions): Promise<Table> {
  await checkInflatedSize(buf);
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from([buf]), {
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    styles: 'cache', // dates are numbers with a date format: the styles say which
    worksheets: 'emit',
    entries: 'ignore',
  });
  const preferredSheets = opts.preferredSheets ?? ['Data'];
  const maxColumns = opts.maxColumns ?? XLSX_LIMITS.maxColumns;
  const rank = (name: string) => {
    const i = preferredSheets.indexOf(name);
    return i < 0 ? preferredSheets.length : i;
  };
  type Sheet = { name: string; rows: { number: number; cells: Cell[] }[] };
  let kept: Sheet | null = null;
  const sheets: string[] = [];
  let rowsRead = 0;
  try {
    for await (const ws of reader) {
      const name = (ws as unknown as { name: string }).name;
      sheets.push(name);
      const keep = !kept || rank(name) < rank(kept.name);
      const sheet: Sheet = { name, rows: [] };
      for await (const row of ws as AsyncIterable<ExcelJS.Row>) {
        if (++rowsRead > XLSX_LIMITS.maxRows) {
          throw new FileRejected(
            `The workbook has more than ${XLSX_LIMITS.maxRows} rows: a finance template is far smaller; split it.`,
            [],
          );
        }
        if (!keep) continue;
        const values = row.values as ExcelJS.CellValue[];
        if (values.length - 1 > maxColumns) {
          throw new FileRejected(
            `Row ${row.number} has more than ${maxColumns} columns: a finance template has a few.`,
            [{ line: row.number, column: null, value: null, reason: 'too many columns' }],
          );
        }
        const cells: Cell[] = [];
        for (let i = 1; i < values.length; i++) {
          const cell = cellOf(values[i]);
          if (cell.text.length > XLSX_LIMITS.maxCellChars) {
            throw new FileRejected(
              `Row ${row.number}, column ${i} holds more than ${XLSX_LIMITS.maxCellChars} characters (Excel's own limit).`,
              [{ line: row.number, column: String(i), value: cutText(cell.text, 60), reason: 'cell too long' }],
            );
          }
          cells.push(cell);
        }
        sheet.rows.push({ number: row.number, cells });
      }
      if (keep) kept = sheet;
    }
  } catch (err) {
    if (err instanceof FileRejected) throw err;
    // ExcelJS's streaming reader fails on some workbooks whose xl/workbook.xml comes after the sheets (ExcelJS itself
    // writes them so): the size is already bounded above, so read those whole.
    const whole = await loadWhole(buf, rank, maxColumns).catch(() => null);
    if (!whole)
      throw new FileRejected(
        `The file looks like XLSX but cannot be read: ${cutText((err as Error).message, 200)}`,
        [],
      );
    kept = whole.kept;
    sheets.splice(0, sheets.length, ...whole.sheets);
  }
  if (!kept) throw new FileRejected('The workbook has no sheets.', []);
  // Without a header finder the header is row 1 exactly, as in the hub's templates.
  const at = opts.findHeader
    ? headerIndex(
        kept.rows.map((r) => r.cells.map((c) => c.text)),
        opts,
      )
    : kept.rows.findIndex((r) => r.number === 1);
  const headerRow = at >= 0 ? kept.rows[at] : undefined;
  const header = headerRow ? headerRow.cells.map((c) => c.text) : [];
  const rows: Table['rows'] = [];
  let dropped = 0;
  for (const r of kept.rows.slice(at + 1)) {
    if (
      opts.keepRow &&
      !opts.keepRow(
        r.cells.map((c) => c.text),
        header,
      )
    ) {
      dropped++;
      continue;
    }
    const cells = new Map<string, Cell>();
    for (let i = 0; i < header.length; i++) cells.set(header[i], r.cells[i] ?? { text: '' });
    if ([...cells.values()].every((c) => c.text === '' && !c.error)) continue;
    rows.push({ line: r.number, cells });
  }
  return {
    format: 'xlsx',
    header,
    rows,
    sheet: kept.name,
    sheets,
    headerLine: headerRow?.number ?? 1,
    droppedRows: dropped,
  };
}

/** The whole-workbook reader, for what the streaming one cannot read: the preferred sheet's rows as cells. */
async function loadWhole(
  buf: Buffer,
  rank: (name: string) => number,
  maxColumns: number,
): Promise<{ kept: { name: string; rows: { number: number; cells: Cell[] }[] } | null; sheets: string[] }> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buf as unknown as ArrayBuffer);
  const sheets = wb.worksheets.map((w) => w.name);
  const ws = [...wb.worksheets].sort((a, b) => rank(a.name) - rank(b.name))[0];
  if (!ws) return { kept: null, sheets };
  const rows: { number: number; cells: Cell[] }[] = [];
  ws.eachRow((row) => {
    const values = row.values as ExcelJS.CellValue[];
    if (values.length - 1 > maxColumns)
      throw new FileRejected(
        `Row ${row.number} has more than ${maxColumns} columns: a finance template has a few.`,
        [],
      );
    rows.push({ number: row.number, cells: values.slice(1).map((v) => cellOf(v)) });
  });
  return { kept: { name: ws.name, rows }, sheets };
}
