import type ExcelJS from 'exceljs';
import { DecimalScalar, MoneyScalar } from '../../common/scalars';

/**
 * Column types of an export. They decide the CSV text (always exact: money and decimals are the stored
 * decimal strings) and the XLSX cell type and number format.
 */
export type ColumnType = 'int' | 'money' | 'decimal' | 'fraction' | 'date' | 'datetime' | 'text' | 'bool' | 'json';

export interface ExportColumn {
  key: string;
  type: ColumnType;
  description: string;
  /** Where the value is in the GraphQL result, from the row (default: the key); see export-query.ts. */
  path?: string;
}

export type ExportRow = Record<string, unknown>;

/** Negative money in red with a minus sign: the DSG position is negative when in deficit. */
export const MONEY_FORMAT = '"£"#,##0.00;[Red]-"£"#,##0.00';
const NUM_FORMATS: Partial<Record<ColumnType, string>> = {
  int: '0',
  money: MONEY_FORMAT,
  decimal: '#,##0.00',
  fraction: '0.00%',
  date: 'dd/mm/yyyy',
  datetime: 'dd/mm/yyyy hh:mm:ss',
};

// ---------------------------------------------------------------------------------------------------------
// CSV

function csvText(type: ColumnType, v: unknown): string {
  if (v === null || v === undefined) return '';
  switch (type) {
    case 'bool':
      return v ? 'TRUE' : 'FALSE';
    // GraphQL's own serialisers, so that the CSV text is the text a GraphQL client receives.
    case 'money':
      return String(MoneyScalar.serialize(v));
    case 'decimal':
    case 'fraction':
      return String(DecimalScalar.serialize(v));
    case 'date':
      return String(v).slice(0, 10);
    case 'datetime':
      return v instanceof Date ? v.toISOString() : String(v);
    // A JSON value (an audit entry's before and after) as its JSON text, which starts with { or [: never a formula.
    case 'json':
      return JSON.stringify(v);
    case 'text': {
      // Text typed by people (an allocation's purpose) must not run as a formula when the CSV is opened
      // in Excel (OWASP "CSV injection"): a leading apostrophe makes Excel show it as text.
      const s = String(v);
      return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
    }
    default:
      return String(v);
  }
}

function csvQuote(s: string): string {
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * RFC 4180 with CRLF line ends and a UTF-8 byte order mark: Excel needs the mark to read "St Mary’s"
 * correctly when a person double-clicks the file; Power Query ignores it.
 */
export function toCsv(columns: ExportColumn[], rows: ExportRow[]): string {
  const lines = [columns.map((c) => csvQuote(c.key)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvQuote(csvText(c.type, r[c.key]))).join(','));
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}

// ---------------------------------------------------------------------------------------------------------
// XLSX

/** 'YYYY-MM-DD' as a UTC midnight Date, which exceljs writes as the Excel serial of that calendar day. */
export function isoToExcelDate(iso: string): Date {
  const [y, m, d] = iso.slice(0, 10).split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d));
}

/** The exact decimal string becomes a binary number only here, at the very last step, as the XLSX format requires. */
export function xlsxValue(type: ColumnType, v: unknown): ExcelJS.CellValue {
  if (v === null || v === undefined || v === '') return null;
  switch (type) {
    case 'int':
    case 'money':
    case 'decimal':
    case 'fraction':
      return typeof v === 'number' ? v : Number(String(v));
    case 'date':
      return isoToExcelDate(String(v));
    case 'datetime':
      return v instanceof Date ? v : new Date(String(v));
    case 'bool':
      return Boolean(v);
    case 'json':
      return JSON.stringify(v);
    default:
      return String(v);
  }
}

export interface AboutSheet {
  title: string;
  description: string;
  source: string;
  filters: [string, string][];
  generatedFor: string;
  notes: string[];
  /** The GraphQL document that produced the rows and its variables (JSON), exactly as they ran. */
  graphql?: { document: string; variables: string };
}

/** A text column as wide as its longest value (to a limit), so that school names are not cut off. */
function textWidth(rows: ExportRow[], key: string): number {
  let max = 12;
  for (const r of rows) {
    const v = r[key];
    if (typeof v === 'string' && v.length > max) max = v.length;
  }
  return Math.min(50, max + 2);
}

