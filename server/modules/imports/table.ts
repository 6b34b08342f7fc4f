import Decimal from 'decimal.js';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { parse } from 'csv-parse/sync';
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
}

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/**
 * Small tabular files (finance templates: thousands of rows at most) are read whole. CSV is decoded as
 * UTF-8 when it is valid UTF-8 (templates from the hub are), else as Windows-1252 (Excel's "CSV (Comma
 * delimited)" on Windows).
 */
export async function readTable(buf: Buffer, preferredSheet = 'Data'): Promise<Table> {
  if (buf.length === 0) throw new FileRejected('The file is empty.', []);
  if (buf.subarray(0, 4).equals(ZIP_MAGIC)) return readXlsx(buf, preferredSheet);
  if (buf.subarray(0, 8).equals(Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]))) {
    throw new FileRejected('The file is an old Excel 97-2003 workbook (.xls): save it as .xlsx or CSV.', []);
  }
  if (buf.subarray(0, 4096).includes(0)) throw new FileRejected('The file is binary: it is neither CSV nor XLSX.', []);
  return readCsv(buf);
}

function decode(buf: Buffer): string {
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return buf.subarray(3).toString('utf8');
  const utf8 = buf.toString('utf8');
  return utf8.includes('\uFFFD') ? iconv.decode(buf, 'win1252') : utf8;
}

function readCsv(buf: Buffer): Table {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(decode(buf), { relax_column_count: true, info: true, skip_empty_lines: true }) as never;
  } catch (err) {
    const line = (err as { lines?: number }).lines ?? 0;
    throw new FileRejected(`The file is not valid CSV at line ${line}: ${(err as Error).message}`, [{ line, column: null, value: null, reason: (err as Error).message }]);
  }
  if (records.length === 0) throw new FileRejected('The file is empty: it has no header line.', []);
  const header = records[0].record.map((h) => h.trim());
  return {
    format: 'csv',
    header,
    rows: records.slice(1).map(({ record, info }) => ({
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
        return { text: `=${(v as ExcelJS.CellFormulaValue).formula ?? ''}`, error: 'the formula has no saved value: open the file in Excel and save it, or paste values' };
      }
      return cellOf(result as ExcelJS.CellValue);
    }
    if ('richText' in v) return { text: v.richText.map((r) => r.text).join('').trim() };
    if ('text' in v) return { text: String((v as { text: unknown }).text).trim() };
  }
  return { text: String(v) };
}

async function readXlsx(buf: Buffer, preferredSheet: string): Promise<Table> {
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(buf as unknown as ArrayBuffer);
  } catch (err) {
    throw new FileRejected(`The file looks like XLSX but cannot be read: ${(err as Error).message}`, []);
  }
  const ws = wb.getWorksheet(preferredSheet) ?? wb.worksheets[0];
  if (!ws) throw new FileRejected('The workbook has no sheets.', []);
  const width = ws.getRow(1).cellCount;
  const header = Array.from({ length: width }, (_, i) => cellOf(ws.getRow(1).getCell(i + 1).value).text);
  const rows: Table['rows'] = [];
  ws.eachRow({ includeEmpty: false }, (row, n) => {
    if (n === 1) return;
    const cells = new Map(header.map((h, i) => [h, cellOf(row.getCell(i + 1).value)]));
    if ([...cells.values()].every((c) => c.text === '' && !c.error)) return;
    rows.push({ line: n, cells });
  });
  return { format: 'xlsx', header, rows, sheet: ws.name };
}
