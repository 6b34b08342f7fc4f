import Decimal from 'decimal.js';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { parse } from 'csv-parse';
import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { cutText } from '../../errors';
import { FileRejected } from './report';

/** A cell as text, as the person would read it in Excel; `error` when the cell cannot give a value. */
export interface Cell {
  text: string;
  error?: string;
}

/** One row of a table as it is walked: its line and its cells by heading. Made as the rows are walked, not stored. */
export interface TableRow {
  /** The CSV line or the sheet row number, as a person would find it. */
  readonly line: number;
  /** The cell under `heading` as text ('' when the row has none, or there is no such heading). */
  text(heading: string | undefined): string;
  /** The reason the cell under `heading` cannot give a value (an Excel error, a formula never calculated). */
  error(heading: string | undefined): string | undefined;
}

/** What is stored per cell: its text, or an XLSX number as the number (its text made when asked). */
type Stored = string | number;
/** A cell as a reader hands it over: as stored, or a cell that cannot give a value. */
type Raw = Stored | Required<Cell>;

/** Excel stores numbers as binary doubles: 15 significant digits is what Excel itself shows and keeps. */
function numberText(n: number): string {
  return new Decimal(n.toPrecision(15)).toFixed();
}

const textOf = (v: Raw): string => (typeof v === 'string' ? v : typeof v === 'number' ? numberText(v) : v.text);

/**
 * A string of its own. A parser's cell text can be a slice of the whole chunk of XML it was cut from (V8 makes
 * substrings of 13 characters or more so), and keeping the cell would keep the chunk: 177,000 cells of a 20 MB
 * workbook kept some 60 MB of XML so. JSON's round trip gives back exactly the same characters, in a string of
 * their own.
 */
const copied = (s: string): string => (s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string));

/** Short texts repeat down a column (a term, a code): one copy each, up to this many different ones per table. */
const INTERN_MAX_CHARS = 40;
const INTERN_MAX_ENTRIES = 50_000;

/**
 * The rows of a table, held compactly: one flat array of cell values (strings, XLSX numbers as numbers), `width`
 * per row, for the columns kept only (a template's own columns: the others are dropped as the file is read); the
 * lines in a second array; the rare cells that cannot give a value in a sparse map. No object per row or cell is
 * kept: a row is a view made as the rows are walked. For a 20 MB file of 177,000 rows this is some 15 MB where a Map
 * of cell objects per row was 134 MB.
 */
export class TableRows implements Iterable<TableRow> {
  /** Heading → slot in a row, for the columns kept (a repeated heading: its last column, as a Map of cells had it). */
  private readonly slots = new Map<string, number>();
  /** Slot → the column of the file it is read from. */
  readonly columns: number[] = [];
  /** Headings of the file whose cells were not kept: asking for one is a programming error, not an empty cell. */
  private readonly notKept = new Set<string>();
  /** Every distinct heading's column (the last of a repeated heading): what a blank row is blank over. */
  readonly headingColumns: number[] = [];
  private readonly lines: number[] = [];
  private readonly cells: Stored[] = [];
  private errors: Map<number, string> | null = null;
  private readonly interned = new Map<string, string>();

  constructor(header: readonly string[], keep?: readonly string[]) {
    const last = new Map<string, number>();
    header.forEach((h, i) => last.set(h, i));
    const wanted = keep ? new Set(keep) : null;
    for (const [h, i] of last) {
      this.headingColumns.push(i);
      if (wanted && !wanted.has(h)) {
        this.notKept.add(h);
        continue;
      }
      this.slots.set(h, this.columns.length);
      this.columns.push(i);
    }
  }

  /** Rows given as text by heading (a mutation's arguments validated as an import line is). */
  static of(header: readonly string[], rows: { line: number; cells: Record<string, string> }[]): TableRows {
    const out = new TableRows(header);
    for (const r of rows)
      out.add(
        r.line,
        header.map((h) => r.cells[h] ?? ''),
      );
    return out;
  }

  get length(): number {
    return this.lines.length;
  }

  /** Keeps row `line` from the cells the reader made of it, by column of the file (0-based). */
  add(line: number, row: readonly Raw[]): void {
    const at = this.cells.length;
    for (let s = 0; s < this.columns.length; s++) {
      const v = row[this.columns[s]] ?? '';
      if (typeof v === 'object') {
        (this.errors ??= new Map()).set(at + s, v.error);
        this.cells.push(this.keep(v.text));
      } else this.cells.push(typeof v === 'string' ? this.keep(v) : v);
    }
    this.lines.push(line);
  }

