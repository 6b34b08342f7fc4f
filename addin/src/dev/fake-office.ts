/**
 * A strict fake Office/Excel host: the subset of Office.js the add-in uses, over an in-memory workbook. The
 * browser test serves it in place of office.js; the unit tests and the bench install it in Node.
 *
 * It is strict where Excel is, so that tests catch what Excel would refuse:
 * - Proxies queue their work and nothing happens until `context.sync()`, which runs the queue in order and
 *   rejects with Excel's error code at the first action that fails (earlier actions stay applied).
 * - A property can be read only after `load` and a `sync`; before that reading throws PropertyNotLoaded.
 * - Each sync's request is counted as Office.js serializes it (an object path per object made, an action per
 *   method call or property set, each with its JSON arguments) and refused above 5 MB, as Excel on the web
 *   does; responses likewise.
 * - Sheet names follow Excel's rules (1-31 characters, none of : \ / ? * [ ], no leading or trailing
 *   apostrophe, unique ignoring case); table names are unique ignoring case; tables cannot overlap.
 * - Structured references follow the table: a renamed table's formulas are renamed, a deleted table's
 *   formulas become #REF!, as in Excel.
 */
type V = string | number | boolean | null;

interface Cell {
  value: V;
  formula?: string;
  fill?: string;
  font?: string;
  bold?: boolean;
  format?: string;
}

export interface SyncRecord {
  /** Cells whose values were written in this sync. */
  cells: number;
  /** The request as Office.js would serialize it, in bytes. */
  bytes: number;
  /** Property sets of format.fill/font in this sync (a per-cell loop shows up here). */
  formatWrites: number;
  calcSuspended: boolean;
  screenSuspended: boolean;
  /** suspendScreenUpdatingUntilNextSync calls in this sync's batch. */
  screenSuspendCalls: number;
}

/** Excel on the web's request (and response) payload limit. */
export const PAYLOAD_LIMIT = 5 * 1024 * 1024;
/** What Office.js sends per object path and per action, beside the arguments' JSON. */
export const PATH_BYTES = 100;
export const ACTION_BYTES = 70;

const MAX_ROWS = 1_048_576;
const MAX_COLS = 16_384;

export class OfficeError extends Error {
  constructor(
    public code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RichApi.Error';
  }
}

export function colName(i: number): string {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}
function parseCell(a: string): [number, number] {
  const t = a.trim().replace(/\$/g, '');
  let i = 0;
  let c = 0;
  while (i < t.length && /[A-Za-z]/.test(t[i])) c = c * 26 + (t.toUpperCase().charCodeAt(i++) - 64);
  const r = Number(t.slice(i));
  if (!i || !Number.isInteger(r) || r < 1) throw new OfficeError('InvalidArgument', `The address ${a} is not valid`);
  return [r - 1, c - 1];
}
function parseAddress(address: string): [number, number, number, number] {
  const bang = address.lastIndexOf('!');
  const a = bang >= 0 ? address.slice(bang + 1) : address;
  const [p, q = p] = a.split(':');
  const [r0, c0] = parseCell(p);
  const [r1, c1] = parseCell(q);
  return [Math.min(r0, r1), Math.min(c0, c1), Math.abs(r1 - r0) + 1, Math.abs(c1 - c0) + 1];
}

/** Excel's rules for a worksheet name; the message is Excel's gist. */
export function sheetNameProblem(name: string): string | null {
  if (typeof name !== 'string' || name.length === 0) return 'is empty';
  if (name.length > 31) return 'is longer than 31 characters';
  for (const ch of ':\\/?*[]') if (name.includes(ch)) return `contains ${ch}`;
  if (name.startsWith("'") || name.endsWith("'")) return 'starts or ends with an apostrophe';
  if (name.toLowerCase() === 'history') return 'is reserved';
  return null;
}

let nextId = 1;

export class FakeSheet {
  cells = new Map<string, Cell>();
  visibility = 'Visible';
  tabColor = '';
  charts: FakeChart[] = [];
  readonly id = `{sheet-${nextId++}}`;
  constructor(
    public wb: FakeWorkbook,
    public name: string,
  ) {}
  cell(r: number, c: number, create = false): Cell | undefined {
    const k = `${r},${c}`;
    let x = this.cells.get(k);
    if (!x && create) this.cells.set(k, (x = { value: '' }));
    return x;
  }
  /** The value Excel shows: a formula is evaluated. */
  valueAt(r: number, c: number): V {
    const x = this.cell(r, c);
    if (!x) return '';
    // A custom function's cell shows its last result until Excel calculates it again.
    if (x.formula && isFunctionCall(x.formula)) return x.value;
    return x.formula ? this.wb.evaluate(this, r, x.formula) : x.value;
  }
  extent(): [number, number] {
    let rows = 0,
      cols = 0;
    for (const [k, v] of this.cells) {
      if ((v.value === '' || v.value === null) && !v.formula) continue;
      const [r, c] = k.split(',').map(Number);
      rows = Math.max(rows, r + 1);
      cols = Math.max(cols, c + 1);
    }
    for (const t of this.wb.tables)
      if (t.sheet === this) {
        rows = Math.max(rows, t.r0 + t.rows);
        cols = Math.max(cols, t.c0 + t.cols);
      }
    return [rows, cols];
  }
  /** Values of the used area, for screenshots and assertions. */
  grid(): V[][] {
    const [rows, cols] = this.extent();
    return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => this.valueAt(r, c)));
  }
  /** Moves the cells of columns [c0, c0+cols) at or below row `from` by `by` rows (a table growing or shrinking). */
  shiftRows(from: number, c0: number, cols: number, by: number) {
    const moved: [number, number, Cell][] = [];
    for (const [k, v] of [...this.cells]) {
      const [r, c] = k.split(',').map(Number);
      if (r >= from && c >= c0 && c < c0 + cols) {
        this.cells.delete(k);
        moved.push([r + by, c, v]);
      }
    }
    for (const [r, c, v] of moved) if (r >= 0) this.cells.set(`${r},${c}`, v);
  }
  shiftCols(from: number, r0: number, rows: number, by: number) {
    const moved: [number, number, Cell][] = [];
    for (const [k, v] of [...this.cells]) {
      const [r, c] = k.split(',').map(Number);
      if (c >= from && r >= r0 && r < r0 + rows) {
        this.cells.delete(k);
        moved.push([r, c + by, v]);
      }
    }
    for (const [r, c, v] of moved) this.cells.set(`${r},${c}`, v);
  }
}

export class FakeTable {
  readonly id = `{table-${nextId++}}`;
  constructor(
    public wb: FakeWorkbook,
    public name: string,
    public sheet: FakeSheet,
    public r0: number,
    public c0: number,
    public rows: number,
    public cols: number,
  ) {}
  headers(): string[] {
    return Array.from({ length: this.cols }, (_, j) => String(this.sheet.cell(this.r0, this.c0 + j)?.value ?? ''));
  }
  column(header: string): number {
    return this.headers().indexOf(header);
  }
}

export class FakeChart {
  title = { text: '' };
  position = '';
  name: string;
  constructor(
    public type: string,
    public source: string,
    public seriesBy: string,
  ) {
    this.name = `Chart ${nextId++}`;
  }
}

const emptySync = (): SyncRecord => ({
  cells: 0,
  bytes: 0,
  formatWrites: 0,
  calcSuspended: false,
  screenSuspended: false,
  screenSuspendCalls: 0,
});

