/**
 * What the task pane's buttons do, and the add-in's state. Plain TypeScript over two ports (the hub client
 * and the workbook), so the browser test and the unit tests drive exactly this code; taskpane/ only wires
 * it to the DOM. Columns are found by header, never by position.
 */
import {
  advanceBaseline,
  buildPreview,
  diffAllocations,
  fingerprint,
  interpretResults,
  resolveConflict,
  sheetRow,
  RESULT_HEADER,
  type Change,
  type Conflict,
  type DiffResult,
  type Preview,
  type RowOutcome,
  type SubmitPayload,
  type TableSnapshot,
} from '../core/allocations';
import { DATASETS, datasetById, missingFilters, toExcelRows, type DatasetParams } from '../core/datasets';
import { pence, pounds } from '../core/format';
import type { Unit } from '../functions/batcher';
import { HubClient, HubRequestError, type HubClientOptions } from '../core/graphql';
import { OPERATIONS } from '../core/operations.generated';
import type { SignInPort, WorkbookPort, WriteStats } from '../core/ports';
import { expiresSoon, fetchAuthConfig, SSO_MESSAGES, SsoError, toSsoError, type AuthConfig } from '../core/sso';
import { failedStampText, stampText, type Stamp } from '../core/stamp';
import {
  BASELINE_SHEET,
  decodeBaseline,
  decodeRegistry,
  decodeSettings,
  encodeBaseline,
  encodeRegistry,
  encodeSettings,
  REGISTRY_SHEET,
  SETTINGS_SHEET,
  tableKey,
  upsertTable,
  type BaselineRow,
  type RegisteredTable,
} from '../core/store';
import { NUMBER_FORMATS, type CellValue, type Me } from '../core/types';
import { session } from '../shared/session';

export const REJECTED_FILL = '#F4CCCC';
export const OK_FILL = '#D9EAD3';
export const FORBIDDEN_FILL = '#D9D9D9';

export interface Deps {
  port: WorkbookPort;
  /** Office single sign-on (gateway/office-auth.ts); without it only hub tokens are offered. */
  signIn?: SignInPort;
  now?: () => Date;
  uuid?: () => string;
  fetchImpl?: typeof fetch;
}

export interface InsertResult {
  /** The table's identity (Excel's Table.id) and its current names. */
  id: string;
  table: string;
  sheet: string;
  rows: number;
  stats: WriteStats;
  /** true when the same dataset and filters were already in the workbook and that table was refreshed. */
  refreshed: boolean;
}

export interface RefreshResult {
  id: string;
  table: string;
  dataset: string;
  status: 'refreshed' | 'failed' | 'skipped' | 'cancelled';
  message: string;
  rows?: number;
}

/** A long pull or refresh reports counts as it goes, and stops when cancelled. */
export interface Progress {
  onProgress?: (p: { table?: string; tableIndex?: number; tables?: number; received: number; total?: number }) => void;
  signal?: { cancelled: boolean };
}

export class CancelledError extends Error {
  constructor() {
    super('Cancelled: nothing more was fetched, and the table keeps the figures it had');
    this.name = 'CancelledError';
  }
}

/** A cell problem in words, with the row number Excel shows and the school's name. */
export interface PlainIssue {
  row: number;
  sheetRow: number;
  column: string;
  message: string;
}

export type PreviewOutcome =
  | { kind: 'blocked'; tableErrors: string[]; cellIssues: DiffResult['cellIssues']; issues: PlainIssue[] }
  | { kind: 'nothing'; message: string }
  | { kind: 'preview'; preview: Preview; changes: number; removed: number; warnings: string[]; creates: number };

export interface SubmitOutcome {
  applied: boolean;
  outcomes: RowOutcome[];
  conflicts: Conflict[];
  errors: string[];
}

interface Pending {
  table: string;
  changes: Change[];
  fingerprint: string;
  key: string;
  decisionReference: string;
  reason: string;
}

function defaultUuid(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  return 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, (ch) => {
    const r = (Math.random() * 16) | 0;
    return (ch === 'x' ? r : (r & 0x3) | 0x8).toString(16);
  });
}

export class AddinActions {
  private pending: Pending | null = null;
  conflicts: Conflict[] = [];
  private readonly now: () => Date;
  private readonly uuid: () => string;
  /** Which cells =HNH functions were last recalculated in, for tests and the pane. */
  lastRecalc: string[] | 'all' = [];

  constructor(private readonly deps: Deps) {
    this.now = deps.now ?? (() => new Date());
    this.uuid = deps.uuid ?? defaultUuid;
  }

  get me(): Me | undefined {
    return session().me;
  }

