import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import zlib from 'node:zlib';
import { SaxesParser, SaxesTagPlain } from 'saxes';
import { cutText } from '../../errors';
import { FileRejected } from './report';
import { Raw, Table, TableBuilder, TableOptions, TableRows } from './table';

/*
 * XLSX, bytes to rows: the zip's directory, each part inflated as it is parsed (never a whole part in memory), the
 * workbook's sheets, shared strings and date styles, and the one sheet an import reads, cell by cell, into the
 * compact table. The parts are found from the directory and the workbook's relationships, so their order in the
 * file does not matter, and only the sheet read is inflated in full; XML by saxes.
 *
 * ExcelJS's streaming reader did this before. Its stream adapter reads a part in flowing mode, so on a 20 MB upload
 * most of the 58 MB of inflated sheet XML was in memory at once (and its objects per cell besides): on Node 24 the
 * hub's RSS rose by 190-210 MB, against 200 MB allowed. ExcelJS still writes the hub's workbooks.
 */

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
  /** Where its local header starts. */
  local: number;
  method: number;
  compressedSize: number;
  size: number;
  dataStart: number;
}

const notAWorkbook = (why: string) =>
  new FileRejected(`The file looks like XLSX but is not a valid workbook: ${why}.`, []);

/**
 * The zip's central directory, read from the buffer without inflating anything, so a small file that
 * declares a huge sheet is refused before any of it is inflated. ZIP64 is refused (no template needs it).
 */