export class FakeWorkbook {
  sheets: FakeSheet[] = [new FakeSheet(this, 'Sheet1')];
  tables: FakeTable[] = [];
  active = 'Sheet1';
  syncs: SyncRecord[] = [];
  /** Full recalculations of the workbook (Application.calculate). */
  calculations = 0;
  /** Addresses recalculated one range at a time (Range.calculate). */
  calculatedRanges: string[] = [];
  runs = 0;
  /** Requirement sets the host claims; tests lower them to check the add-in's fallbacks. */
  requirementSets: Record<string, string> = {
    ExcelApi: '1.17',
    SharedRuntime: '1.1',
    CustomFunctionsRuntime: '1.4',
    IdentityAPI: '1.3',
  };
  pending: SyncRecord = emptySync();
  onSync: (() => void) | null = null;
  /** The registered custom functions (CustomFunctions.associate), which =HNH.X(...) cells call. */
  functions = new Map<string, (...a: any[]) => any>();
  /** Custom-function calls in flight; tests await them (settled()). */
  private inflight = new Set<Promise<unknown>>();

  /** Runs the =HNH.X(...) formula in a cell the way Excel does: its arguments, then the invocation with the address. */
  runFunctionCell(sheet: FakeSheet, r: number, c: number) {
    const cell = sheet.cell(r, c);
    if (!cell?.formula || !isFunctionCall(cell.formula)) return;
    const call = parseFunctionCall(cell.formula);
    const fn = call && this.functions.get(call.name);
    if (!call || !fn) {
      cell.value = '#NAME?';
      return;
    }
    cell.value = '#BUSY!';
    const address = `${quoteSheet(sheet.name)}!${colName(c)}${r + 1}`;
    const p = Promise.resolve()
      // Excel passes every declared parameter (null for an omitted optional one), then the invocation.
      .then(() => fn(...call.args, ...Array(Math.max(0, fn.length - 1 - call.args.length)).fill(null), { address }))
      .then(
        (v) => (cell.value = v as V),
        (e) => (cell.value = String(e?.code ?? '#VALUE!')),
      )
      .finally(() => {
        this.inflight.delete(p);
        this.onSync?.();
      });
    this.inflight.add(p);
  }
  recalcFunctions(where?: (s: FakeSheet, r: number, c: number) => boolean) {
    for (const s of this.sheets)
      for (const [k, x] of s.cells) {
        if (!x.formula || !isFunctionCall(x.formula)) continue;
        const [r, c] = k.split(',').map(Number);
        if (!where || where(s, r, c)) this.runFunctionCell(s, r, c);
      }
  }
  async settled() {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  sheet(name: string) {
    return this.sheets.find((s) => s.name.toLowerCase() === name.toLowerCase());
  }
  table(nameOrId: string) {
    return this.tables.find((t) => t.name.toLowerCase() === nameOrId.toLowerCase() || t.id === nameOrId);
  }
  evaluate(sheet: FakeSheet, row: number, formula: string): V {
    const f = formula.trim();
    if (f.includes('#REF!')) return '#REF!';
    const sum = /^=SUM\(([A-Za-z_][A-Za-z0-9_.]*)\[([^\]]+)\]\)$/.exec(f);
    if (sum) {
      const t = this.table(sum[1]);
      if (!t) return '#NAME?';
      const j = t.column(sum[2]);
      if (j < 0) return '#REF!';
      let n = 0;
      for (let r = 1; r < t.rows; r++) {
        const v = t.sheet.valueAt(t.r0 + r, t.c0 + j);
        if (typeof v === 'number') n += v;
      }
      return Math.round(n * 100) / 100;
    }
    // =[@Col]*k or =[@Col]+k inside a table: a user's calculated column.
    const at = /^=\[@([^\]]+)\]\s*([*+-])\s*(-?\d+(\.\d+)?)$/.exec(f);
    if (at) {
      const t = this.tables.find((x) => x.sheet === sheet && row > x.r0 && row < x.r0 + x.rows);
      if (!t) return '#REF!';
      const j = t.column(at[1]);
      if (j < 0) return '#REF!';
      const v = Number(t.sheet.valueAt(row, t.c0 + j));
      const k = Number(at[3]);
      return at[2] === '*' ? v * k : at[2] === '+' ? v + k : v - k;
    }
    return f;
  }
  renameTableRefs(from: string, to: string | null) {
    for (const s of this.sheets)
      for (const c of s.cells.values()) {
        if (!c.formula) continue;
        const i = c.formula.toLowerCase().indexOf(`${from.toLowerCase()}[`);
        if (i < 0) continue;
        c.formula = c.formula.slice(0, i) + (to ?? '#REF!') + c.formula.slice(i + from.length);
      }
  }

  // ---- what a person does in Excel (applied at once, as typing is) ----

  /** Types into a table cell (row is 0-based within the body). */
  setTableCell(table: string, row: number, column: string, value: V) {
    const t = this.mustTable(table);
    const j = t.column(column);
    if (j < 0) throw new Error(`no column ${column} in ${table}`);
    const c = t.sheet.cell(t.r0 + 1 + row, t.c0 + j, true)!;
    if (typeof value === 'string' && value.startsWith('=')) c.formula = value;
    else {
      c.value = value;
      delete c.formula;
    }
    this.onSync?.();
  }
  /** Types a value or formula into a sheet cell ("B2"). */
  setCell(sheet: string, address: string, value: V) {
    const s = this.sheet(sheet);
    if (!s) throw new Error(`no sheet ${sheet}`);
    const [r, c] = parseCell(address);
    const x = s.cell(r, c, true)!;
    if (typeof value === 'string' && value.startsWith('=')) x.formula = value;
    else {
      x.value = value;
      delete x.formula;
    }
    this.runFunctionCell(s, r, c);
    this.onSync?.();
  }
  /** Types a row directly under a table: Excel's AutoExpansion takes it into the table. */
  typeBelowTable(table: string, values: Record<string, V>) {
    const t = this.mustTable(table);
    const r = t.r0 + t.rows;
    t.sheet.shiftRows(r, t.c0, t.cols, 1);
    t.rows++;
    // The new row takes the formats of the row above, as Excel's table expansion does.
    for (let j = 0; j < t.cols; j++) {
      const above = t.sheet.cell(r - 1, t.c0 + j);
      if (above?.format) t.sheet.cell(r, t.c0 + j, true)!.format = above.format;
    }
    for (const [h, v] of Object.entries(values)) {
      const j = t.column(h);
      if (j < 0) throw new Error(`no column ${h} in ${table}`);
      t.sheet.cell(r, t.c0 + j, true)!.value = v;
    }
    this.onSync?.();
  }
  /** Adds a column at the right of a table with a header and, optionally, a calculated formula. */
  addUserColumn(table: string, header: string, formula?: string) {
    const t = this.mustTable(table);
    const c = t.c0 + t.cols;
    t.sheet.shiftCols(c, t.r0, t.rows, 1);
    t.cols++;
    t.sheet.cell(t.r0, c, true)!.value = header;
    for (let r = 1; r < t.rows; r++) {
      const x = t.sheet.cell(t.r0 + r, c, true)!;
      if (formula) x.formula = formula;
    }
    this.onSync?.();
  }
  renameTable(from: string, to: string) {
    const t = this.mustTable(from);
    this.renameTableRefs(t.name, to);
    t.name = to;
    this.onSync?.();
  }
  renameSheet(from: string, to: string) {
    const s = this.sheet(from)!;
    s.name = to;
    if (this.active === from) this.active = to;
  }
  addSheet(name: string) {
    const s = new FakeSheet(this, name);
    this.sheets.push(s);
    return s;
  }

  private mustTable(name: string) {
    const t = this.table(name);
    if (!t) throw new Error(`no table ${name}`);
    return t;
  }
  tableValues(table: string): V[][] {
    const t = this.mustTable(table);
    return Array.from({ length: t.rows }, (_, r) =>
      Array.from({ length: t.cols }, (_, c) => t.sheet.valueAt(t.r0 + r, t.c0 + c)),
    );
  }
  tableFill(table: string, row: number, column: string): string | undefined {
    const t = this.mustTable(table);
    return t.sheet.cell(t.r0 + 1 + row, t.c0 + t.column(column))?.fill;
  }
  tableFormat(table: string, row: number, column: string): string | undefined {
    const t = this.mustTable(table);
    return t.sheet.cell(t.r0 + 1 + row, t.c0 + t.column(column))?.format;
  }
}