export function addDataSheet(
  wb: ExcelJS.Workbook,
  name: string,
  columns: ExportColumn[],
  rows: ExportRow[],
): ExcelJS.Worksheet {
  const ws = wb.addWorksheet(name, {
    views: [{ state: 'frozen', ySplit: 1, xSplit: 0 }],
    // On paper: landscape, all columns on the page width, the header row repeated on every page.
    pageSetup: {
      paperSize: 9,
      orientation: 'landscape',
      fitToPage: true,
      fitToWidth: 1,
      fitToHeight: 0,
      printTitlesRow: '1:1',
    },
  });
  ws.columns = columns.map((c) => ({
    header: c.key,
    key: c.key,
    width: Math.min(
      60,
      Math.max(10, c.key.length + 2, c.type === 'text' ? textWidth(rows, c.key) : c.type === 'money' ? 16 : 12),
    ),
    style: NUM_FORMATS[c.type] ? { numFmt: NUM_FORMATS[c.type] } : {},
  }));
  ws.getRow(1).font = { bold: true };
  for (const r of rows) ws.addRow(columns.map((c) => xlsxValue(c.type, r[c.key])));
  if (rows.length > 0) ws.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: columns.length } };
  return ws;
}

const ABOUT_TEXT_WIDTH = 90;

/**
 * Neither Excel nor LibreOffice grows a row to fit wrapped text when it opens a file, so a long line would
 * be drawn over the rows below it: the row is given the height of its lines (Calibri 11: 15 points a line).
 */
function wrappedHeight(text: string, width: number): number | undefined {
  // A column width counts digit widths; running text averages about 0.8 of a digit (measured in LibreOffice), 0.85 leaves a margin.
  const lines = text.split('\n').reduce((n, l) => n + Math.max(1, Math.ceil((l.length * 0.85) / width)), 0);
  return lines > 1 ? lines * 15 : undefined;
}

export function addAboutSheet(
  wb: ExcelJS.Workbook,
  about: AboutSheet,
  columns: ExportColumn[],
  rowCount: number,
): void {
  const ws = wb.addWorksheet('About', {
    pageSetup: { paperSize: 9, orientation: 'landscape', fitToPage: true, fitToWidth: 1, fitToHeight: 0 },
  });
  ws.columns = [{ width: 26 }, { width: ABOUT_TEXT_WIDTH }];
  const add = (values: ExcelJS.CellValue[]) => {
    const row = ws.addRow(values);
    const text = values[1];
    const h = typeof text === 'string' ? wrappedHeight(text, ABOUT_TEXT_WIDTH) : undefined;
    if (h) row.height = h;
    return row;
  };
  const line = (k: string, v: ExcelJS.CellValue, bold = false) => {
    const row = add([k, v]);
    row.getCell(1).font = { bold: true };
    if (bold) row.getCell(2).font = { bold: true };
    return row;
  };
  line('Dataset', about.title, true);
  line('Description', about.description);
  line('Source', about.source);
  // A date-time cell (UTC, as the hub runs), not text; left-aligned like the text around it.
  const at = line('Generated at (UTC)', new Date());
  at.getCell(2).numFmt = 'dd/mm/yyyy hh:mm:ss';
  at.getCell(2).alignment = { horizontal: 'left', vertical: 'top' };
  line('Generated for', about.generatedFor);
  const rows = line('Rows', rowCount);
  rows.getCell(2).numFmt = '#,##0';
  rows.getCell(2).alignment = { horizontal: 'left', vertical: 'top' };
  ws.addRow([]);
  ws.addRow(['Filters']).font = { bold: true };
  if (about.filters.length === 0) add(['(none)', 'Every row the dataset holds.']);
  for (const [k, v] of about.filters) add([k, v]);
  if (about.notes.length) {
    ws.addRow([]);
    ws.addRow(['Notes']).font = { bold: true };
    for (const n of about.notes) add(['', n]);
  }
  ws.addRow([]);
  const head = ws.addRow(['Column', 'Type and meaning']);
  head.font = { bold: true };
  for (const c of columns) add([c.key, `${c.type}: ${c.description}`]);
  if (about.graphql) {
    ws.addRow([]);
    line('GraphQL', about.graphql.document);
    line('Variables', about.graphql.variables);
  }
  ws.getColumn(1).alignment = { vertical: 'top' };
  ws.getColumn(2).eachCell((cell) => {
    if (!cell.alignment?.horizontal) cell.alignment = { wrapText: true, vertical: 'top' };
  });
}