function zipEntries(buf: Buffer): ZipEntry[] {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw notAWorkbook('no zip directory (the file is cut short?)');
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || at === 0xffffffff) throw notAWorkbook('a ZIP64 archive');
  const entries: ZipEntry[] = [];
  for (let k = 0; k < count; k++) {
    if (at + 46 > buf.length || buf.readUInt32LE(at) !== 0x02014b50) throw notAWorkbook('a damaged zip directory');
    const method = buf.readUInt16LE(at + 10);
    const compressedSize = buf.readUInt32LE(at + 20);
    const size = buf.readUInt32LE(at + 24);
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    // Some writers separate folders with a backslash.
    const name = buf.toString('utf8', at + 46, at + 46 + Math.min(nameLength, 200)).replace(/\\/g, '/');
    if (compressedSize === 0xffffffff || size === 0xffffffff) throw notAWorkbook('a ZIP64 archive');
    if (local + 30 > buf.length || buf.readUInt32LE(local) !== 0x04034b50) throw notAWorkbook('a damaged zip entry');
    const dataStart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    if (dataStart + compressedSize > buf.length) throw notAWorkbook('an entry runs past the end of the file');
    entries.push({ name, local, method, compressedSize, size, dataStart });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

const tooBig = (what: string) =>
  new FileRejected(
    `The workbook is too large once unpacked (${what}): a finance template is far smaller. Save only the data sheet, or use CSV.`,
    [],
  );

const cannotRead = (err: unknown) =>
  new FileRejected(`The file looks like XLSX but cannot be read: ${cutText((err as Error).message, 200)}`, []);

/** Compressed bytes are handed to zlib this much at a time, so little inflated XML is ever waiting for the parser. */
const SLICE = 64 * 1024;

function* slices(data: Buffer): Generator<Buffer> {
  for (let at = 0; at < data.length; at += SLICE) yield data.subarray(at, at + SLICE);
}

/** An entry's inflated bytes as they come, at most `limit` of them (a directory can lie about sizes). */
async function* inflated(buf: Buffer, e: ZipEntry, limit: number): AsyncGenerator<Buffer> {
  const data = buf.subarray(e.dataStart, e.dataStart + e.compressedSize);
  if (e.method === 0) {
    if (data.length > limit) throw tooBig(`${e.name} is larger than it declares`);
    yield* slices(data);
    return;
  }
  if (e.method !== 8) throw new FileRejected(`The workbook uses an unsupported compression (method ${e.method}).`, []);
  const inflater = Readable.from(slices(data)).pipe(zlib.createInflateRaw());
  let n = 0;
  try {
    for await (const chunk of inflater as AsyncIterable<Buffer>) {
      n += chunk.length;
      if (n > limit) throw tooBig(`${e.name} inflates to more than it declares`);
      yield chunk;
    }
  } catch (err) {
    if (err instanceof FileRejected) throw err;
    throw cannotRead(err);
  } finally {
    inflater.destroy();
  }
}

/**
 * Refuses a workbook whose entries declare, or actually inflate to, more than the limits. The real inflation is
 * counted chunk by chunk and thrown away, so memory stays flat.
 */
async function checkInflatedSize(buf: Buffer, entries: ZipEntry[]): Promise<void> {
  let declared = 0;
  for (const e of entries) {
    declared += e.size;
    if (declared > XLSX_LIMITS.maxInflatedBytes) throw tooBig(`${Math.round(declared / 1048576)} MB declared`);
    if (e.size > Math.max(1048576, e.compressedSize * XLSX_LIMITS.maxRatio))
      throw tooBig(`${e.name} inflates ${Math.round(e.size / Math.max(1, e.compressedSize))} times`);
  }
  let total = 0;
  for (const e of entries) {
    const limit = Math.min(XLSX_LIMITS.maxInflatedBytes - total, e.size + 1024);
    for await (const chunk of inflated(buf, e, limit)) total += chunk.length;
  }
}

/** What the XML of one part says, event by event; a handler may throw a FileRejected to stop there. */
interface XmlHandlers {
  open(name: string, attributes: Record<string, string>): void;
  text?(text: string): void;
  close?(name: string): void;
}

/** A tag's name without its namespace prefix (`x:row` is `row`: some writers prefix every element). */
const local = (name: string) => {
  const i = name.indexOf(':');
  return i < 0 ? name : name.slice(i + 1);
};

/**
 * XML between two tags past this is refused. saxes hands over a text (or an attribute value, a comment) only once it
 * ends, so without a bound one 250 MB text node would be held whole before any cell limit saw it.
 */
const MAX_BETWEEN_TAGS = 4 * XLSX_LIMITS.maxCellChars;

/** Parses one part as it inflates: a chunk at a time, the event loop free between chunks. */
async function parsePart(buf: Buffer, e: ZipEntry, on: XmlHandlers): Promise<void> {
  const parser = new SaxesParser<{ xmlns: false; position: false }>({ xmlns: false, position: false });
  let tagged = false;
  parser.on('opentag', (tag: SaxesTagPlain) => {
    tagged = true;
    on.open(local(tag.name), tag.attributes);
  });
  if (on.text) {
    parser.on('text', on.text);
    parser.on('cdata', on.text);
  }
  const close = on.close;
  parser.on('closetag', (tag: SaxesTagPlain) => {
    tagged = true;
    close?.(local(tag.name));
  });
  const decoder = new StringDecoder('utf8');
  // Characters written since a chunk in which a tag was seen: at least what saxes is holding, at most one chunk more.
  let untagged = 0;
  const write = (text: string) => {
    tagged = false;
    parser.write(text);
    untagged = tagged ? 0 : untagged + text.length;
    if (untagged > MAX_BETWEEN_TAGS)
      throw new FileRejected(
        `The workbook's ${e.name} holds more than ${MAX_BETWEEN_TAGS} characters between two tags: no cell of a workbook does. Open the file in Excel and save it again, or use CSV.`,
        [],
      );
  };
  try {
    for await (const chunk of inflated(buf, e, e.size + 1024)) write(decoder.write(chunk));
    write(decoder.end());
    parser.close();
  } catch (err) {
    if (err instanceof FileRejected) throw err;
    throw cannotRead(new Error(`${e.name}: ${(err as Error).message}`));
  }
}

/** Excel escapes characters XML cannot hold as _xHHHH_ (a carriage return is _x000D_). */
const unescapeX = (s: string) =>
  s.includes('_x') ? s.replace(/_x([0-9A-Fa-f]{4})_/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))) : s;

/** A number format shows a date when it has date or time letters outside quotes and brackets (as ExcelJS and Excel read it). */
const isDateFormat = (code: string) => /[ymdhsb]/i.test(code.replace(/\[[^\]]*]/g, '').replace(/"[^"]*"/g, ''));

/** Excel's built-in number formats that show a date or time (ids 14-22 and 45-47, and the East Asian ones). */
const BUILT_IN_DATES = new Set([
  14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 45, 46, 47, 50, 51, 52, 53, 54, 55, 56,
  57, 58,
]);

/** An Excel day number as its date, YYYY-MM-DD (1900 or 1904 date system); null when it is no date. */
function excelDate(serial: number, date1904: boolean): string | null {
  // Excel counts a 29 February 1900 that never was: its days before 1 March 1900 are one day later than this count.
  if (!date1904 && serial < 60) serial += 1;
  const ms = Math.round((serial - 25569 + (date1904 ? 1462 : 0)) * 86_400_000);
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().slice(0, 10);
}