// ---- the proxy layer: queue, object paths, loads ----

class Ctx {
  queue: (() => void)[] = [];
  loads: (() => number)[] = [];
  created: Base[] = [];
  constructor(readonly wb: FakeWorkbook) {}
  path(args: unknown[] = []) {
    this.wb.pending.bytes += PATH_BYTES + ACTION_BYTES + JSON.stringify(args).length;
  }
  action(args: unknown[] = []) {
    this.wb.pending.bytes += ACTION_BYTES + JSON.stringify(args).length;
  }
  async sync() {
    const rec = this.wb.pending;
    this.wb.pending = emptySync();
    const queue = this.queue;
    const loads = this.loads;
    const created = this.created;
    this.queue = [];
    this.loads = [];
    this.created = [];
    this.wb.syncs.push(rec);
    if (rec.bytes > PAYLOAD_LIMIT) {
      throw new OfficeError(
        'RequestPayloadSizeLimitExceeded',
        `The request payload size has exceeded the limit (${rec.bytes} bytes in one sync; Excel on the web takes 5 MB).`,
      );
    }
    try {
      for (const q of queue) q();
      let response = 0;
      for (const l of loads) response += l();
      if (response > PAYLOAD_LIMIT)
        throw new OfficeError(
          'ResponsePayloadSizeLimitExceeded',
          `The response payload size has exceeded the limit (${response} bytes).`,
        );
      for (const b of created) b.synced = true;
    } finally {
      this.wb.onSync?.();
    }
  }
}

abstract class Base {
  synced = false;
  private loaded: Record<string, unknown> | null = null;
  private nav = new Map<string, unknown>();
  private resolved: { ok: boolean; value: unknown; error?: Error } | null = null;
  constructor(
    protected ctx: Ctx,
    private compute: () => unknown,
    args: unknown[] = [],
    orNull = false,
  ) {
    ctx.path(args);
    ctx.created.push(this);
    ctx.queue.push(() => {
      const v = this.target(true);
      if (v === null && !orNull) throw new OfficeError('ItemNotFound', 'The requested resource does not exist.');
    });
  }
  /** The real object behind the proxy, found in queue order (so an object made in this batch exists). */
  protected target(allowNull = false): any {
    if (!this.resolved) {
      try {
        this.resolved = { ok: true, value: this.compute() };
      } catch (e) {
        this.resolved = { ok: false, value: null, error: e as Error };
      }
    }
    if (!this.resolved.ok) throw this.resolved.error;
    if (this.resolved.value === null && !allowNull)
      throw new OfficeError('ItemNotFound', 'The requested resource does not exist.');
    return this.resolved.value;
  }
  get isNullObject(): boolean {
    if (!this.synced) throw new OfficeError('PropertyNotLoaded', 'isNullObject is not available before context.sync()');
    return this.target(true) === null;
  }
  /** Properties a load without arguments returns. */
  protected abstract scalars(): string[];
  protected abstract read(prop: string): unknown;
  load(props?: string | string[] | Record<string, unknown>) {
    const list =
      props === undefined
        ? this.scalars()
        : typeof props === 'string'
          ? props.split(',').map((p) => p.trim())
          : Array.isArray(props)
            ? props
            : Object.keys(props);
    this.ctx.action([list.join(',')]);
    this.ctx.loads.push(() => {
      if (this.target(true) === null) return 0;
      const snap: Record<string, unknown> = { ...(this.loaded ?? {}) };
      for (const p of list) snap[p] = this.read(p);
      this.loaded = snap;
      return JSON.stringify(list.map((p) => snap[p])).length;
    });
    return this;
  }
  protected get<T>(prop: string): T {
    if (!this.loaded || !(prop in this.loaded)) {
      throw new OfficeError(
        'PropertyNotLoaded',
        `The property '${prop}' is not available. Before reading the property's value, call the load method on the containing object and call "context.sync()" on the associated request context.`,
      );
    }
    return this.loaded[prop] as T;
  }
  protected set(args: unknown[], apply: (t: any) => void) {
    this.ctx.action(args);
    this.ctx.queue.push(() => apply(this.target()));
  }
  protected child<T>(key: string, make: () => T): T {
    if (!this.nav.has(key)) this.nav.set(key, make());
    return this.nav.get(key) as T;
  }
}

interface RangeT {
  sheet: FakeSheet;
  r0: number;
  c0: number;
  rows: number;
  cols: number;
}