  private client(): HubClient {
    const c = session().client;
    if (!c) throw new HubRequestError('UNAUTHENTICATED', 'Not connected: enter the hub address and your token');
    return c;
  }

  /** Connects and asks the hub who the token belongs to. Nothing touches the workbook. */
  async connect(url: string, token: string, timeoutMs = session().timeoutMs): Promise<Me> {
    const s = session();
    return this.establish(url, token.trim(), 'token', { token: () => s.token, timeoutMs });
  }

  /** What the hub at this address says about sign-in: whether to offer "Sign in with Microsoft". */
  authConfig(url: string): Promise<AuthConfig> {
    return fetchAuthConfig(url, this.deps.fetchImpl);
  }

  /**
   * Sign in with Microsoft: Office single sign-on gives an Entra ID access token for the hub, which becomes
   * the bearer. A token about to expire, or one the hub answers 401 to, is swapped for a fresh one from
   * Office silently (one retry); only when that fails is the person asked to reconnect. Office's error
   * codes arrive as an SsoError with words, and the token field stays the way in.
   */
  async signInWithMicrosoft(url: string, timeoutMs = session().timeoutMs): Promise<Me> {
    const signIn = this.deps.signIn;
    if (!signIn) throw new SsoError(13012, SSO_MESSAGES[13012]);
    const s = session();
    let first: string;
    try {
      first = await signIn.getAccessToken();
    } catch (e) {
      throw toSsoError(e);
    }
    let inflight: Promise<string> | null = null;
    // Requests that find the token stale at the same moment (a recalculation) share one getAccessToken.
    const fresh = () =>
      (inflight ??= signIn.getAccessToken().then(
        (t) => {
          inflight = null;
          if (s.via === 'microsoft') s.token = t;
          return t;
        },
        (e) => {
          inflight = null;
          throw toSsoError(e);
        },
      ));
    return this.establish(url, first, 'microsoft', {
      timeoutMs,
      token: async () => {
        if (expiresSoon(s.token)) {
          try {
            await fresh();
          } catch (e) {
            throw new HubRequestError(
              'UNAUTHENTICATED',
              `Your Microsoft sign-in has expired and could not be renewed: ${(e as Error).message}`,
              'UNAUTHENTICATED',
            );
          }
        }
        return s.token;
      },
      refreshToken: async () => {
        const before = s.token;
        return (await fresh()) !== before;
      },
    });
  }

  private async establish(
    url: string,
    token: string,
    via: 'token' | 'microsoft',
    opts: Omit<HubClientOptions, 'url' | 'fetchImpl'> & { timeoutMs: number },
  ): Promise<Me> {
    const s = session();
    const client = new HubClient({ ...opts, url, fetchImpl: this.deps.fetchImpl });
    const previous = { token: s.token, client: s.client, me: s.me, via: s.via };
    s.token = token;
    s.via = via;
    try {
      const data = await client.request<{ me: Me }>(OPERATIONS.Me);
      s.url = url;
      s.client = client;
      s.me = data.me;
      s.timeoutMs = opts.timeoutMs;
      s.batcher?.clear();
      // Cells that showed #N/A ("not connected") or another person's figures recalculate now.
      await this.recalcFunctions(() => true).catch(() => undefined);
      return data.me;
    } catch (e) {
      Object.assign(s, previous);
      throw e;
    }
  }

  disconnect(): void {
    const s = session();
    s.token = undefined;
    s.via = undefined;
    s.client = undefined;
    s.me = undefined;
  }

  async listTables(): Promise<RegisteredTable[]> {
    return decodeRegistry(await this.deps.port.readStore(REGISTRY_SHEET));
  }

  private async saveTables(tables: RegisteredTable[]): Promise<void> {
    await this.deps.port.writeStore(REGISTRY_SHEET, encodeRegistry(tables));
  }

  async settings(): Promise<Map<string, string>> {
    return decodeSettings(await this.deps.port.readStore(SETTINGS_SHEET));
  }

  private async saveSetting(key: string, value: string): Promise<void> {
    const m = await this.settings();
    m.set(key, value);
    await this.deps.port.writeStore(SETTINGS_SHEET, encodeSettings(m));
  }

  /** Refresh every table when this workbook is opened (kept in the workbook, so it travels with it). */
  async setRefreshOnOpen(on: boolean): Promise<void> {
    await this.saveSetting('refreshOnOpen', on ? '1' : '0');
  }

  async refreshOnOpen(): Promise<boolean> {
    return (await this.settings()).get('refreshOnOpen') === '1';
  }

  private stamp(dataset: string, params: DatasetParams): Stamp {
    const me = this.me;
    return {
      source: this.client().endpoint,
      dataset,
      filters: params,
      asAt: this.now()
        .toISOString()
        .replace(/\.\d+Z$/, 'Z'),
      by: me?.name ?? 'unknown',
      role: me?.role ?? '?',
    };
  }