const NO_SAVED_VALUE = 'the formula has no saved value: open the file in Excel and save it, or paste values';
const excelError = (code: string): Raw => ({ text: code, error: `the cell holds the Excel error ${code}` });

/** The parts a sheet's cells refer to: shared strings, which styles are dates, the date system. */
interface Book {
  strings: string[];
  dateStyles: boolean[];
  date1904: boolean;
}

/** One cell as the hub reads it, from its type, style, formula and value: text, a number, or why it gives no value. */
function cellValue(book: Book, t: string, s: number, f: string | null, v: string | null, inline: string | null): Raw {
  if (f !== null && v === null) return { text: `=${f}`, error: NO_SAVED_VALUE };
  switch (t) {
    case 's': {
      const str = v === null || v.trim() === '' ? undefined : book.strings[Number(v)];
      return str === undefined ? '' : str.trim();
    }
    case 'inlineStr':
      return unescapeX(inline ?? v ?? '').trim();
    case 'str':
      return unescapeX(v ?? '').trim();
    case 'e':
      return excelError((v ?? '').trim());
    case 'b':
      return v === null ? '' : Number(v) !== 0 ? 'TRUE' : 'FALSE';
    case 'd': {
      // An ISO 8601 date (strict OOXML): its own calendar date, whatever the time or the hub's time zone.
      const text = (v ?? '').trim();
      return /^\d{4}-\d{2}-\d{2}/.exec(text)?.[0] ?? text;
    }
    default: {
      const text = (v ?? '').trim();
      if (text === '') return '';
      const n = Number(text);
      if (!Number.isFinite(n)) return text;
      return (book.dateStyles[s] && excelDate(n, book.date1904)) || n;
    }
  }
}

/** A cell reference's column, 1 for A; 0 when there is none. */
function columnOf(ref: string | undefined): number {
  if (!ref) return 0;
  let col = 0;
  for (let i = 0; i < ref.length; i++) {
    const c = ref.charCodeAt(i) | 0x20; // lower case
    if (c < 97 || c > 122) break;
    col = col * 26 + (c - 96);
  }
  return col;
}

/** Accumulated text of the element being read, refused past a bound (one cell cannot fill memory). */
const MAX_CAPTURE = MAX_BETWEEN_TAGS;

/** One sheet's rows as they are read, checked as they come (count, width, cell length). */
class SheetReader {
  readonly built: TableBuilder;
  private rowsRead = 0;
  constructor(
    opts: TableOptions,
    private readonly maxColumns: number,
  ) {
    this.built = new TableBuilder(opts, true);
  }

  row(number: number, row: Raw[]): void {
    if (++this.rowsRead > XLSX_LIMITS.maxRows) throw tooManyRows();
    for (let i = 0; i < row.length; i++) {
      const raw = row[i];
      if (raw === undefined) row[i] = '';
      else {
        const text = typeof raw === 'string' ? raw : typeof raw === 'object' ? raw.text : '';
        if (text.length > XLSX_LIMITS.maxCellChars) throw cellTooLong(number, i + 1, text);
      }
    }
    this.built.push(number, row);
  }

  tooWide(number: number): FileRejected {
    return new FileRejected(`Row ${number} has more than ${this.maxColumns} columns: a finance template has a few.`, [
      { line: number, column: null, value: null, reason: 'too many columns' },
    ]);
  }
}

const cellTooLong = (row: number, column: number, text: string) =>
  new FileRejected(
    `Row ${row}, column ${column} holds more than ${XLSX_LIMITS.maxCellChars} characters (Excel's own limit).`,
    [{ line: row, column: String(column), value: cutText(text, 60), reason: 'cell too long' }],
  );

const tooManyRows = () =>
  new FileRejected(
    `The workbook has more than ${XLSX_LIMITS.maxRows} rows: a finance template is far smaller; split it.`,
    [],
  );