class RangeProxy extends Base {
  constructor(ctx: Ctx, find: () => RangeT | null, args: unknown[] = [], orNull = false) {
    super(ctx, find, args, orNull);
  }
  protected scalars() {
    return ['address', 'rowCount', 'columnCount', 'values', 'numberFormat', 'formulas'];
  }
  protected read(p: string): unknown {
    const t: RangeT = this.target();
    const grid = (f: (x: Cell | undefined, r: number, c: number) => unknown) =>
      Array.from({ length: Math.min(t.rows, 100_000) }, (_, r) =>
        Array.from({ length: Math.min(t.cols, 1000) }, (_, c) =>
          f(t.sheet.cell(t.r0 + r, t.c0 + c), t.r0 + r, t.c0 + c),
        ),
      );
    switch (p) {
      case 'address':
        return `${quoteSheet(t.sheet.name)}!${colName(t.c0)}${t.r0 + 1}:${colName(t.c0 + t.cols - 1)}${t.r0 + t.rows}`;
      case 'rowCount':
        return t.rows;
      case 'rowIndex':
        return t.r0;
      case 'columnIndex':
        return t.c0;
      case 'columnCount':
        return t.cols;
      case 'values':
        return grid((_x, r, c) => t.sheet.valueAt(r, c));
      case 'formulas':
        return grid((x) => x?.formula ?? x?.value ?? '');
      case 'numberFormat':
        return grid((x) => x?.format ?? 'General');
      default:
        throw new OfficeError('InvalidArgument', `fake Excel: Range.${p} is not modelled`);
    }
  }
  get address(): string {
    return this.get('address');
  }
  get rowCount(): number {
    return this.get('rowCount');
  }
  get rowIndex(): number {
    return this.get('rowIndex');
  }
  get columnIndex(): number {
    return this.get('columnIndex');
  }
  get columnCount(): number {
    return this.get('columnCount');
  }
  get values(): V[][] {
    return this.get('values');
  }
  get formulas(): V[][] {
    return this.get('formulas');
  }
  get numberFormat(): string[][] {
    return this.get('numberFormat');
  }
  private write(kind: 'value' | 'formula' | 'format', v: unknown) {
    const cells = Array.isArray(v) ? v.length * ((v[0] as unknown[])?.length ?? 0) : 1;
    if (kind !== 'format') this.ctx.wb.pending.cells += cells;
    this.set([v], (t: RangeT) => {
      const scalar = !Array.isArray(v);
      if (
        !scalar &&
        ((v as unknown[][]).length !== t.rows ||
          (v as unknown[][]).some((row) => !Array.isArray(row) || row.length !== t.cols))
      ) {
        throw new OfficeError(
          'InvalidArgument',
          `The number of rows or columns in the input array doesn't match the size or dimensions of the range (${(v as unknown[][]).length}x${(v as unknown[][])[0]?.length} for ${t.rows}x${t.cols}).`,
        );
      }
      for (let r = 0; r < t.rows; r++)
        for (let c = 0; c < t.cols; c++) {
          const x = (scalar ? v : (v as unknown[][])[r][c]) as V;
          // null leaves a cell as it is, as in Office.js.
          if (x === null || x === undefined) continue;
          const cell = t.sheet.cell(t.r0 + r, t.c0 + c, true)!;
          if (kind === 'format') cell.format = String(x);
          else if (typeof x === 'string' && x.startsWith('=') && (kind === 'formula' || cell.format !== '@'))
            cell.formula = x;
          else {
            cell.value = x;
            delete cell.formula;
          }
        }
    });
  }
  set values(v: V[][] | V) {
    this.write('value', v);
  }
  set formulas(v: V[][] | V) {
    this.write('formula', v);
  }
  set numberFormat(v: string | string[][]) {
    this.write('format', v);
  }
  get format() {
    return this.child('format', () => {
      this.ctx.path();
      const self = this;
      const each = (f: (c: Cell) => void) => (t: RangeT) => {
        for (let r = 0; r < Math.min(t.rows, 200_000); r++)
          for (let c = 0; c < Math.min(t.cols, 1000); c++) f(t.sheet.cell(t.r0 + r, t.c0 + c, true)!);
      };
      const fill = (() => {
        self.ctx.path();
        return {
          set color(v: string) {
            self.ctx.wb.pending.formatWrites++;
            self.set(
              [v],
              each((c) => (c.fill = v)),
            );
          },
          clear() {
            self.ctx.wb.pending.formatWrites++;
            self.set(
              [],
              each((c) => delete c.fill),
            );
          },
        };
      })();
      const font = (() => {
        self.ctx.path();
        return {
          set color(v: string) {
            self.ctx.wb.pending.formatWrites++;
            self.set(
              [v],
              each((c) => (c.font = v)),
            );
          },
          set bold(v: boolean) {
            self.ctx.wb.pending.formatWrites++;
            self.set(
              [v],
              each((c) => (c.bold = v)),
            );
          },
          set italic(_v: boolean) {
            self.ctx.wb.pending.formatWrites++;
            self.set([_v], () => undefined);
          },
        };
      })();
      return {
        fill,
        font,
        autofitColumns: () => self.set([], () => undefined),
        set columnWidth(v: number) {
          self.set([v], () => undefined);
        },
      };
    });
  }
  private sub(f: (t: RangeT) => RangeT, args: unknown[]) {
    return new RangeProxy(this.ctx, () => f(this.target()), args);
  }
  getCell(r: number, c: number) {
    return this.sub((t) => ({ ...t, r0: t.r0 + r, c0: t.c0 + c, rows: 1, cols: 1 }), [r, c]);
  }
  getColumn(c: number) {
    return this.sub((t) => ({ ...t, c0: t.c0 + c, cols: 1 }), [c]);
  }
  getRow(r: number) {
    return this.sub((t) => ({ ...t, r0: t.r0 + r, rows: 1 }), [r]);
  }
  getOffsetRange(r: number, c: number) {
    return this.sub((t) => ({ ...t, r0: t.r0 + r, c0: t.c0 + c }), [r, c]);
  }
  getResizedRange(dr: number, dc: number) {
    return this.sub((t) => ({ ...t, rows: t.rows + dr, cols: t.cols + dc }), [dr, dc]);
  }
  getRowsBelow(n = 1) {
    return this.sub((t) => ({ ...t, r0: t.r0 + t.rows, rows: n }), [n]);
  }
  clear(applyTo?: string) {
    this.set([applyTo ?? 'All'], (t: RangeT) => {
      // Over the cells that exist, not the whole grid: a sheet's range is a million rows.
      for (const [k, x] of [...t.sheet.cells]) {
        const [r, c] = k.split(',').map(Number);
        if (r < t.r0 || r >= t.r0 + t.rows || c < t.c0 || c >= t.c0 + t.cols) continue;
        if (applyTo === 'Contents') {
          x.value = '';
          delete x.formula;
        } else if (applyTo === 'Formats') {
          delete x.fill;
          delete x.font;
          delete x.format;
        } else t.sheet.cells.delete(k);
      }
    });
  }
  /** Deletes the cells and shifts up (tables whose body it covers shrink, as in Excel). */
  delete(shift: string) {
    this.set([shift], (t: RangeT) => {
      if (shift !== 'Up') throw new OfficeError('InvalidArgument', 'fake Excel: only Range.delete("Up") is modelled');
      for (let r = 0; r < t.rows; r++) for (let c = 0; c < t.cols; c++) t.sheet.cells.delete(`${t.r0 + r},${t.c0 + c}`);
      t.sheet.shiftRows(t.r0 + t.rows, t.c0, t.cols, -t.rows);
      for (const tb of t.sheet.wb.tables) {
        if (tb.sheet !== t.sheet || tb.c0 < t.c0 || tb.c0 + tb.cols > t.c0 + t.cols) continue;
        if (t.r0 > tb.r0 && t.r0 < tb.r0 + tb.rows) tb.rows -= Math.min(t.rows, tb.r0 + tb.rows - t.r0);
        else if (t.r0 + t.rows <= tb.r0) tb.r0 -= t.rows;
      }
    });
  }
  calculate() {
    this.set([], (t: RangeT) => {
      t.sheet.wb.recalcFunctions(
        (s, r, c) => s === t.sheet && r >= t.r0 && r < t.r0 + t.rows && c >= t.c0 && c < t.c0 + t.cols,
      );
      t.sheet.wb.calculatedRanges.push(
        `${quoteSheet(t.sheet.name)}!${colName(t.c0)}${t.r0 + 1}${t.rows > 1 || t.cols > 1 ? `:${colName(t.c0 + t.cols - 1)}${t.r0 + t.rows}` : ''}`,
      );
    });
  }
}

function isFunctionCall(f: string): boolean {
  return f.trim().toUpperCase().startsWith('=HNH.');
}