  private keep(s: string): string {
    if (s.length > INTERN_MAX_CHARS) return copied(s);
    if (s === '') return s;
    const seen = this.interned.get(s);
    if (seen !== undefined) return seen;
    const own = copied(s);
    if (this.interned.size < INTERN_MAX_ENTRIES) this.interned.set(own, own);
    return own;
  }

  private slot(heading: string | undefined): number | undefined {
    if (heading === undefined) return undefined;
    const s = this.slots.get(heading);
    if (s === undefined && this.notKept.has(heading))
      throw new Error(`the column "${heading}" was not kept when the file was read (TableOptions.columns)`);
    return s;
  }

  /** Whether the table has a column under `heading` whose cells were kept. */
  has(heading: string): boolean {
    return this.slots.has(heading);
  }

  line(i: number): number {
    return this.lines[i];
  }

  text(i: number, heading: string | undefined): string {
    const s = this.slot(heading);
    if (s === undefined || i >= this.lines.length) return '';
    const v = this.cells[i * this.columns.length + s];
    return typeof v === 'number' ? numberText(v) : v;
  }

  error(i: number, heading: string | undefined): string | undefined {
    const s = this.slot(heading);
    if (s === undefined || !this.errors) return undefined;
    return this.errors.get(i * this.columns.length + s);
  }

  at(i: number): TableRow {
    return new RowView(this, i);
  }

  *[Symbol.iterator](): Iterator<TableRow> {
    for (let i = 0; i < this.lines.length; i++) yield new RowView(this, i);
  }
}

class RowView implements TableRow {
  constructor(
    private readonly rows: TableRows,
    private readonly index: number,
  ) {}
  get line(): number {
    return this.rows.line(this.index);
  }
  text(heading: string | undefined): string {
    return this.rows.text(this.index, heading);
  }
  error(heading: string | undefined): string | undefined {
    return this.rows.error(this.index, heading);
  }
}

export interface Table {
  format: 'csv' | 'xlsx';
  header: string[];
  /** `line` is the CSV line or the sheet row number, as a person would find it. */
  rows: TableRows;
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
  /**
   * The headings whose cells are kept (a template's own columns); the others' cells are dropped as the rows are
   * read, though the header keeps every heading (the report names the columns ignored). Default: every column.
   */
  columns?: readonly string[];
}

/**
 * Rows as a reader parses them, one at a time, into a table: the header found (row 1, or the first `findHeader`
 * accepts among the first `headerScanRows`), then each row after it kept or dropped as it comes. Only the rows
 * before the header is known are held as they were read.
 */
class TableBuilder {
  header: string[] | null = null;
  headerLine = 1;
  rows: TableRows | null = null;
  dropped = 0;
  private pending: { line: number; row: Raw[]; texts: string[] }[] = [];

  constructor(
    private readonly opts: TableOptions,
    /** XLSX: the header is row 1 exactly without a header finder, and rows blank in every column are left out. */
    private readonly xlsx: boolean,
  ) {}

  push(line: number, row: Raw[]): void {
    if (this.rows) return this.data(line, row);
    const texts = row.map(textOf);
    if (!this.opts.findHeader) {
      if (this.xlsx && line !== 1) {
        // No row 1: no header (the kind reports its columns missing), and no row has a value under one.
        this.start([], 1);
        return this.data(line, row, texts);
      }
      return this.start(texts, line);
    }
    if (this.opts.findHeader(texts)) {
      this.pending = [];
      return this.start(texts, line);
    }
    this.pending.push({ line, row, texts });
    if (this.pending.length >= (this.opts.headerScanRows ?? 30)) this.settle();
  }

  /** No header found among the rows scanned: the first of them is the header. */
  private settle(): void {
    const [first, ...rest] = this.pending;
    this.pending = [];
    if (!first) return this.start([], 1);
    this.start(first.texts, first.line);
    for (const r of rest) this.data(r.line, r.row, r.texts);
  }

  private start(header: string[], line: number): void {
    this.header = header;
    this.headerLine = line;
    this.rows = new TableRows(header, this.opts.columns);
  }

