import { ALLOCATION_COLUMNS } from './datasets';
import { pounds } from './format';
import { moneyFromCell, normaliseMoney } from './money-cells';
import type { BaselineRow } from './store';
import type { CellValue } from './types';

export const ALLOCATION_STATUSES = ['PROPOSED', 'APPROVED', 'WITHDRAWN'];
export const RESULT_HEADER = 'Result';
/** Columns that identify an allocation on the hub (school/term/purpose within a community). */
const KEY_COLUMNS = ['School URN', 'Community', 'Term', 'Purpose'];
const REQUIRED = ALLOCATION_COLUMNS.map((c) => c.header);

export interface TableSnapshot {
  name: string;
  /** Excel's Table.id, when read from Excel, and the sheet it is on now. */
  id?: string;
  sheet?: string;
  /** The header's first column on the sheet, 0-based. */
  headerCol?: number;
  header: string[];
  rows: CellValue[][];
  /** Non-blank rows typed directly under the table but outside it (Excel did not take them in). */
  below?: CellValue[][];
  /** The header's sheet row, 0-based: body row i is sheet row headerRow + 2 + i as Excel numbers rows. */
  headerRow?: number;
}

/** The row number Excel shows for body row i of a table whose header is on (0-based) sheet row headerRow. */
export function sheetRow(headerRow: number | undefined, i: number): number {
  return (headerRow ?? 2) + 2 + i;
}

export interface CellIssue {
  /** 0-based row within the table body. */
  row: number;
  column: string;
  message: string;
}

export interface SubmitRow {
  schoolUrn: number;
  communityCode: string;
  term: string;
  amount: string;
  purpose: string;
  status: string;
  baseVersion: number | null;
}

export interface Change {
  row: number;
  id: string | null;
  input: SubmitRow;
  base: BaselineRow | null;
}

export interface DiffResult {
  /** Problems with the table as a whole: nothing may be sent while any exists. */
  tableErrors: string[];
  /** Problems with single cells: flagged on the cell, nothing sent until fixed. */
  cellIssues: CellIssue[];
  changes: Change[];
  unchanged: number;
  /** Pulled rows no longer in the sheet; the hub has no delete, so they are reported, not sent. */
  removed: BaselineRow[];
}

const str = (v: CellValue): string => (v === null || v === undefined ? '' : String(v).trim());

/**
 * Compares the allocations table with the baseline kept at pull time. The baseline, not the sheet's own
 * Version column, supplies baseVersion: a version edited by hand must not defeat the stale-version check.
 */
export function diffAllocations(table: TableSnapshot, baseline: Map<string, BaselineRow> | undefined): DiffResult {
  const res: DiffResult = { tableErrors: [], cellIssues: [], changes: [], unchanged: 0, removed: [] };
  const col = new Map(table.header.map((h, j) => [str(h), j]));
  const missing = REQUIRED.filter((h) => !col.has(h));
  if (missing.length) {
    res.tableErrors.push(
      `Table "${table.name}": column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} ` +
        `missing: a header was edited or a column deleted. Restore ${missing.length > 1 ? 'them' : 'it'} or pull the table again; nothing was sent.`,
    );
    return res;
  }
  if (!baseline) {
    res.tableErrors.push(
      `Table "${table.name}" has no baseline in this workbook: pull it again before submitting; nothing was sent.`,
    );
    return res;
  }
  const at = (r: CellValue[], h: string) => r[col.get(h)!];
  const seen = new Set<string>();
  table.rows.forEach((r, row) => {
    if (r.every((x) => str(x) === '')) return;
    const id = str(at(r, 'Id'));
    const issue = (column: string, message: string) => res.cellIssues.push({ row, column, message });
    const before = res.cellIssues.length;
    const base = id ? (baseline.get(id) ?? null) : null;
    if (id && !base) issue('Id', `Id ${id} was not pulled into this table; clear the Id to create a new allocation`);
    if (id && seen.has(id)) issue('Id', `Id ${id} appears twice`);
    if (id) seen.add(id);

    const amount = moneyFromCell(at(r, 'Amount'));
    if (!amount.ok) issue('Amount', amount.message);
    const status = str(at(r, 'Status')).toUpperCase();
    if (!ALLOCATION_STATUSES.includes(status))
      issue('Status', `Status must be one of ${ALLOCATION_STATUSES.join(', ')}`);
    const urnCell = at(r, 'School URN');
    const urn = typeof urnCell === 'number' ? urnCell : Number.NaN;
    if (!Number.isInteger(urn) || urn <= 0) issue('School URN', 'School URN must be a whole number');
    const community = str(at(r, 'Community'));
    const term = str(at(r, 'Term'));
    const purpose = str(at(r, 'Purpose'));
    if (!community) issue('Community', 'Community is empty');
    if (!term) issue('Term', 'Term is empty');
    if (base) {
      const now: Record<string, string> = {
        'School URN': String(urn),
        Community: community,
        Term: term,
        Purpose: purpose,
      };
      const was: Record<string, string> = {
        'School URN': String(base.schoolUrn),
        Community: base.communityCode,
        Term: base.term,
        Purpose: base.purpose,
      };
      for (const k of KEY_COLUMNS) {
        if (now[k] !== was[k])
          issue(k, `${k} of an existing allocation cannot change (was "${was[k]}"); add a new row instead`);
      }
    }
    if (res.cellIssues.length > before || !amount.ok) return;
    if (base && normaliseMoney(base.amount) === amount.value && base.status === status) {
      res.unchanged++;
      return;
    }
    res.changes.push({
      row,
      id: id || null,
      base,
      input: {
        schoolUrn: urn,
        communityCode: community,
        term,
        amount: amount.value,
        purpose,
        status,
        baseVersion: base ? base.version : null,
      },
    });
  });
  for (const b of baseline.values()) if (!seen.has(b.id)) res.removed.push(b);
  return res;
}