/** =HNH.POT("ASH-01", "SUMMER-2026", , "remaining"): literal arguments only (strings, numbers, blanks). */
function parseFunctionCall(f: string): { name: string; args: V[] } | null {
  const t = f.trim();
  const open = t.indexOf('(');
  if (open < 0 || !t.endsWith(')')) return null;
  const name = t.slice(5, open).toUpperCase();
  const inner = t.slice(open + 1, -1);
  const args: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of inner) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      args.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  args.push(cur);
  return {
    name,
    args: args.map((a) => {
      const x = a.trim();
      if (x === '') return null;
      if (x.startsWith('"') && x.endsWith('"')) return x.slice(1, -1);
      const num = Number(x);
      return Number.isFinite(num) ? num : x;
    }),
  };
}

function quoteSheet(name: string): string {
  return /^[A-Za-z0-9_]+$/.test(name) ? name : `'${name.replace(/'/g, "''")}'`;
}

function overlaps(a: RangeT, b: RangeT) {
  return (
    a.sheet === b.sheet && a.r0 < b.r0 + b.rows && b.r0 < a.r0 + a.rows && a.c0 < b.c0 + b.cols && b.c0 < a.c0 + a.cols
  );
}
function tableRange(t: FakeTable): RangeT {
  return { sheet: t.sheet, r0: t.r0, c0: t.c0, rows: t.rows, cols: t.cols };
}
function checkTableName(wb: FakeWorkbook, name: string, self?: FakeTable) {
  if (!/^[A-Za-z_\\][A-Za-z0-9_.]*$/.test(name) || name.length > 255)
    throw new OfficeError('InvalidArgument', `The table name "${name}" is not valid.`);
  const other = wb.table(name);
  if (other && other !== self) throw new OfficeError('ItemAlreadyExists', `A table named "${name}" already exists.`);
}

class TableProxy extends Base {
  constructor(ctx: Ctx, find: () => FakeTable | null, args: unknown[] = [], orNull = false) {
    super(ctx, find, args, orNull);
  }
  protected scalars() {
    return ['id', 'name'];
  }
  protected read(p: string): unknown {
    const t: FakeTable = this.target();
    if (p === 'id') return t.id;
    if (p === 'name') return t.name;
    throw new OfficeError('InvalidArgument', `fake Excel: Table.${p} is not modelled`);
  }
  get id(): string {
    return this.get('id');
  }
  get name(): string {
    return this.get('name');
  }
  set name(v: string) {
    this.set([v], (t: FakeTable) => {
      checkTableName(t.wb, v, t);
      t.wb.renameTableRefs(t.name, v);
      t.name = v;
    });
  }
  delete() {
    this.set([], (t: FakeTable) => {
      t.wb.tables = t.wb.tables.filter((x) => x !== t);
      t.wb.renameTableRefs(t.name, null);
    });
  }
  getRange() {
    return new RangeProxy(this.ctx, () => tableRange(this.target()));
  }
  getHeaderRowRange() {
    return new RangeProxy(this.ctx, () => ({ ...tableRange(this.target()), rows: 1 }));
  }
  getDataBodyRange() {
    return new RangeProxy(this.ctx, () => {
      const t: FakeTable = this.target();
      return { ...tableRange(t), r0: t.r0 + 1, rows: t.rows - 1 };
    });
  }
  /** ExcelApi 1.13: the header row must stay where it is; the new range may not overlap another table. */
  resize(address: string) {
    this.set([address], (t: FakeTable) => {
      const [r0, c0, rows, cols] = parseAddress(address);
      if (r0 !== t.r0 || c0 !== t.c0 || rows < 2)
        throw new OfficeError(
          'InvalidArgument',
          'The table header must stay in the same place and the table needs a row.',
        );
      const next = { sheet: t.sheet, r0, c0, rows, cols };
      if (t.wb.tables.some((o) => o !== t && overlaps(tableRange(o), next)))
        throw new OfficeError('InvalidOperation', 'A table cannot overlap another table.');
      t.rows = rows;
      t.cols = cols;
    });
  }
  get worksheet() {
    return this.child('worksheet', () => new SheetProxy(this.ctx, () => (this.target() as FakeTable).sheet));
  }
  get rows() {
    return this.child('rows', () => {
      this.ctx.path();
      return {
        add: (index: number | null | undefined, values: V[][]) => {
          this.ctx.wb.pending.cells += values.length * (values[0]?.length ?? 0);
          this.set([index ?? null, values], (t: FakeTable) => {
            if (index !== null && index !== undefined)
              throw new OfficeError('InvalidArgument', 'fake Excel: rows.add models appending only');
            if (values.some((r) => r.length !== t.cols))
              throw new OfficeError('InvalidArgument', `rows.add: each row needs ${t.cols} values`);
            const at = t.r0 + t.rows;
            // A formula column (every body cell the same formula) fills the new rows, as Excel's calculated columns do.
            const calc = Array.from({ length: t.cols }, (_, j) => {
              const fs = new Set<string | undefined>();
              for (let r = 1; r < t.rows; r++) fs.add(t.sheet.cell(t.r0 + r, t.c0 + j)?.formula);
              return fs.size === 1 ? [...fs][0] : undefined;
            });
            t.sheet.shiftRows(at, t.c0, t.cols, values.length);
            values.forEach((row, i) =>
              row.forEach((x, j) => {
                const cell = t.sheet.cell(at + i, t.c0 + j, true)!;
                if (x === null && calc[j]) cell.formula = calc[j];
                else if (x !== null) cell.value = x;
              }),
            );
            t.rows += values.length;
          });
        },
      };
    });
  }
  get columns() {
    return this.child('columns', () => {
      this.ctx.path();
      const col = (find: (t: FakeTable) => number, args: unknown[]) => {
        const r = new RangeProxy(
          this.ctx,
          () => {
            const t: FakeTable = this.target();
            const j = find(t);
            if (j < 0) return null;
            return { sheet: t.sheet, r0: t.r0 + 1, c0: t.c0 + j, rows: t.rows - 1, cols: 1 };
          },
          args,
          true,
        );
        return { getDataBodyRange: () => r };
      };
      return {
        add: (index: number | null | undefined, values?: V[][], name?: string) => {
          this.ctx.wb.pending.cells += values?.length ?? 0;
          this.set([index ?? null, values ?? null, name ?? null], (t: FakeTable) => {
            const c = t.c0 + t.cols;
            if (
              t.wb.tables.some(
                (o) => o !== t && overlaps(tableRange(o), { sheet: t.sheet, r0: t.r0, c0: c, rows: t.rows, cols: 1 }),
              )
            )
              throw new OfficeError('InvalidOperation', 'A table cannot overlap another table.');
            // Cells to the right of the table move right, as in Excel, so a note beside the table survives.
            t.sheet.shiftCols(c, t.r0, t.rows, 1);
            t.cols++;
            if (values) values.forEach((row, r) => (t.sheet.cell(t.r0 + r, c, true)!.value = row[0]));
            if (name) t.sheet.cell(t.r0, c, true)!.value = name;
          });
        },
        getItemAt: (i: number) => col(() => i, [i]),
        getItem: (name: string) => col((t) => t.column(name), [name]),
      };
    });
  }
}