  private pageWatcher(
    progress: Progress | undefined,
    label: string,
    extra: { tableIndex?: number; tables?: number } = {},
  ) {
    return (received: number, total?: number) => {
      if (progress?.signal?.cancelled) throw new CancelledError();
      progress?.onProgress?.({ table: label, received, total, ...extra });
    };
  }

  private async pullInto(
    reg: { id?: string; table: string; sheet: string; dataset: string; params: DatasetParams },
    progress?: Progress,
    extra?: { tableIndex?: number; tables?: number },
  ) {
    const def = datasetById(reg.dataset);
    const rows = await def.fetch(this.client(), reg.params, this.pageWatcher(progress, reg.table, extra));
    if (progress?.signal?.cancelled) throw new CancelledError();
    const stamp = this.stamp(def.label, reg.params);
    const stats = await this.deps.port.writeTable({
      tableId: reg.id || undefined,
      tableName: reg.table,
      sheetName: reg.sheet,
      stamp: stampText(stamp),
      columns: def.columns,
      rows: toExcelRows(def.columns, rows),
      styleReadOnly: def.id === 'allocations',
    });
    if (def.id === 'allocations') await this.storeBaseline(stats.tableId, rows, reg.id ? undefined : reg.table);
    return { rows, stamp, stats };
  }

  private async storeBaseline(key: string, rows: CellValue[][], oldKey?: string): Promise<void> {
    const store = decodeBaseline(await this.deps.port.readStore(BASELINE_SHEET));
    const m = new Map<string, BaselineRow>();
    for (const r of rows) {
      const [id, schoolUrn, , communityCode, term, amount, status, purpose, version] = r;
      m.set(String(id), {
        id: String(id),
        version: Number(version),
        schoolUrn: Number(schoolUrn),
        communityCode: String(communityCode),
        term: String(term),
        amount: String(amount),
        status: String(status),
        purpose: purpose == null ? '' : String(purpose),
      });
    }
    if (oldKey) store.delete(oldKey);
    // Stored even when empty: an empty pull is the baseline for a first allocation.
    store.set(key, m);
    await this.deps.port.writeStore(BASELINE_SHEET, encodeBaseline(store));
  }

  /**
   * "Insert": a new table on a new sheet, or, when the same dataset with the same filters is already in the
   * workbook, that table refreshed in place.
   */
  async insert(
    datasetId: string,
    params: DatasetParams,
    progress?: Progress | ((n: number) => void),
  ): Promise<InsertResult> {
    const prog: Progress | undefined =
      typeof progress === 'function' ? { onProgress: (p) => progress(p.received) } : progress;
    const def = datasetById(datasetId);
    const clean = Object.fromEntries(
      Object.entries(params).filter(([k, v]) => v && def.filters.includes(k as never)),
    ) as DatasetParams;
    const missing = missingFilters(def, clean);
    if (missing.length) throw new Error(`${def.label} needs: ${missing.join(', ')}`);
    const tables = await this.listTables();
    const same = tables.find((t) => t.dataset === def.id && JSON.stringify(t.params) === JSON.stringify(clean));
    if (same) {
      const r = await this.refreshOne(same, tables, prog);
      if (r.status !== 'refreshed') throw new Error(r.message);
      const now = (await this.listTables()).find((t) => tableKey(t) === r.id)!;
      return {
        id: r.id,
        table: now.table,
        sheet: now.sheet,
        rows: r.rows ?? 0,
        stats: this.lastStats!,
        refreshed: true,
      };
    }
    const wanted = { table: `HNH_${def.id}`, sheet: def.label };
    const { rows, stamp, stats } = await this.pullInto({ ...wanted, dataset: def.id, params: clean }, prog);
    const reg: RegisteredTable = {
      id: stats.tableId,
      table: stats.table,
      sheet: stats.sheet,
      sheetId: stats.sheetId,
      dataset: def.id,
      params: clean,
      stamp,
      status: 'ok',
      message: '',
    };
    await this.saveTables(upsertTable(tables, reg));
    return { id: stats.tableId, table: stats.table, sheet: stats.sheet, rows: rows.length, stats, refreshed: false };
  }

  private lastStats: WriteStats | null = null;

  /** Refreshes one table in place, found by its identity; the registry is updated with its current names. */
  async refresh(key: string, progress?: Progress): Promise<RefreshResult> {
    const tables = await this.listTables();
    const t = tables.find((x) => tableKey(x) === key || x.table === key);
    if (!t) throw new Error(`No pulled table ${key} in this workbook`);
    const r = await this.refreshOne(t, tables, progress);
    await this.afterRefresh();
    return r;
  }

