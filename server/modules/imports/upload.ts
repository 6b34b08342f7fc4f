import crypto from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { Readable, Transform, TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import iconv from 'iconv-lite';
import { CsvError, parse } from 'csv-parse';
import { cutText } from '../../errors';
import { FileRejected } from './report';
import { Table, TableBuilder, TableOptions } from './table';
import { readXlsx } from './xlsx';

/**
 * Uploaded files, bytes to rows, for every import (GIAS and its links file streamed record by record; the
 * templates and published layouts read whole into a compact table): what the file is (CSV, XLSX, an old .xls,
 * binary), its text encoding (a UTF-8 BOM, UTF-8, else Windows-1252) and the CSV parser's settings are here; XLSX
 * is read in xlsx.ts.
 */

/** The upload limits of POST /import/*. */
export const UPLOAD_LIMITS = {
  /** Finance files are a few thousand rows: read whole into a compact table (XLSX a part at a time as it inflates). */
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