/** Reads a sheet's cells into `sheet`, a row at a time. */
function sheetHandlers(book: Book, sheet: SheetReader, maxColumns: number): XmlHandlers {
  let inData = false;
  let row: Raw[] | null = null;
  let rowNumber = 0;
  let col = 0;
  // The cell being read.
  let t = 'n';
  let s = 0;
  let f: string | null = null;
  let v: string | null = null;
  let inline: string | null = null;
  let capture: 'f' | 'v' | 'is' | null = null;
  let inIs = false;
  let phonetic = 0;
  let hasValue = false;
  return {
    open(name, a) {
      if (name === 'sheetData') inData = true;
      if (!inData) return;
      switch (name) {
        case 'row':
          rowNumber = a.r ? parseInt(a.r, 10) : rowNumber + 1;
          // Excel's sheets have 1,048,576 rows.
          if (!(rowNumber > 0 && rowNumber <= 1_048_576))
            throw notAWorkbook(`a row numbered "${cutText(a.r ?? String(rowNumber), 20)}"`);
          row = [];
          col = 0;
          break;
        case 'c':
          col = columnOf(a.r) || col + 1;
          t = a.t ?? 'n';
          s = a.s ? parseInt(a.s, 10) : 0;
          f = v = inline = null;
          hasValue = false;
          break;
        case 'f':
          f = '';
          capture = 'f';
          hasValue = true;
          break;
        case 'v':
          v = '';
          capture = 'v';
          hasValue = true;
          break;
        case 'is':
          inline = '';
          inIs = true;
          hasValue = true;
          break;
        case 'rPh':
          phonetic++;
          break;
        case 't':
          if (inIs && phonetic === 0) capture = 'is';
          break;
      }
    },
    text(text) {
      switch (capture) {
        case 'v':
          v += text;
          if (v!.length > MAX_CAPTURE) throw cellTooLong(rowNumber, col, v!);
          break;
        case 'is':
          inline += text;
          if (inline!.length > MAX_CAPTURE) throw cellTooLong(rowNumber, col, inline!);
          break;
        case 'f':
          f += text;
          if (f!.length > MAX_CAPTURE) throw cellTooLong(rowNumber, col, f!);
          break;
      }
    },
    close(name) {
      if (!inData) return;
      switch (name) {
        case 'f':
        case 'v':
        case 't':
          capture = null;
          break;
        case 'rPh':
          phonetic--;
          break;
        case 'is':
          inIs = false;
          break;
        case 'c':
          if (row && hasValue) {
            if (col > maxColumns) throw sheet.tooWide(rowNumber);
            row[col - 1] = cellValue(book, t, s, f, v, inline);
          }
          break;
        case 'row':
          if (row) sheet.row(rowNumber, row);
          row = null;
          break;
        case 'sheetData':
          inData = false;
          break;
      }
    },
  };
}

/** A part's relationships: id to the part's name in the zip, and the first target of each type. */
async function relationships(buf: Buffer, byName: Map<string, ZipEntry>, of: string) {
  const slash = of.lastIndexOf('/');
  const dir = of.slice(0, slash + 1);
  const entry = find(byName, `${dir}_rels/${of.slice(slash + 1)}.rels`);
  const ids = new Map<string, { target: string; type: string }>();
  const types = new Map<string, string>();
  if (!entry) return { ids, types };
  await parsePart(buf, entry, {
    open(name, a) {
      if (name !== 'Relationship' || !a.Target || a.TargetMode === 'External') return;
      const target = resolvePath(dir, a.Target);
      const type = (a.Type ?? '').slice((a.Type ?? '').lastIndexOf('/') + 1);
      if (a.Id) ids.set(a.Id, { target, type });
      if (!types.has(type)) types.set(type, target);
    },
  });
  return { ids, types };
}

/** A relationship's target as a zip entry name (relative to the part's folder, or from the root with a leading /). */
function resolvePath(dir: string, target: string): string {
  const parts = (target.startsWith('/') ? target.slice(1) : dir + target).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '..') out.pop();
    else if (p !== '.' && p !== '') out.push(p);
  }
  return out.join('/');
}

/** An entry by name; names in a zip are matched without regard to case, as Excel does. */
function find(byName: Map<string, ZipEntry>, name: string): ZipEntry | undefined {
  return byName.get(name) ?? byName.get(name.toLowerCase());
}

/** The shared strings, each the text of its runs (phonetic guides left out). */
async function sharedStrings(buf: Buffer, entry: ZipEntry | undefined): Promise<string[]> {
  const strings: string[] = [];
  if (!entry) return strings;
  let current: string | null = null;
  let inT = false;
  let phonetic = 0;
  await parsePart(buf, entry, {
    open(name) {
      if (name === 'si') current = '';
      else if (name === 'rPh') phonetic++;
      else if (name === 't' && current !== null && phonetic === 0) inT = true;
    },
    text(text) {
      if (!inT) return;
      current += text;
      if (current!.length > MAX_CAPTURE)
        throw new FileRejected(
          `Shared string ${strings.length + 1} holds more than ${XLSX_LIMITS.maxCellChars} characters (Excel's own limit).`,
          [],
        );
    },
    close(name) {
      if (name === 't') inT = false;
      else if (name === 'rPh') phonetic--;
      else if (name === 'si' && current !== null) {
        strings.push(unescapeX(current));
        current = null;
      }
    },
  });
  return strings;
}