  private async refreshOne(
    t: RegisteredTable,
    tables: RegisteredTable[],
    progress?: Progress,
    extra?: { tableIndex?: number; tables?: number },
  ): Promise<RefreshResult> {
    const label = DATASETS.find((d) => d.id === t.dataset)?.label ?? t.dataset;
    const key = tableKey(t);
    let result: RefreshResult;
    let next: RegisteredTable[];
    try {
      if (t.dataset === 'allocations') {
        const snap = await this.deps.port.readTable(key);
        if (snap) {
          const diff = diffAllocations(snap, decodeBaseline(await this.deps.port.readStore(BASELINE_SHEET)).get(key));
          const unsent = diff.changes.length + diff.cellIssues.length;
          if (unsent) {
            return {
              id: key,
              table: t.table,
              dataset: label,
              status: 'skipped',
              message: `not refreshed: ${unsent} unsent edit${unsent === 1 ? '' : 's'}; submit ${unsent === 1 ? 'it' : 'them'} first`,
            };
          }
        }
      }
      const { rows, stamp, stats } = await this.pullInto(t, progress, extra);
      this.lastStats = stats;
      next = upsertTable(
        tables,
        {
          ...t,
          id: stats.tableId,
          table: stats.table,
          sheet: stats.sheet,
          sheetId: stats.sheetId,
          stamp,
          status: 'ok',
          message: '',
        },
        key,
      );
      result = {
        id: stats.tableId,
        table: stats.table,
        dataset: label,
        status: 'refreshed',
        message: `${rows.length.toLocaleString('en-GB')} rows`,
        rows: rows.length,
      };
    } catch (e) {
      if (e instanceof CancelledError)
        return { id: key, table: t.table, dataset: label, status: 'cancelled', message: e.message };
      const reason = (e as Error).message;
      result = { id: key, table: t.table, dataset: label, status: 'failed', message: reason };
      next = upsertTable(tables, { ...t, status: 'failed', message: reason }, key);
      try {
        await this.deps.port.setStamp(
          key,
          failedStampText(
            t.stamp,
            this.now()
              .toISOString()
              .replace(/\.\d+Z$/, 'Z'),
            reason,
          ),
          true,
        );
      } catch {
        // The table itself may be gone; the pane still lists the failure.
      }
      if (e instanceof HubRequestError && e.kind === 'UNAUTHENTICATED') {
        await this.saveTables(next);
        throw e;
      }
    }
    await this.saveTables(next);
    return result;
  }

  /**
   * Refresh all: every registered table, each with its own result. A failure marks that table and keeps
   * its old stamp; an allocations table with unsent edits is skipped rather than overwritten.
   */
  async refreshAll(progress?: Progress): Promise<RefreshResult[]> {
    const results: RefreshResult[] = [];
    const list = await this.listTables();
    for (let i = 0; i < list.length; i++) {
      if (progress?.signal?.cancelled) {
        results.push({
          id: tableKey(list[i]),
          table: list[i].table,
          dataset: list[i].dataset,
          status: 'cancelled',
          message: 'not refreshed: cancelled',
        });
        continue;
      }
      progress?.onProgress?.({ table: list[i].table, tableIndex: i + 1, tables: list.length, received: 0 });
      const current = await this.listTables();
      const t = current.find((x) => tableKey(x) === tableKey(list[i])) ?? list[i];
      results.push(await this.refreshOne(t, current, progress, { tableIndex: i + 1, tables: list.length }));
    }
    await this.afterRefresh();
    return results;
  }

  private async afterRefresh(): Promise<void> {
    await this.recalcFunctions(() => true);
  }

  /**
   * Recalculates the =HNH cells whose answers a predicate picks, and only those: the functions tell the
   * batcher which cell asked for what (requiresAddress). When no cell is known yet (the functions have
   * not run in this session), the workbook is recalculated in full, the only other way to re-run them.
   */
  async recalcFunctions(pick: (u: Unit) => boolean): Promise<void> {
    const b = session().batcher;
    if (!b) {
      this.lastRecalc = [];
      return;
    }
    const cells = b.invalidate(pick);
    if (!cells.length && b.addresses().length) {
      this.lastRecalc = [];
      return;
    }
    this.lastRecalc = cells.length ? cells : 'all';
    await this.deps.port.recalculate(cells);
  }