class ChartProxy extends Base {
  constructor(ctx: Ctx, find: () => FakeChart | null, args: unknown[] = [], orNull = false) {
    super(ctx, find, args, orNull);
  }
  protected scalars() {
    return ['name'];
  }
  protected read(p: string) {
    return (this.target() as FakeChart)[p as 'name'];
  }
  get name(): string {
    return this.get('name');
  }
  set name(v: string) {
    this.set([v], (c: FakeChart) => (c.name = v));
  }
  get title() {
    return this.child('title', () => {
      this.ctx.path();
      const self = this;
      return {
        set text(v: string) {
          self.set([v], (c: FakeChart) => (c.title.text = v));
        },
      };
    });
  }
  setPosition(a: string, b: string) {
    this.set([a, b], (c: FakeChart) => (c.position = `${a}:${b}`));
  }
  setData(range: RangeProxy, seriesBy: string) {
    this.set([seriesBy], (c: FakeChart) => {
      c.source = (range as any).read('address');
      c.seriesBy = seriesBy;
    });
  }
}

class SheetProxy extends Base {
  constructor(ctx: Ctx, find: () => FakeSheet | null, args: unknown[] = [], orNull = false) {
    super(ctx, find, args, orNull);
  }
  protected scalars() {
    return ['id', 'name', 'visibility', 'tabColor'];
  }
  protected read(p: string) {
    const s: FakeSheet = this.target();
    if (p === 'id' || p === 'name' || p === 'visibility' || p === 'tabColor') return s[p];
    throw new OfficeError('InvalidArgument', `fake Excel: Worksheet.${p} is not modelled`);
  }
  get id(): string {
    return this.get('id');
  }
  get name(): string {
    return this.get('name');
  }
  get visibility(): string {
    return this.get('visibility');
  }
  set visibility(v: string) {
    this.set([v], (s: FakeSheet) => {
      if (!['Visible', 'Hidden', 'VeryHidden'].includes(v)) throw new OfficeError('InvalidArgument', `visibility ${v}`);
      if (v !== 'Visible' && s.wb.sheets.filter((x) => x !== s && x.visibility === 'Visible').length === 0)
        throw new OfficeError('InvalidOperation', 'A workbook must contain at least one visible worksheet.');
      s.visibility = v;
    });
  }
  get tabColor(): string {
    return this.get('tabColor');
  }
  set tabColor(v: string) {
    this.set([v], (s: FakeSheet) => (s.tabColor = v));
  }
  activate() {
    this.set([], (s: FakeSheet) => (s.wb.active = s.name));
  }
  delete() {
    this.set([], (s: FakeSheet) => {
      s.wb.tables.filter((t) => t.sheet === s).forEach((t) => s.wb.renameTableRefs(t.name, null));
      s.wb.tables = s.wb.tables.filter((t) => t.sheet !== s);
      s.wb.sheets = s.wb.sheets.filter((x) => x !== s);
    });
  }
  getRange(address?: string) {
    return new RangeProxy(
      this.ctx,
      () => {
        const s: FakeSheet = this.target();
        if (!address) return { sheet: s, r0: 0, c0: 0, rows: MAX_ROWS, cols: MAX_COLS };
        const [r0, c0, rows, cols] = parseAddress(address);
        return { sheet: s, r0, c0, rows, cols };
      },
      [address ?? null],
    );
  }
  getRangeByIndexes(r0: number, c0: number, rows: number, cols: number) {
    return new RangeProxy(
      this.ctx,
      () => {
        if (rows < 1 || cols < 1) throw new OfficeError('InvalidArgument', `getRangeByIndexes: ${rows}x${cols}`);
        return { sheet: this.target(), r0, c0, rows, cols };
      },
      [r0, c0, rows, cols],
    );
  }
  getUsedRangeOrNullObject(_valuesOnly?: boolean) {
    return new RangeProxy(
      this.ctx,
      () => {
        const s: FakeSheet = this.target();
        const [rows, cols] = s.extent();
        return rows ? { sheet: s, r0: 0, c0: 0, rows, cols } : null;
      },
      [_valuesOnly ?? false],
      true,
    );
  }
  get tables() {
    return this.child('tables', () => {
      this.ctx.path();
      return {
        add: (address: string, _hasHeaders: boolean) =>
          new TableProxy(
            this.ctx,
            () => {
              const s: FakeSheet = this.target();
              const [r0, c0, rows, cols] = parseAddress(address);
              const rt = { sheet: s, r0, c0, rows, cols };
              if (s.wb.tables.some((o) => overlaps(tableRange(o), rt)))
                throw new OfficeError('InvalidOperation', 'A table cannot overlap another table.');
              let n = s.wb.tables.length + 1;
              while (s.wb.table(`Table${n}`)) n++;
              const t = new FakeTable(s.wb, `Table${n}`, s, r0, c0, rows, cols);
              s.wb.tables.push(t);
              return t;
            },
            [address, _hasHeaders],
          ),
      };
    });
  }
  get charts() {
    return this.child('charts', () => {
      this.ctx.path();
      return {
        add: (type: string, range: RangeProxy, seriesBy: string) =>
          new ChartProxy(
            this.ctx,
            () => {
              const s: FakeSheet = this.target();
              const ch = new FakeChart(type, (range as any).read('address'), seriesBy);
              s.charts.push(ch);
              return ch;
            },
            [type, seriesBy],
          ),
        getItemOrNullObject: (name: string) =>
          new ChartProxy(
            this.ctx,
            () => (this.target() as FakeSheet).charts.find((c) => c.name === name) ?? null,
            [name],
            true,
          ),
      };
    });
  }
}

class CollectionItems<T> extends Base {
  constructor(
    ctx: Ctx,
    private list: () => T[],
    private props: (x: T) => Record<string, unknown>,
  ) {
    super(ctx, () => true);
  }
  protected scalars() {
    return ['items'];
  }
  protected read() {
    return this.list().map(this.props);
  }
  get items(): Record<string, any>[] {
    return this.get('items');
  }
}

export function createContext(wb: FakeWorkbook) {
  const ctx = new Ctx(wb);
  const worksheets = {
    getItemOrNullObject: (key: string) =>
      new SheetProxy(ctx, () => wb.sheet(key) ?? wb.sheets.find((s) => s.id === key) ?? null, [key], true),
    getItem: (nameOrId: string) =>
      new SheetProxy(ctx, () => wb.sheet(nameOrId) ?? wb.sheets.find((s) => s.id === nameOrId) ?? null, [nameOrId]),
    add: (name: string) =>
      new SheetProxy(ctx, () => {
        const problem = sheetNameProblem(name);
        if (problem) throw new OfficeError('InvalidArgument', `The sheet name "${name}" ${problem}.`);
        if (wb.sheet(name))
          throw new OfficeError('ItemAlreadyExists', `A sheet named "${name}" already exists (Excel ignores case).`);
        const s = new FakeSheet(wb, name);
        wb.sheets.push(s);
        return s;
      }, [name]),
    load: (_p?: string) => {
      const c = new CollectionItems(
        ctx,
        () => wb.sheets,
        (s) => ({ id: s.id, name: s.name, visibility: s.visibility }),
      );
      c.load('items');
      return c;
    },
  };
  const tables = {
    getItemOrNullObject: (key: string) => new TableProxy(ctx, () => wb.table(key) ?? null, [key], true),
    getItem: (key: string) => new TableProxy(ctx, () => wb.table(key) ?? null, [key]),
    load: (_p?: string) => {
      const c = new CollectionItems(
        ctx,
        () => wb.tables,
        (t) => ({ id: t.id, name: t.name, worksheet: { name: t.sheet.name, id: t.sheet.id } }),
      );
      c.load('items');
      return c;
    },
  };
  const application = {
    suspendApiCalculationUntilNextSync: () => {
      ctx.action();
      wb.pending.calcSuspended = true;
    },
    suspendScreenUpdatingUntilNextSync: () => {
      ctx.action();
      wb.pending.screenSuspended = true;
      wb.pending.screenSuspendCalls++;
    },
    calculate: (_type: string) => {
      ctx.action([_type]);
      ctx.queue.push(() => {
        wb.calculations++;
        wb.recalcFunctions();
      });
    },
  };
  return { workbook: { worksheets, tables, application }, sync: () => ctx.sync() };
}