/** Which cell styles show a date: the cell formats' number formats, built in or the workbook's own. */
async function dateStyles(buf: Buffer, entry: ZipEntry | undefined): Promise<boolean[]> {
  const styles: boolean[] = [];
  if (!entry) return styles;
  const formats = new Map<number, string>();
  const xfIds: number[] = [];
  let inCellXfs = false;
  await parsePart(buf, entry, {
    open(name, a) {
      if (name === 'numFmt' && a.numFmtId) formats.set(parseInt(a.numFmtId, 10), a.formatCode ?? '');
      else if (name === 'cellXfs') inCellXfs = true;
      else if (name === 'xf' && inCellXfs) xfIds.push(a.numFmtId ? parseInt(a.numFmtId, 10) : 0);
    },
    close(name) {
      if (name === 'cellXfs') inCellXfs = false;
    },
  });
  for (const id of xfIds) {
    const code = formats.get(id);
    styles.push(code !== undefined ? isDateFormat(code) : BUILT_IN_DATES.has(id));
  }
  return styles;
}

/**
 * An XLSX's rows: the sheet read is the first of `preferredSheets` the workbook has, else its first sheet. Rows are
 * checked and kept compactly as they are read (count, width, cell length), so memory follows the cells kept, never
 * the inflated XML.
 */
export async function readXlsx(buf: Buffer, opts: TableOptions): Promise<Table> {
  const entries = zipEntries(buf);
  await checkInflatedSize(buf, entries);
  const byName = new Map<string, ZipEntry>();
  for (const e of entries) {
    if (!byName.has(e.name)) byName.set(e.name, e);
    if (!byName.has(e.name.toLowerCase())) byName.set(e.name.toLowerCase(), e);
  }
  const root = await relationships(buf, byName, '');
  const workbookName = root.types.get('officeDocument') ?? 'xl/workbook.xml';
  const workbook = find(byName, workbookName);
  if (!workbook) throw notAWorkbook(`it has no ${workbookName}`);

  const sheets: { name: string; rel: string }[] = [];
  let date1904 = false;
  await parsePart(buf, workbook, {
    open(name, a) {
      if (name === 'workbookPr') date1904 = a.date1904 === '1' || a.date1904 === 'true';
      else if (name === 'sheet') {
        const rel = Object.keys(a).find((k) => k === 'id' || k.endsWith(':id'));
        sheets.push({ name: a.name ?? `Sheet${sheets.length + 1}`, rel: rel ? a[rel] : '' });
      }
    },
  });
  const rels = await relationships(buf, byName, workbookName);
  // Worksheets only: a chart sheet or a dialog sheet has no cells. (Without relationships, every sheet is taken to be one.)
  const worksheets = sheets.filter((s) => (rels.ids.get(s.rel)?.type ?? 'worksheet') === 'worksheet');
  if (worksheets.length === 0) throw new FileRejected('The workbook has no sheets.', []);

  const preferredSheets = opts.preferredSheets ?? ['Data'];
  const rank = (name: string) => {
    const i = preferredSheets.indexOf(name);
    return i < 0 ? preferredSheets.length : i;
  };
  const chosen = worksheets.reduce((best, s) => (rank(s.name) < rank(best.name) ? s : best));
  const sheetName = rels.ids.get(chosen.rel)?.target;
  const sheetEntry = sheetName ? find(byName, sheetName) : undefined;
  if (!sheetEntry) throw notAWorkbook(`its sheet "${cutText(chosen.name, 60)}" is missing`);

  const book: Book = {
    strings: await sharedStrings(buf, find(byName, rels.types.get('sharedStrings') ?? 'xl/sharedStrings.xml')),
    dateStyles: await dateStyles(buf, find(byName, rels.types.get('styles') ?? 'xl/styles.xml')),
    date1904,
  };
  const maxColumns = opts.maxColumns ?? XLSX_LIMITS.maxColumns;
  const sheet = new SheetReader(opts, maxColumns);
  await parsePart(buf, sheetEntry, sheetHandlers(book, sheet, maxColumns));
  const table = sheet.built.finish() ?? { header: [], headerLine: 1, rows: new TableRows([], opts.columns) };
  return {
    format: 'xlsx',
    ...table,
    sheet: chosen.name,
    sheets: worksheets.map((s) => s.name),
    droppedRows: sheet.built.dropped,
  };
}
