/**
 * What the task pane's buttons do. Plain TypeScript over two ports (the hub client and the workbook), so
 * the browser test and the unit tests drive exactly this code; taskpane.ts only wires it to the DOM.
 */
import {
  advanceBaseline, buildPreview, diffAllocations, fingerprint, interpretResults, resolveConflict,
  RESULT_HEADER, type Change, type Conflict, type DiffResult, type Preview, type RowOutcome, type SubmitPayload,
} from '../core/allocations';
import { DATASETS, datasetById, missingFilters, toExcelRows, type DatasetParams } from '../core/datasets';
import { HubClient, HubError, type HubClientOptions } from '../core/graphql';
import { OPERATIONS } from '../core/operations.generated';
import type { SignInPort, WorkbookPort, WriteStats } from '../core/ports';
import { expiresSoon, fetchAuthConfig, SSO_MESSAGES, SsoError, toSsoError, type AuthConfig } from '../core/sso';
import { failedStampText, stampText, type Stamp } from '../core/stamp';
import {
  BASELINE_SHEET, decodeBaseline, decodeRegistry, encodeBaseline, encodeRegistry, REGISTRY_SHEET, upsertTable,
  type BaselineRow, type RegisteredTable,
} from '../core/store';
import type { CellValue, Me } from '../core/types';
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
  table: string;
  sheet: string;
  rows: number;
  stats: WriteStats;
}

export interface RefreshResult {
  table: string;
  dataset: string;
  status: 'refreshed' | 'failed' | 'skipped';
  message: string;
  rows?: number;
}