  private data(line: number, row: Raw[], texts?: string[]): void {
    const rows = this.rows!;
    if (this.opts.keepRow && !this.opts.keepRow(texts ?? row.map(textOf), this.header!)) {
      this.dropped++;
      return;
    }
    if (this.xlsx && rows.headingColumns.every((c) => (row[c] ?? '') === '')) return;
    rows.add(line, row);
  }

  /** The table once every row is read; `header` is null when the file had no row at all. */
  finish(): { header: string[]; headerLine: number; rows: TableRows } | null {
    if (!this.rows && this.pending.length === 0) return null;
    if (!this.rows) this.settle();
    return { header: this.header!, headerLine: this.headerLine, rows: this.rows! };
  }
}

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/**
 * A finance template (CSV or XLSX), read row by row into a compact table (`TableRows`): only the columns asked for
 * are kept, and no object per row or cell. CSV is decoded as UTF-8 when it is valid UTF-8 (templates from the hub
 * are), else as Windows-1252 (Excel's "CSV (Comma delimited)" on Windows).
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

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const REPLACEMENT_CHARACTER = Buffer.from('\uFFFD', 'utf8');
/** The CSV is parsed this much at a time, the event loop free between pieces, so other requests keep answering. */
const CSV_CHUNK_BYTES = 256 * 1024;

/**
 * The file's bytes in pieces, as UTF-8: as they are after a BOM or when the file is valid UTF-8 (and holds no
 * U+FFFD, which is what a Windows-1252 file decoded as UTF-8 shows), else decoded from Windows-1252 piece by piece
 * (one byte a character, so a piece never splits one).
 */
function* csvPieces(buf: Buffer): Generator<Buffer | string> {
  const bom = buf.subarray(0, 3).equals(UTF8_BOM);
  const utf8 = bom || (isUtf8(buf) && !buf.includes(REPLACEMENT_CHARACTER));
  const body = bom ? buf.subarray(3) : buf;
  for (let at = 0; at < body.length; at += CSV_CHUNK_BYTES) {
    const piece = body.subarray(at, at + CSV_CHUNK_BYTES);
    yield utf8 ? piece : iconv.decode(piece, 'win1252');
  }
}

async function readCsv(buf: Buffer, opts: TableOptions = {}): Promise<Table> {
  const built = new TableBuilder(opts, false);
  let failed: unknown = null;
  // A problem of the rows (a kind's keepRow), not of the CSV: kept aside, so it is not reported as a parse error.
  let thrown: unknown = null;
  const parser = parse({
    relax_column_count: true,
    skip_empty_lines: true,
    max_record_size: 1_000_000,
    // Each record is taken as it is parsed and nothing is handed on: the parser holds one record at a time.
    on_record: (record: string[], info: { lines: number }) => {
      if (thrown) return null;
      try {
        built.push(
          info.lines,
          record.map((c) => c.trim()),
        );
      } catch (err) {
        thrown = err;
      }
      return null;
    },
  });
  const done = new Promise<void>((resolve) => {
    parser.on('error', (err) => {
      failed = err;
      resolve();
    });
    parser.on('end', () => resolve());
  });
  parser.resume();
  for (const piece of csvPieces(buf)) {
    if (failed || thrown) break;
    parser.write(piece);
    await new Promise<void>((r) => setImmediate(r));
  }
  if (!failed) parser.end();
  await done;
  if (thrown) throw thrown;
  if (failed) {
    const line = (failed as { lines?: number }).lines ?? 0;
    const message = cutText((failed as Error).message, 300);
    throw new FileRejected(`The file is not valid CSV at line ${line}: ${message}`, [
      { line, column: null, value: null, reason: message },
    ]);
  }
  const table = built.finish();
  if (!table) throw new FileRejected('The file is empty: it has no header line.', []);
  return { format: 'csv', ...table, droppedRows: built.dropped };
}

/** A cell of ExcelJS as the hub reads it: text, a number, or the reason it gives no value. */
function rawOf(v: ExcelJS.CellValue): Raw {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (v instanceof Date) return v.toISOString().slice(0, 10);
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
      return rawOf(result as ExcelJS.CellValue);
    }
    if ('richText' in v)
      return v.richText
        .map((r) => r.text)
        .join('')
        .trim();
    if ('text' in v) return String((v as { text: unknown }).text).trim();
  }
  return String(v);
}