  private async submit(
    changes: Change[],
    p: { key: string; decisionReference: string; reason: string; dryRun: boolean },
  ): Promise<SubmitPayload> {
    const data = await this.client().request<{ submitAllocations: SubmitPayload }>(OPERATIONS.SubmitAllocations, {
      input: {
        idempotencyKey: p.key,
        decisionReference: p.decisionReference,
        reason: p.reason,
        dryRun: p.dryRun,
        rows: changes.map((c) => c.input),
      },
    });
    return data.submitAllocations;
  }

  private async resolveKey(table: string): Promise<string> {
    const tables = await this.listTables();
    const t =
      tables.find((x) => tableKey(x) === table) ?? tables.find((x) => x.table.toLowerCase() === table.toLowerCase());
    return t ? tableKey(t) : table;
  }

  private async snapshot(key: string): Promise<{ snap: TableSnapshot | null; diff: DiffResult }> {
    let snap = await this.deps.port.readTable(key);
    if (!snap)
      return {
        snap,
        diff: {
          tableErrors: [
            `The allocations table is not in this workbook any more (deleted?); nothing was sent. Pull allocations again.`,
          ],
          cellIssues: [],
          changes: [],
          unchanged: 0,
          removed: [],
        },
      };
    if (snap.below?.length) {
      // Rows typed just under the table are new allocations: take them into the table, or say how.
      if (await this.deps.port.adoptRowsBelow(key, snap.below.length)) snap = (await this.deps.port.readTable(key))!;
      else {
        const first = sheetRow(snap.headerRow, snap.rows.length);
        return {
          snap,
          diff: {
            tableErrors: [
              `Rows ${first} to ${first + snap.below.length - 1} are under the table "${snap.name}" but not in it: drag the table's corner down over them (or type them inside the table), then preview again; nothing was sent.`,
            ],
            cellIssues: [],
            changes: [],
            unchanged: 0,
            removed: [],
          },
        };
      }
    }
    return {
      snap,
      diff: diffAllocations(snap, decodeBaseline(await this.deps.port.readStore(BASELINE_SHEET)).get(key)),
    };
  }

  /** The school's name for a row: its School cell, else (a row typed with only a URN) the name the hub gave. */
  private schoolOf(snap: TableSnapshot, row: number, names: Map<number, string>): { urn: unknown; name: string } {
    const col = (h: string) => snap.header.indexOf(h);
    const r = snap.rows[row] ?? [];
    const urn = col('School URN') >= 0 ? r[col('School URN')] : '';
    const typed = col('School') >= 0 ? String(r[col('School')] ?? '').trim() : '';
    return { urn, name: typed || (typeof urn === 'number' ? (names.get(urn) ?? '') : '') };
  }

  private describeRow(snap: TableSnapshot, row: number, names: Map<number, string> = new Map()): string {
    const { urn, name } = this.schoolOf(snap, row, names);
    const known = urn !== '' && urn !== null && urn !== undefined;
    return `Row ${sheetRow(snap.headerRow, row)}${name && known ? ` (${name}, URN ${urn})` : name ? ` (${name})` : known ? ` (URN ${urn})` : ''}`;
  }

  /**
   * Names of the schools in rows typed with a URN and no name (new allocations), from the hub, so messages
   * name the school. A nicety: when the lookup fails, messages fall back to the URN.
   */
  private async typedSchoolNames(snap: TableSnapshot, rows: number[]): Promise<Map<number, string>> {
    const names = new Map<number, string>();
    const urns = [
      ...new Set(
        rows
          .map((row) => this.schoolOf(snap, row, names))
          .filter((s) => !s.name && typeof s.urn === 'number' && Number.isInteger(s.urn) && s.urn > 0)
          .map((s) => s.urn as number),
      ),
    ];
    try {
      for (let k = 0; k < urns.length; k += 1000) {
        const page = await this.client().request<{ schoolsByUrn: ({ urn: number; name: string } | null)[] }>(
          OPERATIONS.FnSchools,
          { urns: urns.slice(k, k + 1000) },
        );
        for (const s of page.schoolsByUrn ?? []) if (s) names.set(s.urn, s.name);
      }
    } catch {
      // Not connected, or the hub is down: the messages give the URN instead.
    }
    return names;
  }

  /** Every column a mark can land on, cleared before new marks so old ones never linger. */
  private static MARKED = ['Id', 'School URN', 'Community', 'Term', 'Amount', 'Status', 'Purpose', 'Version'];

  private async showOutcomes(key: string, snap: TableSnapshot, outcomes: RowOutcome[]): Promise<void> {
    const result = Array<string>(snap.rows.length).fill('');
    const marks: { row: number; column: string; fill: string }[] = [];
    for (const o of outcomes) {
      result[o.row] = o.message;
      if (o.result === 'REJECTED') {
        for (const c of o.cells)
          marks.push({ row: o.row, column: c.column, fill: o.forbidden ? FORBIDDEN_FILL : REJECTED_FILL });
      } else if (o.result !== 'UNCHANGED') {
        marks.push({ row: o.row, column: 'Amount', fill: OK_FILL });
      }
    }
    await this.deps.port.markRows(key, {
      clearColumns: AddinActions.MARKED,
      marks,
      result: { header: RESULT_HEADER, values: result },
    });
  }

