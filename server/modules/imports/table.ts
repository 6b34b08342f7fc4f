import Decimal from 'decimal.js';
import { FileRejected } from './report';

/**
 * The compact row table every import reads a file into (upload.ts reads the bytes): rows of cells as text, kept
 * for the columns asked for only, with the header found where a published layout puts it.
 */

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
export type Raw = Stored | Required<Cell>;

/** Excel stores numbers as binary doubles: 15 significant digits is what Excel itself shows and keeps. */
function numberText(n: number): string {
  return new Decimal(n.toPrecision(15)).toFixed();
}

export const textOf = (v: Raw): string => (typeof v === 'string' ? v : typeof v === 'number' ? numberText(v) : v.text);

/** Growable typed storage: capacity doubles, the filled part copied over. */
function grown<T extends Uint8Array | Uint32Array | Float64Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  let size = a.length * 2;
  while (size < need) size *= 2;
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

/**
 * What one table may hold: far more than any real file (a county's APT is some 600 rows by 300 columns), so a hostile
 * one is refused before it fills memory: a short XLSX can repeat one long shared string in every cell, or give rows
 * of a wide sheet one cell each.
 */
export const TABLE_LIMITS = {
  /** Cells of the columns kept (13 bytes each). */
  maxCells: 10_000_000,
  /** Their text, as UTF-8. */
  maxTextBytes: 64 * 1024 * 1024,
};

const tooMuch = (what: string) =>
  new FileRejected(
    `The file holds more than ${what} in the columns read: no finance or published file is that large. Check it is the file you meant, and keep only the sheet or rows to import.`,
    [],
  );

const EMPTY = 0;
const TEXT = 1;
const NUMBER = 2;

/**
 * The rows of a table, held compactly and outside the JavaScript heap: per cell a kind (empty, text, an XLSX
 * number), its number, and where its text ends in one buffer of UTF-8 (each text starts where the cell before ends);
 * for the columns kept only (a template's own columns: the others are dropped as the file is read); the lines in a
 * typed array; the rare cells that cannot give a value in a sparse map. No object or string per row or cell is kept:
 * a cell's text is made when it is asked for, and a row is a view made as the rows are walked.
 *
 * Kept as JavaScript strings, the cells of a 20 MB file (177,000 rows) were 15-20 MB of small objects that all
 * outlived the young generation's collections, and on Node 24 that grew the young generation to 64 MB for good: the
 * hub's RSS rose by 175 MB for the file, against about 110 MB now.
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
  private rowCount = 0;
  private lines = new Uint32Array(256);
  private cellCount = 0;
  private kinds = new Uint8Array(1024);
  private numbers = new Float64Array(1024);
  /** Where each cell's text ends in `bytes` (its start is where the cell before ends). */
  private ends = new Uint32Array(1024);
  private bytes = Buffer.allocUnsafe(64 * 1024);
  private used = 0;
  private errors: Map<number, string> | null = null;

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
    return this.rowCount;
  }

  /** Keeps row `line` from the cells the reader made of it, by column of the file (0-based). */
  add(line: number, row: readonly Raw[]): void {
    const width = this.columns.length;
    const need = this.cellCount + width;
    if (need > TABLE_LIMITS.maxCells) throw tooMuch(`${TABLE_LIMITS.maxCells.toLocaleString('en-GB')} cells`);
    this.kinds = grown(this.kinds, need);
    this.numbers = grown(this.numbers, need);
    this.ends = grown(this.ends, need);
    for (let s = 0; s < width; s++) {
      const at = this.cellCount++;
      const v = row[this.columns[s]] ?? '';
      if (typeof v === 'number') {
        this.kinds[at] = NUMBER;
        this.numbers[at] = v;
      } else {
        const text = typeof v === 'string' ? v : v.text;
        if (typeof v === 'object') (this.errors ??= new Map()).set(at, v.error);
        if (text === '') this.kinds[at] = EMPTY;
        else {
          this.kinds[at] = TEXT;
          if (this.used + text.length * 3 > this.bytes.length) {
            let size = this.bytes.length * 2;
            while (size < this.used + text.length * 3) size *= 2;
            const bigger = Buffer.allocUnsafe(size);
            this.bytes.copy(bigger, 0, 0, this.used);
            this.bytes = bigger;
          }
          this.used += this.bytes.write(text, this.used, 'utf8');
          if (this.used > TABLE_LIMITS.maxTextBytes) throw tooMuch(`${TABLE_LIMITS.maxTextBytes / 1048576} MB of text`);
        }
      }
      this.ends[at] = this.used;
    }
    this.lines = grown(this.lines, this.rowCount + 1);
    this.lines[this.rowCount++] = line;
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
    if (s === undefined || i >= this.rowCount) return '';
    const at = i * this.columns.length + s;
    switch (this.kinds[at]) {
      case NUMBER:
        return numberText(this.numbers[at]);
      case TEXT:
        return this.bytes.toString('utf8', at > 0 ? this.ends[at - 1] : 0, this.ends[at]);
      default:
        return '';
    }
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
    for (let i = 0; i < this.rowCount; i++) yield new RowView(this, i);
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
export class TableBuilder {
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