export function cellOf(v: ExcelJS.CellValue): Cell {
  const raw = rawOf(v);
  return typeof raw === 'object' ? raw : { text: textOf(raw) };
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
  /**
   * The few workbooks the streaming reader cannot read are read whole, which holds the whole workbook at once
   * (several times its unpacked size): only when it unpacks to at most this much.
   */
  maxWholeInflatedBytes: 8 * 1024 * 1024,
};

interface ZipEntry {
  name: string;
  /** Where its local header starts. */
  local: number;
  method: number;
  compressedSize: number;
  size: number;
  dataStart: number;
}

/**
 * The zip's central directory, read from the buffer without inflating anything, so a small file that
 * declares a huge sheet is refused before any of it is inflated. ZIP64 is refused (no template needs it).
 */
function zipEntries(buf: Buffer): { entries: ZipEntry[]; directoryAt: number } {
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
  const directoryAt = buf.readUInt32LE(eocd + 16);
  let at = directoryAt;
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
    entries.push({ name, local, method, compressedSize, size, dataStart });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return { entries, directoryAt };
}

const tooBig = (what: string) =>
  new FileRejected(
    `The workbook is too large once unpacked (${what}): a finance template is far smaller. Save only the data sheet, or use CSV.`,
    [],
  );

/**
 * Refuses a workbook whose entries declare, or actually inflate to, more than the limits. The real inflation is
 * counted chunk by chunk and thrown away (a directory can lie about sizes), so memory stays flat. Returns the
 * unpacked size.
 */
async function checkInflatedSize(buf: Buffer): Promise<{ entries: ZipEntry[]; directoryAt: number; inflated: number }> {
  const { entries, directoryAt } = zipEntries(buf);
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
  return { entries, directoryAt, inflated: total };
}

/** What ExcelJS's streaming reader needs before the sheets, in the order it reads them best. */
const READ_FIRST = ['xl/_rels/workbook.xml.rels', 'xl/workbook.xml', 'xl/styles.xml', 'xl/sharedStrings.xml'];

/**
 * The workbook's bytes for the streaming reader, its entries in the order that reader needs (without copying a
 * byte: slices of the buffer). The reader takes the zip's entries as they come: a sheet that comes after the
 * shared strings but before xl/workbook.xml crashes it, as ExcelJS's own writer orders them (and a sheet before
 * the styles would read its dates as numbers). Each entry keeps its local header, data and data descriptor, from
 * its header to the next one; the central directory, which the streaming reader does not use, comes last.
 */
function readerOrder(buf: Buffer, entries: ZipEntry[], directoryAt: number): Buffer[] {
  const starts = [...new Set(entries.map((e) => e.local))].sort((a, b) => a - b);
  // An entry the directory does not list, or one after the directory: left as it is (the reader takes it in order).
  if (starts[0] !== 0 || starts[starts.length - 1] >= directoryAt || directoryAt > buf.length) return [buf];
  const span = new Map(
    starts.map((start, i) => [start, buf.subarray(start, i + 1 < starts.length ? starts[i + 1] : directoryAt)]),
  );
  const byName = new Map<string, number>();
  for (const e of entries) if (!byName.has(e.name)) byName.set(e.name, e.local);
  const first = READ_FIRST.map((n) => byName.get(n)).filter((x): x is number => x !== undefined);
  const order = [...new Set([...first, ...starts])];
  return [...order.map((start) => span.get(start)!), buf.subarray(directoryAt)];
}

/** One sheet's rows as they are read, checked as they come (count, width, cell length). */
class SheetReader {
  readonly built: TableBuilder;
  constructor(
    readonly name: string,
    opts: TableOptions,
    private readonly maxColumns: number,
  ) {
    this.built = new TableBuilder(opts, true);
  }