// ---- the mutation's answer ----

export interface Theirs {
  amount: string;
  status: string;
  version: number;
}
export interface UserError {
  code: string;
  field?: string | null;
  message: string;
  pot?: string | null;
  total?: string | null;
  theirs?: Theirs | null;
}
/** One row of the hub's answer (schema type AllocationRowResultType). */
export interface RowResult {
  index: number;
  result: 'CREATED' | 'UPDATED' | 'UNCHANGED' | 'REJECTED';
  allocationId?: string | null;
  version?: number | null;
  before?: { amount: string; status: string; version?: number | null } | null;
  after?: { amount: string; status: string; version?: number | null } | null;
  userErrors: UserError[];
}
export interface SubmitPayload {
  applied: boolean;
  dryRun: boolean;
  replayed?: boolean;
  results: RowResult[];
  totals: {
    communityCode: string;
    term: string;
    pot: string | null;
    approvedBefore: string;
    approvedAfter: string;
    remainingAfter?: string | null;
  }[];
  /** Batch-level errors; the hub reports them per row today, kept for hubs that add them. */
  userErrors?: { code: string; message: string }[];
}

const FIELD_TO_COLUMN: Record<string, string> = {
  amount: 'Amount',
  status: 'Status',
  schoolUrn: 'School URN',
  communityCode: 'Community',
  term: 'Term',
  purpose: 'Purpose',
  baseVersion: 'Version',
};

export interface Conflict {
  row: number;
  /** The row number Excel shows, and the school, for the message. */
  sheetRow?: number;
  schoolName?: string;
  id: string | null;
  base: { amount: string; status: string; version: number } | null;
  mine: { amount: string; status: string };
  theirs: Theirs;
}

export interface RowOutcome {
  row: number;
  result: RowResult['result'];
  /** Text for the Result column. */
  message: string;
  /** Columns to highlight as rejected, each with its message. */
  cells: { column: string; message: string }[];
  conflict?: Conflict;
  /** Cells the server says this role may not write. */
  forbidden: boolean;
}

export function interpretResults(changes: Change[], payload: SubmitPayload): RowOutcome[] {
  return payload.results.map((r) => {
    const ch = changes[r.index];
    const verb = payload.dryRun
      ? { CREATED: 'would create', UPDATED: 'would update', UNCHANGED: 'unchanged', REJECTED: 'rejected' }[r.result]
      : r.result.toLowerCase();
    const out: RowOutcome = { row: ch.row, result: r.result, message: verb, cells: [], forbidden: false };
    if (r.result !== 'REJECTED') {
      if (r.version != null && !payload.dryRun) out.message = `${verb} (v${r.version})`;
      return out;
    }
    out.message = `rejected: ${r.userErrors.map((e) => e.message).join('; ')}`;
    for (const e of r.userErrors) {
      out.cells.push({ column: FIELD_TO_COLUMN[e.field ?? ''] ?? 'Amount', message: `${e.code}: ${e.message}` });
      if (e.code === 'FORBIDDEN' || e.code === 'NOT_MEMBER') out.forbidden = e.code === 'FORBIDDEN';
      if (e.code === 'STALE_VERSION' && e.theirs) {
        out.conflict = {
          row: ch.row,
          id: ch.id,
          base: ch.base ? { amount: ch.base.amount, status: ch.base.status, version: ch.base.version } : null,
          mine: { amount: ch.input.amount, status: ch.input.status },
          theirs: { amount: e.theirs.amount, status: e.theirs.status, version: Number(e.theirs.version) },
        };
      }
    }
    return out;
  });
}