export type PreviewOutcome =
  | { kind: 'blocked'; tableErrors: string[]; cellIssues: DiffResult['cellIssues'] }
  | { kind: 'nothing'; message: string }
  | { kind: 'preview'; preview: Preview; changes: number; removed: number };

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

  constructor(private readonly deps: Deps) {
    this.now = deps.now ?? (() => new Date());
    this.uuid = deps.uuid ?? defaultUuid;
  }

  get me(): Me | undefined {
    return session().me;
  }

  private client(): HubClient {
    const c = session().client;
    if (!c) throw new HubError('UNAUTHENTICATED', 'Not connected: enter the hub address and your token');
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
            throw new HubError('UNAUTHENTICATED', `Your Microsoft sign-in has expired and could not be renewed: ${(e as Error).message}`, 'UNAUTHENTICATED');
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

  private async establish(url: string, token: string, via: 'token' | 'microsoft', opts: Omit<HubClientOptions, 'url' | 'fetchImpl'> & { timeoutMs: number }): Promise<Me> {
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

  private stamp(dataset: string, params: DatasetParams): Stamp {
    const me = this.me;
    return {
      source: this.client().endpoint,
      dataset,
      filters: params,
      asAt: this.now().toISOString().replace(/\.\d+Z$/, 'Z'),
      by: me?.name ?? 'unknown',
      role: me?.role ?? '?',
    };
  }

  private async pullInto(reg: { table: string; sheet: string; dataset: string; params: DatasetParams }, onPage?: (n: number) => void) {
    const def = datasetById(reg.dataset);
    const rows = await def.fetch(this.client(), reg.params, onPage);
    const stamp = this.stamp(def.label, reg.params);
    const stats = await this.deps.port.writeTable({
      sheet: reg.sheet, table: reg.table, stamp: stampText(stamp), columns: def.columns,
      rows: toExcelRows(def.columns, rows), styleReadOnly: def.id === 'allocations',
    });
    if (def.id === 'allocations') await this.storeBaseline(reg.table, rows);
    return { rows, stamp, stats };
  }

  private async storeBaseline(table: string, rows: CellValue[][]): Promise<void> {
    const store = decodeBaseline(await this.deps.port.readStore(BASELINE_SHEET));
    const m = new Map<string, BaselineRow>();
    for (const r of rows) {
      const [id, schoolUrn, , communityCode, term, amount, status, purpose, version] = r;
      m.set(String(id), {
        id: String(id), version: Number(version), schoolUrn: Number(schoolUrn), communityCode: String(communityCode),
        term: String(term), amount: String(amount), status: String(status), purpose: purpose == null ? '' : String(purpose),
      });
    }
    store.set(table, m);
    await this.deps.port.writeStore(BASELINE_SHEET, encodeBaseline(store));
  }

  /** "Insert": a new table (or the same table again when the dataset and filters match one already here). */
  async insert(datasetId: string, params: DatasetParams, onPage?: (n: number) => void): Promise<InsertResult> {
    const def = datasetById(datasetId);
    const clean = Object.fromEntries(Object.entries(params).filter(([k, v]) => v && def.filters.includes(k as never))) as DatasetParams;
    const missing = missingFilters(def, clean);
    if (missing.length) throw new Error(`${def.label} needs: ${missing.join(', ')}`);
    const tables = await this.listTables();
    const same = tables.find((t) => t.dataset === def.id && JSON.stringify(t.params) === JSON.stringify(clean));
    let table = same?.table;
    let sheet = same?.sheet;
    if (!table || !sheet) {
      const base = `HNH_${def.id}`;
      let n = 1;
      while (tables.some((t) => t.table === (n === 1 ? base : `${base}_${n}`))) n++;
      table = n === 1 ? base : `${base}_${n}`;
      sheet = (n === 1 ? def.label : `${def.label} ${n}`).slice(0, 31);
    }
    const { rows, stamp, stats } = await this.pullInto({ table, sheet, dataset: def.id, params: clean }, onPage);
    const reg: RegisteredTable = { table, sheet, dataset: def.id, params: clean, stamp, status: 'ok', message: '' };
    await this.deps.port.writeStore(REGISTRY_SHEET, encodeRegistry(upsertTable(tables, reg)));
    return { table, sheet, rows: rows.length, stats };
  }

  /**
   * Refresh all: every registered table, each with its own result. A failure marks that table and keeps
   * its old stamp; an allocations table with unsent edits is skipped rather than overwritten.
   */
  async refreshAll(): Promise<RefreshResult[]> {
    let tables = await this.listTables();
    const results: RefreshResult[] = [];
    for (const t of tables) {
      const label = DATASETS.find((d) => d.id === t.dataset)?.label ?? t.dataset;
      try {
        if (t.dataset === 'allocations') {
          const snap = await this.deps.port.readTable(t.table);
          if (snap) {
            const diff = diffAllocations(snap, decodeBaseline(await this.deps.port.readStore(BASELINE_SHEET)).get(t.table));
            if (diff.changes.length || diff.cellIssues.length) {
              results.push({ table: t.table, dataset: label, status: 'skipped', message: `not refreshed: ${diff.changes.length + diff.cellIssues.length} unsent edit(s); submit them first` });
              continue;
            }
          }
        }
        const { rows, stamp } = await this.pullInto(t);
        tables = upsertTable(tables, { ...t, stamp, status: 'ok', message: '' });
        results.push({ table: t.table, dataset: label, status: 'refreshed', message: `${rows.length} rows`, rows: rows.length });
      } catch (e) {
        const reason = (e as Error).message;
        results.push({ table: t.table, dataset: label, status: 'failed', message: reason });
        tables = upsertTable(tables, { ...t, status: 'failed', message: reason });
        try {
          await this.deps.port.setStamp(t.sheet, failedStampText(t.stamp, this.now().toISOString().replace(/\.\d+Z$/, 'Z'), reason), true);
        } catch {
          // The sheet itself may be gone; the pane still lists the failure.
        }
        if (e instanceof HubError && e.kind === 'UNAUTHENTICATED') {
          await this.deps.port.writeStore(REGISTRY_SHEET, encodeRegistry(tables));
          throw e;
        }
      }
    }
    await this.deps.port.writeStore(REGISTRY_SHEET, encodeRegistry(tables));
    session().batcher?.clear();
    await this.deps.port.recalculate();
    return results;
  }

  private async submit(changes: Change[], p: { key: string; decisionReference: string; reason: string; dryRun: boolean }): Promise<SubmitPayload> {
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

  private async diffTable(table: string): Promise<DiffResult> {
    const snap = await this.deps.port.readTable(table);
    if (!snap) return { tableErrors: [`Table "${table}" is not in this workbook (renamed or deleted?); nothing was sent.`], cellIssues: [], changes: [], unchanged: 0, removed: [] };
    return diffAllocations(snap, decodeBaseline(await this.deps.port.readStore(BASELINE_SHEET)).get(table));
  }

  private async showOutcomes(table: string, rowsInTable: number, outcomes: RowOutcome[], clearRows: number[]): Promise<void> {
    const result = Array<string>(rowsInTable).fill('');
    const marks = clearRows.flatMap((row) => ['Amount', 'Status'].map((column) => ({ row, column, fill: null })));
    for (const o of outcomes) {
      result[o.row] = o.message;
      if (o.result === 'REJECTED') {
        for (const c of o.cells) marks.push({ row: o.row, column: c.column, fill: (o.forbidden ? FORBIDDEN_FILL : REJECTED_FILL) as never });
      } else if (o.result !== 'UNCHANGED') {
        marks.push({ row: o.row, column: 'Amount', fill: OK_FILL as never });
      }
    }
    await this.deps.port.markRows(table, marks, { header: RESULT_HEADER, values: result });
  }

  /** Diff, validate, then a dry run. Cell problems are flagged on their cells and nothing is sent. */
  async preview(table: string, decisionReference: string, reason: string): Promise<PreviewOutcome> {
    if (!decisionReference.trim() || !reason.trim()) throw new Error('Enter the decision reference and the reason before previewing');
    const diff = await this.diffTable(table);
    const snapRows = (await this.deps.port.readTable(table))?.rows.length ?? 0;
    const allRows = [...Array(snapRows).keys()];
    if (diff.tableErrors.length) return { kind: 'blocked', tableErrors: diff.tableErrors, cellIssues: [] };
    if (diff.cellIssues.length) {
      const result = Array<string>(snapRows).fill('');
      for (const i of diff.cellIssues) result[i.row] = result[i.row] ? `${result[i.row]}; ${i.column}: ${i.message}` : `${i.column}: ${i.message}`;
      const marks = [
        ...allRows.flatMap((row) => ['Amount', 'Status'].map((column) => ({ row, column, fill: null as string | null }))),
        ...diff.cellIssues.map((i) => ({ row: i.row, column: i.column, fill: REJECTED_FILL as string | null })),
      ];
      await this.deps.port.markRows(table, marks, { header: RESULT_HEADER, values: result });
      return { kind: 'blocked', tableErrors: [], cellIssues: diff.cellIssues };
    }
    if (!diff.changes.length) return { kind: 'nothing', message: `No changes in "${table}" since it was pulled (${diff.unchanged} rows unchanged)` };
    const fp = fingerprint(table, diff.changes, decisionReference.trim(), reason.trim());
    // The key belongs to this exact set of changes and decision: a retry reuses it, an edit gets a new one.
    const key = this.pending?.fingerprint === fp ? this.pending.key : this.uuid();
    const payload = await this.submit(diff.changes, { key: this.uuid(), decisionReference: decisionReference.trim(), reason: reason.trim(), dryRun: true });
    this.pending = { table, changes: diff.changes, fingerprint: fp, key, decisionReference: decisionReference.trim(), reason: reason.trim() };
    const preview = buildPreview(diff.changes, payload);
    const outcomes = interpretResults(diff.changes, payload);
    // Conflicts are offered already at preview: no need to fail a real submit to find them.
    this.conflicts = outcomes.filter((o) => o.conflict).map((o) => o.conflict!);
    await this.showOutcomes(table, snapRows, outcomes, allRows);
    return { kind: 'preview', preview, changes: diff.changes.length, removed: diff.removed.length };
  }

  get idempotencyKey(): string | undefined {
    return this.pending?.key;
  }

  /** The real submit. A timeout keeps the pending key, so pressing Confirm again can never apply twice. */
  async confirm(): Promise<SubmitOutcome> {
    const p = this.pending;
    if (!p) throw new Error('Preview first: the submit sends exactly what the preview showed');
    const diff = await this.diffTable(p.table);
    if (fingerprint(p.table, diff.changes, p.decisionReference, p.reason) !== p.fingerprint) {
      this.pending = null;
      throw new Error('The table changed since the preview: preview again');
    }
    const payload = await this.submit(p.changes, { key: p.key, decisionReference: p.decisionReference, reason: p.reason, dryRun: false });
    const outcomes = interpretResults(p.changes, payload);
    const snapRows = (await this.deps.port.readTable(p.table))?.rows.length ?? 0;
    await this.showOutcomes(p.table, snapRows, outcomes, [...Array(snapRows).keys()]);
    this.conflicts = outcomes.filter((o) => o.conflict).map((o) => o.conflict!);
    if (payload.applied) {
      const store = decodeBaseline(await this.deps.port.readStore(BASELINE_SHEET));
      const { baseline, sheet } = advanceBaseline(store.get(p.table) ?? new Map(), p.changes, payload);
      store.set(p.table, baseline);
      await this.deps.port.writeCells(p.table, sheet.flatMap((s) => Object.entries(s.cells).map(([column, value]) => ({ row: s.row, column, value }))));
      await this.deps.port.writeStore(BASELINE_SHEET, encodeBaseline(store));
      this.pending = null;
      session().batcher?.clear();
    }
    return { applied: payload.applied, outcomes, conflicts: this.conflicts, errors: (payload.userErrors ?? []).map((e) => `${e.code}: ${e.message}`) };
  }

  /** Keep mine / take theirs for one STALE_VERSION row; the next preview then sends the chosen value. */
  async resolve(conflict: Conflict, choice: 'mine' | 'theirs'): Promise<void> {
    const table = this.pending?.table ?? (await this.listTables()).find((t) => t.dataset === 'allocations')?.table;
    if (!table || !conflict.id) throw new Error('Only rows pulled from the hub can be resolved');
    const store = decodeBaseline(await this.deps.port.readStore(BASELINE_SHEET));
    const current = store.get(table)?.get(conflict.id);
    if (!current) throw new Error(`Allocation ${conflict.id} is not in the baseline: pull the table again`);
    const r = resolveConflict(conflict, choice, current);
    store.get(table)!.set(conflict.id, r.baseline);
    await this.deps.port.writeStore(BASELINE_SHEET, encodeBaseline(store));
    await this.deps.port.writeCells(table, Object.entries(r.sheet).map(([column, value]) => ({ row: conflict.row, column, value })));
    await this.deps.port.writeCells(table, [{ row: conflict.row, column: RESULT_HEADER, value: choice === 'mine' ? 'kept mine: preview again to send' : 'took theirs' }]);
    await this.deps.port.markRows(table, ['Amount', 'Status', 'Version'].map((column) => ({ row: conflict.row, column, fill: null })));
    this.conflicts = this.conflicts.filter((c) => c !== conflict);
    this.pending = null;
  }

  async chartSafetyValve(): Promise<void> {
    const data = await this.client().request<any>(OPERATIONS.SafetyValve, {});
    const rows = (data.safetyValve?.reports ?? []).map((r: any) => [r.periodCode, Number(r.cumulativePlan), Number(r.cumulativeForecast)]);
    if (!rows.length) throw new Error('The hub has no Safety Valve reports to chart');
    await this.deps.port.addChart({ sheet: 'Safety Valve chart', title: 'Safety Valve: cumulative DSG deficit, plan against forecast', type: 'Line', header: ['Period', 'Plan', 'Forecast'], rows });
  }

  async chartPots(term: string, districtCode?: string): Promise<void> {
    if (!term) throw new Error('Choose a term for the pots chart');
    const data = await this.client().request<any>(OPERATIONS.CommunityPots, { term, districtCode: districtCode || null });
    const rows = data.communities.filter((c: any) => c.pot).map((c: any) => [c.code, Number(c.pot.amount), Number(c.pot.approved), Number(c.pot.proposed)]);
    if (!rows.length) throw new Error(`No pots for ${term}`);
    await this.deps.port.addChart({ sheet: 'Pots chart', title: `Community pots against allocations, ${term}`, type: 'ColumnClustered', header: ['Community', 'Pot', 'Approved', 'Proposed'], rows });
  }
}