  row(number: number, values: ExcelJS.CellValue[]): void {
    // ExcelJS's row values start at index 1 (column A).
    if (values.length - 1 > this.maxColumns) {
      throw new FileRejected(`Row ${number} has more than ${this.maxColumns} columns: a finance template has a few.`, [
        { line: number, column: null, value: null, reason: 'too many columns' },
      ]);
    }
    const row: Raw[] = new Array(Math.max(0, values.length - 1));
    for (let i = 1; i < values.length; i++) {
      const raw = rawOf(values[i]);
      const text = typeof raw === 'string' ? raw : typeof raw === 'object' ? raw.text : '';
      if (text.length > XLSX_LIMITS.maxCellChars) {
        throw new FileRejected(
          `Row ${number}, column ${i} holds more than ${XLSX_LIMITS.maxCellChars} characters (Excel's own limit).`,
          [{ line: number, column: String(i), value: cutText(text, 60), reason: 'cell too long' }],
        );
      }
      row[i - 1] = raw;
    }
    this.built.push(number, row);
  }
}

const tooManyRows = () =>
  new FileRejected(
    `The workbook has more than ${XLSX_LIMITS.maxRows} rows: a finance template is far smaller; split it.`,
    [],
  );

/**
 * XLSX through ExcelJS's streaming reader: rows are checked and kept compactly as they are read (count, width, cell
 * length), so memory follows the cells kept, never the inflated XML. The first of `preferredSheets` found is used,
 * else the first one.
 */
async function readXlsx(buf: Buffer, opts: TableOptions): Promise<Table> {
  const { entries, directoryAt, inflated } = await checkInflatedSize(buf);
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from(readerOrder(buf, entries, directoryAt)), {
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
  let kept: SheetReader | null = null;
  let sheets: string[] = [];
  let rowsRead = 0;
  try {
    for await (const ws of reader) {
      const name = (ws as unknown as { name: string }).name;
      sheets.push(name);
      // A sheet ranked better than the one kept replaces it (its rows are let go then).
      const sheet: SheetReader | null =
        !kept || rank(name) < rank(kept.name) ? new SheetReader(name, opts, maxColumns) : null;
      for await (const row of ws as AsyncIterable<ExcelJS.Row>) {
        if (++rowsRead > XLSX_LIMITS.maxRows) throw tooManyRows();
        sheet?.row(row.number, row.values as ExcelJS.CellValue[]);
      }
      if (sheet) kept = sheet;
    }
  } catch (err) {
    if (err instanceof FileRejected) throw err;
    // Whatever the streaming reader still cannot read (its entries in order, see readerOrder) is read whole, which
    // holds the whole workbook at once: only when it is small enough for that.
    if (inflated > XLSX_LIMITS.maxWholeInflatedBytes)
      throw new FileRejected(
        `The file looks like XLSX but cannot be read as it streams (${cutText((err as Error).message, 200)}), and at ` +
          `${(inflated / 1048576).toFixed(1)} MB unpacked it is too large to read whole: open it in Excel and save it again, or use CSV.`,
        [],
      );
    const whole = await loadWhole(buf, rank, opts, maxColumns).catch((e: unknown) => {
      if (e instanceof FileRejected) throw e;
      return null;
    });
    if (!whole)
      throw new FileRejected(
        `The file looks like XLSX but cannot be read: ${cutText((err as Error).message, 200)}`,
        [],
      );
    kept = whole.kept;
    sheets = whole.sheets;
  }
  if (!kept) throw new FileRejected('The workbook has no sheets.', []);
  const table = kept.built.finish() ?? { header: [], headerLine: 1, rows: new TableRows([], opts.columns) };
  return { format: 'xlsx', ...table, sheet: kept.name, sheets, droppedRows: kept.built.dropped };
}

/** The whole-workbook reader, for what the streaming one cannot read: the preferred sheet, its rows checked as the streaming reader checks them. */
async function loadWhole(
  buf: Buffer,
  rank: (name: string) => number,
  opts: TableOptions,
  maxColumns: number,
): Promise<{ kept: SheetReader | null; sheets: string[] }> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buf as unknown as ArrayBuffer);
  const sheets = wb.worksheets.map((w) => w.name);
  let rows = 0;
  for (const w of wb.worksheets) rows += w.actualRowCount;
  if (rows > XLSX_LIMITS.maxRows) throw tooManyRows();
  const ws = [...wb.worksheets].sort((a, b) => rank(a.name) - rank(b.name))[0];
  if (!ws) return { kept: null, sheets };
  const sheet = new SheetReader(ws.name, opts, maxColumns);
  ws.eachRow((row) => sheet.row(row.number, row.values as ExcelJS.CellValue[]));
  return { kept: sheet, sheets };
}
