import type { TableSnapshot } from './allocations';
import type { Chunk, ChunkLimits } from './chunks';
import type { CellValue, ColumnDef } from './types';

export interface WriteTableRequest {
  /**
   * The identity of a table pulled before (Excel's Table.id, which survives renames and moves). With it the
   * table is refreshed in place; without it a new table is made on a new sheet.
   */
  tableId?: string;
  /** Names wanted for a new table and its sheet; made unique (ignoring case) and valid before use. */
  tableName: string;
  sheetName: string;
  stamp: string;
  columns: ColumnDef[];
  /** Values ready for Excel (numbers, not Money strings). */
  rows: CellValue[][];
  limits?: ChunkLimits;
  /** Grey the columns the user cannot write back (only meaningful for editable tables). */
  styleReadOnly?: boolean;
}

export interface WriteStats {
  syncs: number;
  chunks: Chunk[];
  ms: number;
  /** Where the table is now: its identity and its current names (the user may have renamed either). */
  tableId: string;
  table: string;
  sheet: string;
  sheetId: string;
}

export interface CellMark {
  row: number;
  column: string;
  /** Fill colour. */
  fill: string;
}

export interface MarkRequest {
  /** Columns whose fills are cleared over the whole body first (one instruction per column). */
  clearColumns: string[];
  marks: CellMark[];
  /** The Result column's text, one per body row; the column is added at the right when missing. */
  result?: { header: string; values: string[] };
}

export interface ChartRequest {
  /** The sheet a previous chart of this purpose was put on (Worksheet.id), so it is updated, not repeated. */
  sheetId?: string;
  sheetName: string;
  /** The chart's name on its sheet: one chart per purpose. */
  chartName: string;
  title: string;
  type: 'Line' | 'ColumnClustered';
  header: string[];
  rows: CellValue[][];
  numberFormat?: string;
}

export interface ChartPlaced {
  sheetId: string;
  sheet: string;
  updated: boolean;
}

/** Everything the add-in does to the workbook. gateway/excel.ts implements it over Excel.run. */
export interface WorkbookPort {
  writeTable(req: WriteTableRequest): Promise<WriteStats>;
  /** A table by identity (Table.id) or name; null when it is no longer in the workbook. */
  readTable(table: string): Promise<TableSnapshot | null>;
  readStore(sheet: string): Promise<unknown[][]>;
  writeStore(sheet: string, rows: string[][]): Promise<void>;
  /** Rewrites the stamp above a table (only a cell holding a stamp or nothing). */
  setStamp(table: string, text: string, failed: boolean): Promise<void>;
  /** Highlights blocks of cells and (re)writes the table's Result column in as few instructions as it can. */
  markRows(table: string, req: MarkRequest): Promise<void>;
  writeCells(table: string, cells: { row: number; column: string; value: CellValue }[]): Promise<void>;
  /** Takes rows typed directly under a table (outside it) into the table. */
  adoptRowsBelow(table: string, rows: number): Promise<boolean>;
  addChart(req: ChartRequest): Promise<ChartPlaced>;
  /** Recalculates these cells ("Sheet!A1"); with none known, the whole workbook. */
  recalculate(addresses?: string[]): Promise<void>;
  /** Opens a cleaned copy of this workbook (Prepare to share); the open workbook is not changed. */
  shareCopy(plan: import('./share').SharePlan): Promise<import('./share').ShareResult>;
}

/** Office single sign-on. gateway/office-auth.ts implements it over OfficeRuntime.auth.getAccessToken. */
export interface SignInPort {
  /** A fresh (or Office-cached, still valid) access token for the hub, or a rejection with Office's error code. */
  getAccessToken(): Promise<string>;
}