  /**
   * Where a pot would be overspent: the table's proposals and approvals for a community and term (after the
   * changes) against its pot. The hub refuses only approvals above a pot; a proposal above it is warned here.
   */
  private overspend(snap: TableSnapshot, changes: Change[], payload: SubmitPayload): string[] {
    const col = (h: string) => snap.header.indexOf(h);
    const changed = new Map(changes.map((c) => [c.row, c.input]));
    const sums = new Map<string, bigint>();
    snap.rows.forEach((r, i) => {
      const c = changed.get(i);
      const status = c ? c.status : String(r[col('Status')] ?? '').toUpperCase();
      if (status !== 'PROPOSED' && status !== 'APPROVED') return;
      const amount = c
        ? pence(c.amount)
        : typeof r[col('Amount')] === 'number'
          ? BigInt(Math.round((r[col('Amount')] as number) * 100))
          : null;
      if (amount === null) return;
      const k = `${c?.communityCode ?? String(r[col('Community')] ?? '').trim()}|${c?.term ?? String(r[col('Term')] ?? '').trim()}`;
      sums.set(k, (sums.get(k) ?? 0n) + amount);
    });
    const out: string[] = [];
    for (const t of payload.totals) {
      const pot = pence(t.pot);
      const sum = sums.get(`${t.communityCode}|${t.term}`);
      if (pot === null || sum === undefined || sum <= pot) continue;
      out.push(
        `${t.communityCode} ${t.term}: proposals and approvals in this table come to ${pounds(sum)}, above its pot of ${pounds(pot)} (over by ${pounds(sum - pot)}).`,
      );
    }
    return out;
  }

  /** Diff, validate, then a dry run. Cell problems are flagged on their cells and nothing is sent. */
  async preview(table: string, decisionReference: string, reason: string): Promise<PreviewOutcome> {
    if (!decisionReference.trim() || !reason.trim())
      throw new Error('Enter the decision reference and the reason before previewing');
    const key = await this.resolveKey(table);
    const { snap, diff } = await this.snapshot(key);
    if (diff.tableErrors.length || !snap)
      return { kind: 'blocked', tableErrors: diff.tableErrors, cellIssues: [], issues: [] };
    if (diff.cellIssues.length) {
      const result = Array<string>(snap.rows.length).fill('');
      for (const i of diff.cellIssues)
        result[i.row] = result[i.row] ? `${result[i.row]}; ${i.column}: ${i.message}` : `${i.column}: ${i.message}`;
      await this.deps.port.markRows(key, {
        clearColumns: AddinActions.MARKED,
        marks: diff.cellIssues.map((i) => ({ row: i.row, column: i.column, fill: REJECTED_FILL })),
        result: { header: RESULT_HEADER, values: result },
      });
      const names = await this.typedSchoolNames(
        snap,
        diff.cellIssues.map((i) => i.row),
      );
      const issues = diff.cellIssues.map((i) => ({
        row: i.row,
        sheetRow: sheetRow(snap.headerRow, i.row),
        column: i.column,
        message: `${this.describeRow(snap, i.row, names)}, ${i.column}: ${i.message}`,
      }));
      return { kind: 'blocked', tableErrors: [], cellIssues: diff.cellIssues, issues };
    }
    if (!diff.changes.length)
      return {
        kind: 'nothing',
        message: `No changes in "${snap.name}" since it was pulled (${diff.unchanged} rows unchanged)`,
      };
    const fp = fingerprint(key, diff.changes, decisionReference.trim(), reason.trim());
    // The key belongs to this exact set of changes and decision: a retry reuses it, an edit gets a new one.
    const idem = this.pending?.fingerprint === fp ? this.pending.key : this.uuid();
    const payload = await this.submit(diff.changes, {
      key: this.uuid(),
      decisionReference: decisionReference.trim(),
      reason: reason.trim(),
      dryRun: true,
    });
    this.pending = {
      table: key,
      changes: diff.changes,
      fingerprint: fp,
      key: idem,
      decisionReference: decisionReference.trim(),
      reason: reason.trim(),
    };
    const preview = buildPreview(diff.changes, payload);
    const outcomes = interpretResults(diff.changes, payload);
    const names = await this.typedSchoolNames(
      snap,
      preview.rows.map((r) => r.row),
    );
    for (const r of preview.rows) {
      r.sheetRow = sheetRow(snap.headerRow, r.row);
      r.schoolName = this.schoolOf(snap, r.row, names).name;
    }
    // Conflicts are offered already at preview: no need to fail a real submit to find them.
    this.conflicts = outcomes
      .filter((o) => o.conflict)
      .map((o) => ({
        ...o.conflict!,
        sheetRow: sheetRow(snap.headerRow, o.row),
        schoolName: this.describeRow(snap, o.row, names),
      }));
    await this.showOutcomes(key, snap, outcomes);
    return {
      kind: 'preview',
      preview,
      changes: diff.changes.length,
      removed: diff.removed.length,
      warnings: this.overspend(snap, diff.changes, payload),
      creates: diff.changes.filter((c) => !c.id).length,
    };
  }