/**
 * OfficeRuntime.auth in the fake host. Tests drive it: `respond` answers each getAccessToken (a token, or a
 * thrown/rejected `{ code: 13001 }`-style Office error); `calls` records the options of every call.
 * Without a `respond`, it fails the way a host without single sign-on does (13012).
 */
export interface FakeAuth {
  respond: ((options: unknown) => string | Promise<string>) | null;
  calls: unknown[];
}

/**
 * The saved file Office.context.document.getFileAsync hands out, as Office does: in slices of at most 4 MB
 * (sliceSize above that is refused), as arrays of byte values, with at most two files open at once and no
 * slice read after closeAsync. Tests set `bytes` (a real XLSX) and may lower `maxSlice` to force many
 * slices; `failSlice` makes that slice fail. Excel.createWorkbook's base64 arguments land in `created`.
 */
export interface FakeFile {
  bytes: Uint8Array | null;
  maxSlice: number;
  failSlice: number | null;
  open: number;
  opened: { fileType: string; sliceSize: number | undefined }[];
  closed: number;
  created: string[];
}

export interface FakeHost {
  workbook: FakeWorkbook;
  storage: Map<string, string>;
  functions: Map<string, (...a: any[]) => any>;
  auth: FakeAuth;
  file: FakeFile;
}

const OFFICE_MAX_SLICE = 4 * 1024 * 1024;

function fakeGetFileAsync(file: FakeFile) {
  type Result = { status: string; value?: any; error?: { code: number; message: string } };
  const fail = (code: number, message: string): Result => ({ status: 'failed', error: { code, message } });
  return (fileType: string, options: { sliceSize?: number } | undefined, cb: (r: Result) => void) => {
    const sliceSize = options?.sliceSize ?? OFFICE_MAX_SLICE;
    file.opened.push({ fileType, sliceSize: options?.sliceSize });
    queueMicrotask(() => {
      if (fileType !== 'compressed') return cb(fail(5001, 'fake Office: this test serves only the compressed file'));
      if (sliceSize > OFFICE_MAX_SLICE || sliceSize < 1) return cb(fail(5001, 'Invalid slice size'));
      if (file.open >= 2) return cb(fail(12004, 'No more than two documents are allowed to be in memory'));
      if (!file.bytes) return cb(fail(5001, 'fake Office: no saved file set for this test'));
      const bytes = file.bytes;
      const size = Math.min(sliceSize, file.maxSlice);
      const sliceCount = Math.max(1, Math.ceil(bytes.length / size));
      let closed = false;
      file.open++;
      cb({
        status: 'succeeded',
        value: {
          size: bytes.length,
          sliceCount,
          getSliceAsync(i: number, done: (r: Result) => void) {
            queueMicrotask(() => {
              if (closed) return done(fail(5001, 'The file is closed'));
              if (!Number.isInteger(i) || i < 0 || i >= sliceCount) return done(fail(5001, 'Invalid slice index'));
              if (file.failSlice === i) return done(fail(5001, `fake Office: slice ${i} failed to read`));
              const data = Array.from(bytes.subarray(i * size, Math.min(bytes.length, (i + 1) * size)));
              done({ status: 'succeeded', value: { index: i, size: data.length, data } });
            });
          },
          closeAsync(done?: (r: Result) => void) {
            if (!closed) {
              closed = true;
              file.open--;
              file.closed++;
            }
            queueMicrotask(() => done?.({ status: 'succeeded' }));
          },
        },
      });
    });
  };
}

function versionAtLeast(have: string | undefined, want: string | undefined) {
  if (!have) return false;
  const [a, b = 0] = have.split('.').map(Number);
  const [c, d = 0] = (want ?? '1.1').split('.').map(Number);
  return a > c || (a === c && b >= d);
}

/** Installs Office, Excel, OfficeRuntime and CustomFunctions on the given global object. */
export function installFakeOffice(g: any): FakeHost {
  const wb = new FakeWorkbook();
  const storage = new Map<string, string>();
  const functions = wb.functions;
  const file: FakeFile = {
    bytes: null,
    maxSlice: OFFICE_MAX_SLICE,
    failSlice: null,
    open: 0,
    opened: [],
    closed: 0,
    created: [],
  };
  g.Excel = {
    createWorkbook: async (base64?: string) => {
      if (!versionAtLeast(wb.requirementSets.ExcelApi, '1.8'))
        throw new OfficeError('ApiNotFound', 'Excel.createWorkbook needs ExcelApi 1.8');
      file.created.push(base64 ?? '');
    },
    run: async (cb: (ctx: any) => Promise<unknown>) => {
      wb.runs++;
      const ctx = createContext(wb);
      const out = await cb(ctx);
      // Excel.run syncs what is left in the batch when the callback returns.
      await ctx.sync();
      return out;
    },
  };
  g.Office = {
    onReady: (cb?: (info: unknown) => void) => {
      const info = { host: 'Excel', platform: 'OfficeOnline' };
      cb?.(info);
      return Promise.resolve(info);
    },
    FileType: { Compressed: 'compressed', Pdf: 'pdf', Text: 'text' },
    AsyncResultStatus: { Succeeded: 'succeeded', Failed: 'failed' },
    context: {
      document: { getFileAsync: fakeGetFileAsync(file) },
      requirements: {
        isSetSupported: (name: string, version?: string) => versionAtLeast(wb.requirementSets[name], version),
      },
    },
  };
  const auth: FakeAuth = { respond: null, calls: [] };
  g.OfficeRuntime = {
    auth: {
      getAccessToken: async (options: unknown) => {
        auth.calls.push(options);
        if (!auth.respond)
          throw Object.assign(new Error('fake Office: single sign-on is not set up for this test'), { code: 13012 });
        return auth.respond(options);
      },
    },
    storage: {
      getItem: async (k: string) => storage.get(k) ?? null,
      setItem: async (k: string, v: string) => void storage.set(k, v),
      removeItem: async (k: string) => void storage.delete(k),
    },
  };
  class CFError extends Error {
    constructor(
      public code: string,
      message?: string,
    ) {
      super(message);
    }
  }
  g.CustomFunctions = {
    associate: (id: string, fn: (...a: any[]) => any) => functions.set(id, fn),
    Error: CFError,
    ErrorCode: {
      invalidValue: '#VALUE!',
      notAvailable: '#N/A',
      divisionByZero: '#DIV/0!',
      invalidNumber: '#NUM!',
      nullReference: '#NULL!',
      invalidName: '#NAME?',
      invalidReference: '#REF!',
    },
  };
  return { workbook: wb, storage, functions, auth, file };
}

/**
 * A line chart drawn from its source range (first row: series names, first column: categories), so a
 * screenshot shows what Excel would plot; a blank cell is a gap in its line, as in Excel.
 */
