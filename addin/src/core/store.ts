/**
 * What the add-in remembers lives in the workbook itself (hidden sheets), so it travels with the file and
 * survives edits made while the add-in was closed. Document settings are avoided: they are per-add-in,
 * invisible to the user and lost when the workbook is re-saved by another tool.
 */
import type { DatasetParams } from './datasets';
import type { Stamp } from './stamp';

export const REGISTRY_SHEET = '_hnh_tables';
export const BASELINE_SHEET = '_hnh_baseline';
export const SETTINGS_SHEET = '_hnh_settings';

export interface RegisteredTable {
  /**
   * Excel's Table.id: the table's identity, kept across renames and moves. Empty for tables registered by an
   * earlier version of the add-in, which are then found by name once and given their id.
   */
  id: string;
  /** The table's and its sheet's names when last seen (for the pane; the id is what finds the table). */
  table: string;
  sheet: string;
  sheetId: string;
  dataset: string;
  params: DatasetParams;
  stamp: Stamp;
  status: 'ok' | 'failed';
  message: string;
}

export const REGISTRY_HEADER = ['table', 'sheet', 'dataset', 'params', 'stamp', 'status', 'message', 'id', 'sheetId'];

/** How a registered table is found again: its id, or its name for one registered before ids were kept. */
export const tableKey = (t: Pick<RegisteredTable, 'id' | 'table'>): string => t.id || t.table;

export function encodeRegistry(tables: RegisteredTable[]): string[][] {
  return [
    REGISTRY_HEADER,
    ...tables.map((t) => [
      t.table,
      t.sheet,
      t.dataset,
      JSON.stringify(t.params),
      JSON.stringify(t.stamp),
      t.status,
      t.message,
      t.id,
      t.sheetId,
    ]),
  ];
}

export function decodeRegistry(rows: unknown[][]): RegisteredTable[] {
  const out: RegisteredTable[] = [];
  for (const r of rows.slice(1)) {
    if (!r[0]) continue;
    try {
      out.push({
        id: String(r[7] ?? ''),
        sheetId: String(r[8] ?? ''),
        table: String(r[0]),
        sheet: String(r[1]),
        dataset: String(r[2]),
        params: JSON.parse(String(r[3] || '{}')),
        stamp: JSON.parse(String(r[4] || '{}')),
        status: r[5] === 'failed' ? 'failed' : 'ok',
        message: String(r[6] ?? ''),
      });
    } catch {
      // A row someone edited by hand is skipped rather than breaking every other table's refresh.
    }
  }
  return out;
}

/** Replaces the entry with the same identity in place (the pane's order stays the pull order), or appends. */
export function upsertTable(
  tables: RegisteredTable[],
  t: RegisteredTable,
  previousKey = tableKey(t),
): RegisteredTable[] {
  const i = tables.findIndex((x) => tableKey(x) === previousKey || tableKey(x) === tableKey(t));
  if (i < 0) return [...tables, t];
  return [
    ...tables.slice(0, i),
    t,
    ...tables.filter((x, k) => k > i && tableKey(x) !== previousKey && tableKey(x) !== tableKey(t)),
  ];
}

/** One pulled allocation: the value and version the user started from. Amount is a Money string. */
export interface BaselineRow {
  id: string;
  version: number;
  schoolUrn: number;
  communityCode: string;
  term: string;
  amount: string;
  status: string;
  purpose: string;
}

export const BASELINE_HEADER = [
  'table',
  'id',
  'version',
  'schoolUrn',
  'communityCode',
  'term',
  'amount',
  'status',
  'purpose',
];

export type BaselineStore = Map<string, Map<string, BaselineRow>>;

export function encodeBaseline(store: BaselineStore): string[][] {
  const rows: string[][] = [BASELINE_HEADER];
  for (const [table, m] of store) {
    // An empty pull is still a baseline: a row with no id says "pulled, nothing in it", so a first
    // allocation typed into the empty table is a create rather than "pull it again".
    if (m.size === 0) rows.push([table, '', '', '', '', '', '', '', '']);
    // Text, not numbers: the amount must come back exactly as the hub sent it.
    for (const b of m.values())
      rows.push([
        table,
        b.id,
        String(b.version),
        String(b.schoolUrn),
        b.communityCode,
        b.term,
        b.amount,
        b.status,
        b.purpose,
      ]);
  }
  return rows;
}

export function decodeBaseline(rows: unknown[][]): BaselineStore {
  const store: BaselineStore = new Map();
  for (const r of rows.slice(1)) {
    if (!r[0]) continue;
    const table = String(r[0]);
    if (!store.has(table)) store.set(table, new Map());
    if (!r[1]) continue;
    store.get(table)!.set(String(r[1]), {
      id: String(r[1]),
      version: Number(r[2]),
      schoolUrn: Number(r[3]),
      communityCode: String(r[4]),
      term: String(r[5]),
      amount: String(r[6]),
      status: String(r[7]),
      purpose: String(r[8] ?? ''),
    });
  }
  return store;
}

/** Small add-in settings kept with the workbook (key, value): refresh on open, where each chart went. */
export function decodeSettings(rows: unknown[][]): Map<string, string> {
  const m = new Map<string, string>();
  for (const r of rows) if (r[0]) m.set(String(r[0]), String(r[1] ?? ''));
  return m;
}
export function encodeSettings(m: Map<string, string>): string[][] {
  return [...m].map(([k, v]) => [k, v]);
}