  get idempotencyKey(): string | undefined {
    return this.pending?.key;
  }

  /** The real submit. A timeout keeps the pending key, so pressing Confirm again can never apply twice. */
  async confirm(): Promise<SubmitOutcome> {
    const p = this.pending;
    if (!p) throw new Error('Preview first: the submit sends exactly what the preview showed');
    const { snap, diff } = await this.snapshot(p.table);
    if (!snap || fingerprint(p.table, diff.changes, p.decisionReference, p.reason) !== p.fingerprint) {
      this.pending = null;
      throw new Error('The table changed since the preview: preview again');
    }
    const payload = await this.submit(p.changes, {
      key: p.key,
      decisionReference: p.decisionReference,
      reason: p.reason,
      dryRun: false,
    });
    const outcomes = interpretResults(p.changes, payload);
    await this.showOutcomes(p.table, snap, outcomes);
    const conflicted = outcomes.filter((o) => o.conflict);
    const names = await this.typedSchoolNames(
      snap,
      conflicted.map((o) => o.row),
    );
    this.conflicts = conflicted.map((o) => ({
      ...o.conflict!,
      sheetRow: sheetRow(snap.headerRow, o.row),
      schoolName: this.describeRow(snap, o.row, names),
    }));
    if (payload.applied) {
      const store = decodeBaseline(await this.deps.port.readStore(BASELINE_SHEET));
      const { baseline, sheet } = advanceBaseline(store.get(p.table) ?? new Map(), p.changes, payload);
      store.set(p.table, baseline);
      await this.deps.port.writeCells(
        p.table,
        sheet.flatMap((s) => Object.entries(s.cells).map(([column, value]) => ({ row: s.row, column, value }))),
      );
      await this.deps.port.writeStore(BASELINE_SHEET, encodeBaseline(store));
      this.pending = null;
      // What this workbook just changed: the pots of those communities and terms. Only their cells recalculate.
      const touched = new Set(p.changes.map((c) => `${c.input.communityCode}|${c.input.term}`));
      await this.recalcFunctions((u) => u.type === 'pot' && touched.has(`${u.community}|${u.term}`));
    }
    return {
      applied: payload.applied,
      outcomes,
      conflicts: this.conflicts,
      errors: (payload.userErrors ?? []).map((e) => `${e.code}: ${e.message}`),
    };
  }

  /** Keep mine / take theirs for one STALE_VERSION row; the next preview then sends the chosen value. */
  async resolve(conflict: Conflict, choice: 'mine' | 'theirs'): Promise<void> {
    const table =
      this.pending?.table ??
      tableKey((await this.listTables()).find((t) => t.dataset === 'allocations') ?? { id: '', table: '' });
    if (!table || !conflict.id) throw new Error('Only rows pulled from the hub can be resolved');
    const store = decodeBaseline(await this.deps.port.readStore(BASELINE_SHEET));
    const current = store.get(table)?.get(conflict.id);
    if (!current) throw new Error('That allocation is not in the baseline any more: pull the table again');
    const r = resolveConflict(conflict, choice, current);
    store.get(table)!.set(conflict.id, r.baseline);
    await this.deps.port.writeStore(BASELINE_SHEET, encodeBaseline(store));
    await this.deps.port.writeCells(table, [
      ...Object.entries(r.sheet).map(([column, value]) => ({ row: conflict.row, column, value })),
      {
        row: conflict.row,
        column: RESULT_HEADER,
        value: choice === 'mine' ? 'kept mine: preview again to send' : 'took theirs',
      },
    ]);
    this.conflicts = this.conflicts.filter((c) => c !== conflict);
    this.pending = null;
  }