function lineChartSvg(sheet: FakeSheet, c: FakeChart): string {
  let r0: number, c0: number, rows: number, cols: number;
  try {
    [r0, c0, rows, cols] = parseAddress(c.source);
  } catch {
    return '';
  }
  const at = (r: number, k: number) => sheet.valueAt(r0 + r, c0 + k);
  const names = Array.from({ length: cols - 1 }, (_, k) => String(at(0, k + 1)));
  const cats = Array.from({ length: rows - 1 }, (_, r) => String(at(r + 1, 0)));
  const series = names.map((_, k) => cats.map((_, r) => at(r + 1, k + 1)));
  const nums = series.flat().filter((v): v is number => typeof v === 'number');
  if (!nums.length || cats.length < 2) return '';
  const [lo, hi] = [Math.min(0, ...nums), Math.max(0, ...nums)];
  const W = 560,
    H = 240,
    L = 90,
    B = 40;
  const x = (i: number) => L + (i * (W - L - 20)) / (cats.length - 1);
  const y = (v: number) => 10 + ((hi - v) * (H - B - 10)) / (hi - lo || 1);
  const colours = ['#107c41', '#666666', '#c50f1f', '#0f6cbd'];
  const money = (v: number) => `${v < 0 ? '(' : ''}£${(Math.abs(v) / 1e6).toFixed(0)}m${v < 0 ? ')' : ''}`;
  const lines = series
    .map((vals, k) => {
      const segs: string[] = [];
      let path = '';
      vals.forEach((v, i) => {
        if (typeof v !== 'number') {
          if (path) segs.push(path);
          path = '';
          return;
        }
        path += `${path ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      });
      if (path) segs.push(path);
      const dots = vals
        .map((v, i) =>
          typeof v === 'number' ? `<circle cx="${x(i)}" cy="${y(v)}" r="3" fill="${colours[k % 4]}"/>` : '',
        )
        .join('');
      return `${segs.map((d) => `<path d="${d}" fill="none" stroke="${colours[k % 4]}" stroke-width="2"/>`).join('')}${dots}`;
    })
    .join('');
  const ticks = [lo, (lo + hi) / 2, hi]
    .map(
      (v) =>
        `<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end" font-size="10">${money(v)}</text><line x1="${L}" x2="${W - 20}" y1="${y(v)}" y2="${y(v)}" stroke="#e1e1e1"/>`,
    )
    .join('');
  const labels = cats
    .map(
      (t, i) =>
        `<text x="${x(i)}" y="${H - B + 16}" text-anchor="middle" font-size="10">${t.replace(/[&<>]/g, '')}</text>`,
    )
    .join('');
  const legend = names
    .map(
      (n, k) =>
        `<span style="margin-right:12px"><span style="display:inline-block;width:12px;height:3px;background:${colours[k % 4]};vertical-align:middle"></span> ${n.replace(/[&<>]/g, '')}</span>`,
    )
    .join('');
  return `<svg width="${W}" height="${H}" style="display:block;margin-top:6px">${ticks}${lines}${labels}</svg><div style="font-size:11px">${legend}</div>`;
}

function renderGrid(host: FakeHost) {
  const doc = (globalThis as any).document;
  let el = doc.getElementById('__fake_grid');
  if (!el) {
    el = doc.createElement('div');
    el.id = '__fake_grid';
    el.setAttribute(
      'style',
      'position:fixed;top:0;left:380px;right:0;bottom:0;overflow:auto;border-left:3px solid #107c41;background:#fff;font:11px Calibri,Arial,sans-serif',
    );
    doc.body.appendChild(el);
    doc.body.style.width = '350px';
  }
  const wb = host.workbook;
  const visible = wb.sheets.filter((s) => s.visibility === 'Visible');
  const sheet = wb.sheet(wb.active) ?? visible[0];
  const [rows, cols] = sheet.extent();
  const esc = (v: unknown) =>
    String(v ?? '').replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
  const tables = wb.tables.filter((t) => t.sheet === sheet);
  const show = (v: V, fmt?: string) => {
    if (typeof v !== 'number' || !fmt) return v;
    if (fmt.includes('%')) return `${(v * 100).toFixed(fmt.includes('0.0') ? 1 : 0)}%`;
    if (fmt.includes('£'))
      return v < 0
        ? `(£${(-v).toLocaleString('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 })})`
        : `£${v.toLocaleString('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
    if (fmt.startsWith('dd/mm/yyyy')) {
      const d = new Date(Date.UTC(1899, 11, 30) + v * 86_400_000);
      return `${String(d.getUTCDate()).padStart(2, '0')}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${d.getUTCFullYear()}`;
    }
    return v;
  };
  const head = `<tr><th></th>${Array.from({ length: Math.min(cols, 30) }, (_, c) => `<th style="background:#f3f3f3;color:#666;font-weight:normal">${colName(c)}</th>`).join('')}</tr>`;
  const body = Array.from(
    { length: Math.min(rows, 40) },
    (_, r) =>
      `<tr><th style="background:#f3f3f3;color:#666;font-weight:normal">${r + 1}</th>${Array.from(
        { length: Math.min(cols, 30) },
        (_, c) => {
          const cell = sheet.cell(r, c);
          const v = sheet.valueAt(r, c);
          const t = tables.find((x) => r >= x.r0 && r < x.r0 + x.rows && c >= x.c0 && c < x.c0 + x.cols);
          const header = t && r === t.r0;
          const bg = cell?.fill ?? (header ? '#107c41' : t && (r - t.r0) % 2 === 0 ? '#e8f3ec' : '');
          return `<td title="${esc(cell?.formula ?? '')}" style="border:1px solid #e1e1e1;padding:1px 4px;white-space:nowrap;max-width:130px;overflow:hidden;text-overflow:ellipsis;${bg ? `background:${bg};` : ''}${header ? 'color:#fff;font-weight:bold;' : ''}${cell?.bold ? 'font-weight:bold;' : ''}${cell?.font ? `color:${cell.font};` : ''}${typeof v === 'number' ? 'text-align:right' : ''}">${esc(show(v, cell?.format))}</td>`;
        },
      ).join('')}</tr>`,
  ).join('');
  const tabs = visible
    .map(
      (s) =>
        `<span style="padding:2px 8px;margin-right:2px;${s === sheet ? 'background:#107c41;color:#fff' : 'background:#eee'};${s.tabColor ? `border-bottom:3px solid ${s.tabColor}` : ''}">${esc(s.name)}</span>`,
    )
    .join('');
  const charts = sheet.charts
    .map(
      (c) =>
        `<div style="margin:8px;padding:8px;border:1px dashed #888">Chart (${esc(c.type)}): ${esc(c.title.text)} · data ${esc(c.source)}${c.type === 'Line' ? lineChartSvg(sheet, c) : ''}</div>`,
    )
    .join('');
  el.innerHTML = `<div style="padding:4px;background:#fafafa;border-bottom:1px solid #ddd">Fake Excel · ${tabs}</div><table style="border-collapse:collapse">${head}${body}</table>${charts}`;
}

if (typeof window !== 'undefined' && !(window as any).__HNH_NO_FAKE__) {
  const host = installFakeOffice(window);
  (window as any).__fakeExcel = host;
  host.workbook.onSync = () => {
    if ((globalThis as any).document?.body) renderGrid(host);
  };
  window.addEventListener('DOMContentLoaded', () => renderGrid(host));
}
