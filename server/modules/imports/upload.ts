import crypto from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { Readable, Transform, TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import type ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { CsvError, parse } from 'csv-parse';
import { cutText } from '../../errors';
import { FileRejected } from './report';
import { Cell, Raw, Table, TableBuilder, TableOptions, TableRows, textOf } from './table';
import { excel } from '../../common/excel';

/**
 * Uploaded files, bytes to rows, for every import (GIAS and its links file streamed record by record; the
 * templates and published layouts read whole into a compact table): what the file is (CSV, XLSX, an old .xls,
 * binary), its text encoding (a UTF-8 BOM, UTF-8, else Windows-1252), the CSV parser's settings and the XLSX
 * reader's limits are all here.
 */

/** The upload limits of POST /import/*. */
export const UPLOAD_LIMITS = {
  /** Finance files are a few thousand rows: read whole (XLSX through the streaming reader). */
  financeBytes: 20 * 1024 * 1024,
  /** The GIAS register is streamed; the national file is about 60 MB, so four times that is a broken upload. */
  giasBytes: 256 * 1024 * 1024,
  /** The national links file is a few megabytes. */
  giasLinksBytes: 64 * 1024 * 1024,
};

/** A CSV record past this is a broken quote swallowing the file (a GIAS row is about 2 KB): refused before it fills memory. */
const MAX_RECORD_BYTES = 1_000_000;

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const REPLACEMENT_CHARACTER = Buffer.from('\uFFFD', 'utf8');

/** What the first bytes of a file say it is: an XLSX (or other zip), an Excel 97-2003 workbook, binary, or text. */
export function sniffFormat(first: Buffer): 'zip' | 'xls' | 'binary' | 'text' {
  if (first.subarray(0, 4).equals(ZIP_MAGIC)) return 'zip';
  if (first.subarray(0, 8).equals(OLE_MAGIC)) return 'xls';
  if (first.subarray(0, 4096).includes(0)) return 'binary';
  return 'text';
}

export const hasUtf8Bom = (first: Buffer) => first.subarray(0, 3).equals(UTF8_BOM);

/** A text encoding a person may force (GIAS's files are Windows-1252; Excel's "CSV UTF-8" is UTF-8). */
export type TextEncoding = 'win1252' | 'utf8';

/**
 * A CSV's text encoding: as forced; UTF-8 after a BOM; else, when `bytes` is the whole file, UTF-8 when it is valid
 * UTF-8 and holds no U+FFFD (which is what a Windows-1252 file once decoded as UTF-8 shows); else Windows-1252
 * (GIAS's files, and Excel's "CSV (Comma delimited)" on Windows).
 */
export function textEncodingOf(bytes: Buffer, opts: { forced?: TextEncoding; whole: boolean }): TextEncoding {
  if (opts.forced) return opts.forced;
  if (hasUtf8Bom(bytes)) return 'utf8';
  return opts.whole && isUtf8(bytes) && !bytes.includes(REPLACEMENT_CHARACTER) ? 'utf8' : 'win1252';
}

/** The parser's error as the whole-file problem it is: the line it stopped at and why. */
function notValidCsv(err: unknown): FileRejected {
  const line = (err as { lines?: number }).lines ?? 0;
  const message = (err as Error).message;
  return new FileRejected(
    `The file is not valid CSV at line ${line}: ${cutText(message.replace(/^Invalid [^:]*: /, ''), 300)}`,
    [{ line, column: null, value: null, reason: cutText(message, 300) }],
  );
}

/**
 * A finance template (CSV or XLSX), read row by row into a compact table (`TableRows`): only the columns asked for
 * are kept, and no object per row or cell. CSV is decoded as UTF-8 when it is valid UTF-8 (templates from the hub
 * are), else as Windows-1252 (Excel's "CSV (Comma delimited)" on Windows).
 */
export async function readTable(buf: Buffer, options: string | TableOptions = 'Data'): Promise<Table> {
  const opts: TableOptions = typeof options === 'string' ? { preferredSheets: [options] } : options;
  if (buf.length === 0) throw new FileRejected('The file is empty.', []);
  switch (sniffFormat(buf)) {
    case 'zip':
      return readXlsx(buf, opts);
    case 'xls':
      throw new FileRejected('The file is an old Excel 97-2003 workbook (.xls): save it as .xlsx or CSV.', []);
    case 'binary':
      throw new FileRejected('The file is binary: it is neither CSV nor XLSX.', []);
    case 'text':
      return readCsv(buf, opts);
  }
}

/** The CSV is parsed this much at a time, the event loop free between pieces, so other requests keep answering. */
const CSV_CHUNK_BYTES = 256 * 1024;

/**
 * The file's bytes in pieces, as UTF-8: as they are (after a BOM) when the file is UTF-8, else decoded from
 * Windows-1252 piece by piece (one byte a character, so a piece never splits one).
 */
function* csvPieces(buf: Buffer): Generator<Buffer | string> {
  const utf8 = textEncodingOf(buf, { whole: true }) === 'utf8';
  const body = hasUtf8Bom(buf) ? buf.subarray(3) : buf;
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
    max_record_size: MAX_RECORD_BYTES,
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
  if (failed) throw notValidCsv(failed);
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
  const reader = new (excel().stream.xlsx.WorkbookReader)(Readable.from(readerOrder(buf, entries, directoryAt)), {
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
  const wb = new (excel().Workbook)();
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

// ---------------------------------------------------------------------------------------------------------------
// Streamed CSV (the GIAS register and its links file)

/** Looks at the first bytes: catches an XLSX, a binary file or a UTF-8 file before 50,000 rows of noise. */
class Sniffer extends Transform {
  bytes = 0;
  private first = true;
  readonly hash = crypto.createHash('sha256');
  constructor(
    private readonly onBytes: (n: number) => void,
    private readonly what = 'the GIAS CSV',
  ) {
    super();
  }
  _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
    if (this.first) {
      this.first = false;
      const format = sniffFormat(chunk);
      if (format === 'zip')
        return cb(
          new FileRejected(`The file is an XLSX or ZIP archive, not ${this.what}: download it from GIAS as CSV.`, []),
        );
      if (format !== 'text') return cb(new FileRejected('The file is binary, not a CSV text file.', []));
    }
    this.bytes += chunk.length;
    this.hash.update(chunk);
    this.onBytes(this.bytes);
    cb(null, chunk);
  }
}

/** Detects the encoding from the first chunk: GIAS is Windows-1252, but a file re-saved by Excel as "CSV UTF-8" starts with a BOM. */
class Decoder extends Transform {
  private decoder: { write(b: Buffer): string; end(): string | undefined } | null = null;
  constructor(private readonly encoding: TextEncoding | undefined) {
    super({ readableObjectMode: false });
  }
  _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
    this.decoder ??= iconv.getDecoder(textEncodingOf(chunk, { forced: this.encoding, whole: false }));
    const s = this.decoder.write(chunk);
    cb(null, s.length ? Buffer.from(s, 'utf8') : undefined);
  }
  _flush(cb: TransformCallback) {
    const rest = this.decoder?.end();
    cb(null, rest ? Buffer.from(rest, 'utf8') : undefined);
  }
}

/**
 * Streams a CSV file (GIAS's encoding rules: Windows-1252, or UTF-8 after a BOM) record by record; throws
 * FileRejected for a file that is not CSV text. Returns the file's SHA-256.
 */
export async function streamCsv(
  input: Readable,
  opts: { encoding?: TextEncoding; onProgress?: (bytes: number) => void; what: string },
  onRecord: (record: string[], line: number) => void,
): Promise<{ sha256: string; bytes: number; records: number }> {
  const sniffer = new Sniffer((bytes) => opts.onProgress?.(bytes), opts.what);
  const parser = parse({
    bom: true,
    relax_column_count: true,
    info: true,
    skip_empty_lines: true,
    max_record_size: MAX_RECORD_BYTES,
  });
  let records = 0;
  // pipeline() reports an error thrown here as an AbortError of the upstream streams: keep the real one.
  let fatal: Error | null = null;
  const consume = async (all: AsyncIterable<{ record: string[]; info: { lines: number } }>) => {
    try {
      for await (const { record, info } of all) {
        records++;
        onRecord(record, info.lines);
      }
    } catch (err) {
      fatal = err as Error;
      throw err;
    }
  };
  try {
    await pipeline(input, sniffer, new Decoder(opts.encoding), parser, consume);
  } catch (caught) {
    const err = fatal ?? caught;
    if (err instanceof FileRejected) throw err;
    if (err instanceof CsvError) throw notValidCsv(err);
    throw err;
  }
  if (records === 0)
    throw new FileRejected('The file is empty: it has no header line.', [
      { line: 1, column: null, value: null, reason: 'no header' },
    ]);
  opts.onProgress?.(sniffer.bytes);
  return { sha256: sniffer.hash.digest('hex'), bytes: sniffer.bytes, records };
}