export interface PreviewRow {
  row: number;
  /** The row number Excel shows and the school's name (filled in by the caller, which knows the sheet). */
  sheetRow?: number;
  schoolName?: string;
  school: number;
  community: string;
  term: string;
  before: string;
  after: string;
  result: string;
  message: string;
  rejected: boolean;
}

export interface Preview {
  rows: PreviewRow[];
  totals: SubmitPayload['totals'];
  errors: string[];
  rejected: number;
}

/** The dry run, shaped for the pane: what changes, before → after, the pot per community. */
export function buildPreview(changes: Change[], payload: SubmitPayload): Preview {
  const outcomes = interpretResults(changes, payload);
  const rows = outcomes.map((o, k) => {
    const ch = changes[payload.results[k].index];
    const r = payload.results[k];
    const before = r.before
      ? `${pounds(r.before.amount)} ${r.before.status}`
      : ch.base
        ? `${pounds(ch.base.amount)} ${ch.base.status}`
        : 'new';
    const after = r.after
      ? `${pounds(r.after.amount)} ${r.after.status}`
      : `${pounds(ch.input.amount)} ${ch.input.status}`;
    return {
      row: o.row,
      school: ch.input.schoolUrn,
      community: ch.input.communityCode,
      term: ch.input.term,
      before,
      after,
      result: r.result,
      message: o.message,
      rejected: r.result === 'REJECTED',
    };
  });
  return {
    rows,
    totals: payload.totals,
    errors: (payload.userErrors ?? []).map((e) => `${e.code}: ${e.message}`),
    rejected: rows.filter((r) => r.rejected).length,
  };
}

// ---- conflicts ----

export interface Resolution {
  /** The baseline row to store for this allocation. */
  baseline: BaselineRow;
  /** Cells to write into the sheet (take theirs), keyed by column header. */
  sheet: Record<string, CellValue>;
}

/**
 * Keep mine: the base moves to their version, so the next submit sends my value on top of theirs knowingly.
 * Take theirs: the sheet and the base both become theirs, so the row drops out of the next diff.
 */
export function resolveConflict(c: Conflict, choice: 'mine' | 'theirs', current: BaselineRow): Resolution {
  const baseline: BaselineRow = {
    ...current,
    version: c.theirs.version,
    amount: c.theirs.amount,
    status: c.theirs.status,
  };
  if (choice === 'mine') return { baseline, sheet: { Version: c.theirs.version } };
  return { baseline, sheet: { Amount: Number(c.theirs.amount), Status: c.theirs.status, Version: c.theirs.version } };
}

/** The baseline after a successful submit: each written row starts again from what the hub now holds. */
export function advanceBaseline(
  base: Map<string, BaselineRow>,
  changes: Change[],
  payload: SubmitPayload,
): { baseline: Map<string, BaselineRow>; sheet: { row: number; cells: Record<string, CellValue> }[] } {
  const next = new Map(base);
  const sheet: { row: number; cells: Record<string, CellValue> }[] = [];
  for (const r of payload.results) {
    const ch = changes[r.index];
    if (r.result === 'REJECTED' || !r.allocationId || r.version == null) continue;
    const id = String(r.allocationId);
    const amount = r.after?.amount ?? ch.input.amount;
    const status = r.after?.status ?? ch.input.status;
    next.set(id, {
      id,
      version: r.version,
      schoolUrn: ch.input.schoolUrn,
      communityCode: ch.input.communityCode,
      term: ch.input.term,
      amount,
      status,
      purpose: ch.input.purpose,
    });
    sheet.push({ row: ch.row, cells: { Id: id, Version: r.version, Amount: Number(amount), Status: status } });
  }
  return { baseline: next, sheet };
}

/** Same changes + same decision → same key, so a retry after a timeout can never apply twice. */
export function fingerprint(table: string, changes: Change[], decisionReference: string, reason: string): string {
  return JSON.stringify([table, decisionReference, reason, changes.map((c) => c.input)]);
}
