import type { TableSnapshot } from './allocations';
import type { Chunk, ChunkLimits } from './chunks';
import type { CellValue, ColumnDef } from './types';

export interface WriteTableRequest {
  sheet: string;
  table: string;
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
}

export interface CellMark {
  row: number;
  column: string;
  /** Fill colour, or null to clear a previous mark. */
  fill: string | null;
}

export interface ChartRequest {
  sheet: string;
  title: string;
  type: 'Line' | 'ColumnClustered';
  header: string[];
  rows: CellValue[][];
}

/** Everything the add-in does to the workbook. gateway/excel.ts implements it over Excel.run. */
export interface WorkbookPort {
  writeTable(req: WriteTableRequest): Promise<WriteStats>;
  readTable(table: string): Promise<TableSnapshot | null>;
  readStore(sheet: string): Promise<unknown[][]>;
  writeStore(sheet: string, rows: string[][]): Promise<void>;
  setStamp(sheet: string, text: string, failed: boolean): Promise<void>;
  /** Highlights cells and (re)writes the table's Result column in one batch. */
  markRows(table: string, marks: CellMark[], result?: { header: string; values: string[] }): Promise<void>;
  writeCells(table: string, cells: { row: number; column: string; value: CellValue }[]): Promise<void>;
  addChart(req: ChartRequest): Promise<void>;
  recalculate(): Promise<void>;
}

/** Office single sign-on. gateway/office-auth.ts implements it over OfficeRuntime.auth.getAccessToken. */
export interface SignInPort {
  /** A fresh (or Office-cached, still valid) access token for the hub, or a rejection with Office's error code. */
  getAccessToken(): Promise<string>;
}