  /**
   * Prepare to share: a copy without the baseline and the add-in's other hidden sheets, with caseload
   * counts from 1 to 4 as "c". Returns what was removed, in words.
   */
  async prepareToShare(): Promise<{ removed: string[]; suppressed: number }> {
    const counts: import('../core/share').SharePlan['counts'] = [];
    for (const t of await this.listTables()) {
      if (t.dataset !== 'caseloads') continue;
      const snap = await this.deps.port.readTable(tableKey(t));
      if (!snap || snap.headerRow === undefined || !snap.sheet) continue;
      const j = snap.header.indexOf('Count');
      if (j < 0 || !snap.rows.length) continue;
      const first = sheetRow(snap.headerRow, 0);
      counts.push({
        sheet: snap.sheet,
        column: columnName((snap.headerCol ?? 0) + j),
        firstRow: first,
        lastRow: first + snap.rows.length - 1,
        table: snap.name,
      });
    }
    const r = await this.deps.port.shareCopy({ emptySheets: [BASELINE_SHEET, REGISTRY_SHEET, SETTINGS_SHEET], counts });
    return { removed: r.removed, suppressed: r.suppressed };
  }

  /** One chart per purpose: the first click makes it, later clicks update it in place. */
  private async chart(purpose: string, req: Omit<ChartRequestLike, 'sheetId' | 'chartName'>): Promise<string> {
    const key = `chart.${purpose}`;
    const sheetId = (await this.settings()).get(key) || undefined;
    const placed = await this.deps.port.addChart({ ...req, sheetId, chartName: `HNH_${purpose}` });
    if (placed.sheetId !== sheetId) await this.saveSetting(key, placed.sheetId);
    return `${placed.updated ? 'Updated the chart' : 'Added a chart'} on "${placed.sheet}"`;
  }

  /**
   * A scenario's deficit trajectory beside the Safety Valve plan and the figures of record: cumulative DSG
   * position at each 31 March to the end of the agreement. One chart for this purpose: charting another
   * scenario updates it (its title names the scenario) rather than adding a second.
   */
  async chartScenarioTrajectory(scenarioId: string): Promise<string> {
    if (!scenarioId) throw new Error('Choose a scenario first');
    const data = await this.client().request<any>(OPERATIONS.ScenarioBlock, { id: scenarioId });
    if (!data.scenario) throw new Error(`No scenario ${scenarioId}, or you have no access to it`);
    const points: any[] = data.scenario.results?.trajectory ?? [];
    if (!points.length) throw new Error('The hub has no trajectory for this scenario');
    // A year with no plan (or no record) is a gap in its line, never a 0 that reads as "balanced".
    const num = (x: string | null | undefined) => (x === null || x === undefined ? '' : Number(x));
    return this.chart('scenario_trajectory', {
      sheetName: 'Scenario trajectory chart',
      title: `Cumulative DSG position: "${data.scenario.name}" beside the plan and the record`,
      type: 'Line',
      header: ['At', 'Safety Valve plan', 'Record', `Scenario: ${data.scenario.name}`],
      rows: points.map((p) => [p.label, num(p.plan), num(p.record), num(p.scenario)]),
      numberFormat: MONEY_FORMAT,
    });
  }

  async chartSafetyValve(): Promise<string> {
    const data = await this.client().request<any>(OPERATIONS.SafetyValve, {});
    const rows = (data.safetyValve?.reports ?? []).map((r: any) => [
      r.periodCode,
      Number(r.cumulativePlan),
      Number(r.cumulativeForecast),
    ]);
    if (!rows.length) throw new Error('The hub has no Safety Valve reports to chart');
    return this.chart('safety_valve', {
      sheetName: 'Safety Valve chart',
      title: 'Safety Valve: cumulative DSG deficit, plan against forecast',
      type: 'Line',
      header: ['Period', 'Plan', 'Forecast'],
      rows,
      numberFormat: MONEY_FORMAT,
    });
  }

  async chartPots(term: string, districtCode?: string): Promise<string> {
    if (!term) throw new Error('Choose a term for the pots chart');
    const data = await this.client().request<any>(OPERATIONS.CommunityPots, {
      term,
      districtCode: districtCode || null,
    });
    const rows = data.communities
      .filter((c: any) => c.pot)
      .map((c: any) => [c.code, Number(c.pot.amount), Number(c.pot.approved), Number(c.pot.proposed)]);
    if (!rows.length) throw new Error(`No pots for ${term}`);
    return this.chart('pots', {
      sheetName: 'Pots chart',
      title: `Community pots against allocations, ${term}`,
      type: 'ColumnClustered',
      header: ['Community', 'Pot', 'Approved', 'Proposed'],
      rows,
      numberFormat: MONEY_FORMAT,
    });
  }
}

type ChartRequestLike = import('../core/ports').ChartRequest;

function columnName(index: number): string {
  let s = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}
const MONEY_FORMAT = NUMBER_FORMATS.money;
