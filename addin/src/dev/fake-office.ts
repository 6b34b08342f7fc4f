/**
 * A fake Office/Excel host: the subset of Office.js the gateway uses, over an in-memory grid. The browser
 * test serves it in place of office.js, and the bench uses it in Node to count syncs and bytes per sync.
 * It applies writes immediately (no proxy queue) but accounts them to the next sync, which is what the
 * limits are about.
 */
type V = string | number | boolean | null;

interface Cell {
  value: V;
  fill?: string;
  font?: string;
  format?: string;
}

export interface SyncRecord {
  cells: number;
  bytes: number;
  calcSuspended: boolean;
  screenSuspended: boolean;
}

const MAX_ROWS = 1_048_576;
const MAX_COLS = 16_384;

function colName(i: number): string {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}
function parseCell(a: string): [number, number] {
  const m = /^\$?([A-Z]+)\$?(\d+)$/i.exec(a.trim());
  if (!m) throw new Error(`fake Excel: bad address ${a}`);
  let c = 0;
  for (const ch of m[1].toUpperCase()) c = c * 26 + (ch.charCodeAt(0) - 64);
  return [Number(m[2]) - 1, c - 1];
}

export class FakeSheet {
  cells = new Map<string, Cell>();
  visibility = 'Visible';
  tabColor = '';
  charts: FakeChart[] = [];
  constructor(public wb: FakeWorkbook, public name: string) {}
  cell(r: number, c: number, create = false): Cell | undefined {
    const k = `${r},${c}`;
    let x = this.cells.get(k);
    if (!x && create) this.cells.set(k, (x = { value: '' }));
    return x;
  }
  /** Values as a 2-D array of the used area, for screenshots and assertions. */
  grid(): V[][] {
    let rows = 0, cols = 0;
    for (const k of this.cells.keys()) {
      const [r, c] = k.split(',').map(Number);
      rows = Math.max(rows, r + 1);
      cols = Math.max(cols, c + 1);
    }
    return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => this.cell(r, c)?.value ?? ''));
  }
}

export class FakeTable {
  constructor(public wb: FakeWorkbook, public name: string, public sheet: FakeSheet, public r0: number, public c0: number, public rows: number, public cols: number) {}
}

export class FakeChart {
  title = { text: '' };
  position = '';
  constructor(public type: string, public source: string, public seriesBy: string) {}
  setPosition(a: string, b: string) {
    this.position = `${a}:${b}`;
  }
}

export class FakeWorkbook {
  sheets: FakeSheet[] = [new FakeSheet(this, 'Sheet1')];
  tables: FakeTable[] = [];
  active = 'Sheet1';
  syncs: SyncRecord[] = [];
  calculations = 0;
  runs = 0;
  private pending: SyncRecord = { cells: 0, bytes: 0, calcSuspended: false, screenSuspended: false };
  onSync: (() => void) | null = null;
  account(cells: number, bytes: number) {
    this.pending.cells += cells;
    this.pending.bytes += bytes;
  }
  suspend(kind: 'calc' | 'screen') {
    if (kind === 'calc') this.pending.calcSuspended = true;
    else this.pending.screenSuspended = true;
  }
  sync() {
    this.syncs.push(this.pending);
    this.pending = { cells: 0, bytes: 0, calcSuspended: false, screenSuspended: false };
    this.onSync?.();
  }
  sheet(name: string) {
    return this.sheets.find((s) => s.name === name);
  }
  table(name: string) {
    return this.tables.find((t) => t.name.toLowerCase() === name.toLowerCase());
  }
  /** Simulates a person typing into a table cell. */
  setTableCell(table: string, row: number, column: string, value: V) {
    const t = this.table(table);
    if (!t) throw new Error(`no table ${table}`);
    const headers = Array.from({ length: t.cols }, (_, j) => t.sheet.cell(t.r0, t.c0 + j)?.value);
    const j = headers.indexOf(column);
    if (j < 0) throw new Error(`no column ${column} in ${table}`);
    t.sheet.cell(t.r0 + 1 + row, t.c0 + j, true)!.value = value;
    this.onSync?.();
  }
  tableValues(table: string): V[][] {
    const t = this.table(table);
    if (!t) throw new Error(`no table ${table}`);
    return Array.from({ length: t.rows }, (_, r) => Array.from({ length: t.cols }, (_, c) => t.sheet.cell(t.r0 + r, t.c0 + c)?.value ?? ''));
  }
  tableFill(table: string, row: number, column: string): string | undefined {
    const t = this.table(table)!;
    const headers = Array.from({ length: t.cols }, (_, j) => t.sheet.cell(t.r0, t.c0 + j)?.value);
    return t.sheet.cell(t.r0 + 1 + row, t.c0 + headers.indexOf(column))?.fill;
  }
}

class FakeRange {
  isNullObject = false;
  format: any;
  constructor(public sheet: FakeSheet, public r0: number, public c0: number, public rows: number, public cols: number) {
    const self = this;
    const each = (f: (c: Cell) => void) => {
      for (let r = 0; r < Math.min(rows, 100_000); r++) for (let c = 0; c < Math.min(cols, 1000); c++) f(sheet.cell(r0 + r, c0 + c, true)!);
    };
    this.format = {
      fill: {
        set color(v: string) { self.account(); each((c) => (c.fill = v)); },
        get color() { return sheet.cell(r0, c0)?.fill ?? ''; },
        clear() { self.account(); for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) { const x = sheet.cell(r0 + r, c0 + c); if (x) delete x.fill; } },
      },
      font: {
        set color(v: string) { self.account(); each((c) => (c.font = v)); },
        set bold(_v: boolean) { self.account(); },
      },
    };
  }
  private account(bytes = 16) {
    this.sheet.wb.account(0, bytes);
  }
  load() { return this; }
  get address() {
    return `${this.sheet.name}!${colName(this.c0)}${this.r0 + 1}:${colName(this.c0 + this.cols - 1)}${this.r0 + this.rows}`;
  }
  get rowCount() { return this.rows; }
  get columnCount() { return this.cols; }
  get values(): V[][] {
    return Array.from({ length: this.rows }, (_, r) => Array.from({ length: this.cols }, (_, c) => this.sheet.cell(this.r0 + r, this.c0 + c)?.value ?? ''));
  }
  set values(v: V[][] | V) {
    if (!Array.isArray(v)) {
      this.account(JSON.stringify(v).length);
      for (let r = 0; r < this.rows; r++) for (let c = 0; c < this.cols; c++) this.sheet.cell(this.r0 + r, this.c0 + c, true)!.value = v;
      return;
    }
    if (v.length !== this.rows || v.some((row) => row.length !== this.cols)) {
      throw new Error(`fake Excel: values are ${v.length}x${v[0]?.length} but the range is ${this.rows}x${this.cols}`);
    }
    this.sheet.wb.account(this.rows * this.cols, JSON.stringify(v).length);
    for (let r = 0; r < this.rows; r++) for (let c = 0; c < this.cols; c++) this.sheet.cell(this.r0 + r, this.c0 + c, true)!.value = v[r][c];
  }
  set numberFormat(v: string | string[][]) {
    this.account(JSON.stringify(v).length);
    const f = Array.isArray(v) ? v[0][0] : v;
    for (let r = 0; r < Math.min(this.rows, 100_000); r++) for (let c = 0; c < this.cols; c++) this.sheet.cell(this.r0 + r, this.c0 + c, true)!.format = f;
  }
  getCell(r: number, c: number) {
    return new FakeRange(this.sheet, this.r0 + r, this.c0 + c, 1, 1);
  }
  clear() {
    this.account();
    if (this.rows >= MAX_ROWS && this.cols >= MAX_COLS) {
      this.sheet.cells.clear();
      return;
    }
    for (let r = 0; r < this.rows; r++) for (let c = 0; c < this.cols; c++) this.sheet.cells.delete(`${this.r0 + r},${this.c0 + c}`);
  }
}

const NULL_OBJECT = { isNullObject: true, load() { return this; } };

function tableProxy(t: FakeTable) {
  return {
    isNullObject: false,
    load() { return this; },
    get name() { return t.name; },
    set name(v: string) { t.name = v; },
    delete() {
      t.wb.tables = t.wb.tables.filter((x) => x !== t);
    },
    getHeaderRowRange: () => new FakeRange(t.sheet, t.r0, t.c0, 1, t.cols),
    getDataBodyRange: () => new FakeRange(t.sheet, t.r0 + 1, t.c0, t.rows - 1, t.cols),
    getRange: () => new FakeRange(t.sheet, t.r0, t.c0, t.rows, t.cols),
    worksheet: sheetProxy(t.sheet),
    columns: {
      add(_index: number | undefined, values: V[][]) {
        const c = t.c0 + t.cols;
        t.sheet.wb.account(values.length, JSON.stringify(values).length);
        values.forEach((row, r) => (t.sheet.cell(t.r0 + r, c, true)!.value = row[0]));
        t.cols++;
      },
      getItemAt(i: number) {
        return { getDataBodyRange: () => new FakeRange(t.sheet, t.r0 + 1, t.c0 + i, t.rows - 1, 1) };
      },
    },
  };
}

function sheetProxy(s: FakeSheet): any {
  return {
    isNullObject: false,
    load() { return this; },
    get name() { return s.name; },
    get visibility() { return s.visibility; },
    set visibility(v: string) { s.visibility = v; },
    get tabColor() { return s.tabColor; },
    set tabColor(v: string) { s.tabColor = v; },
    activate() { s.wb.active = s.name; },
    getRange(address?: string) {
      if (!address) return new FakeRange(s, 0, 0, MAX_ROWS, MAX_COLS);
      const [a, b = a] = address.split(':');
      const [r0, c0] = parseCell(a);
      const [r1, c1] = parseCell(b);
      return new FakeRange(s, r0, c0, r1 - r0 + 1, c1 - c0 + 1);
    },
    getRangeByIndexes: (r: number, c: number, rows: number, cols: number) => new FakeRange(s, r, c, rows, cols),
    getUsedRangeOrNullObject() {
      const g = s.grid();
      if (!g.length) return NULL_OBJECT;
      return new FakeRange(s, 0, 0, g.length, g[0].length);
    },
    tables: {
      add(address: string, _hasHeaders: boolean) {
        const [a, b] = address.split(':');
        const [r0, c0] = parseCell(a);
        const [r1, c1] = parseCell(b);
        const t = new FakeTable(s.wb, `Table${s.wb.tables.length + 1}`, s, r0, c0, r1 - r0 + 1, c1 - c0 + 1);
        s.wb.tables.push(t);
        return tableProxy(t);
      },
    },
    charts: {
      add(type: string, range: FakeRange, seriesBy: string) {
        const ch = new FakeChart(type, range.address, seriesBy);
        s.charts.push(ch);
        return ch;
      },
    },
  };
}

export function createContext(wb: FakeWorkbook) {
  return {
    workbook: {
      worksheets: {
        getItemOrNullObject: (name: string) => {
          const s = wb.sheet(name);
          return s ? sheetProxy(s) : NULL_OBJECT;
        },
        getItem: (name: string) => {
          const s = wb.sheet(name);
          if (!s) throw new Error(`ItemNotFound: worksheet ${name}`);
          return sheetProxy(s);
        },
        add: (name: string) => {
          if (wb.sheet(name)) throw new Error(`fake Excel: sheet ${name} exists`);
          const s = new FakeSheet(wb, name);
          wb.sheets.push(s);
          return sheetProxy(s);
        },
      },
      tables: {
        getItemOrNullObject: (name: string) => {
          const t = wb.table(name);
          return t ? tableProxy(t) : NULL_OBJECT;
        },
        getItem: (name: string) => {
          const t = wb.table(name);
          if (!t) throw new Error(`ItemNotFound: table ${name}`);
          return tableProxy(t);
        },
      },
      application: {
        suspendApiCalculationUntilNextSync: () => wb.suspend('calc'),
        suspendScreenUpdatingUntilNextSync: () => wb.suspend('screen'),
        calculate: () => void wb.calculations++,
      },
    },
    sync: async () => wb.sync(),
  };
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

export interface FakeHost {
  workbook: FakeWorkbook;
  storage: Map<string, string>;
  functions: Map<string, (...a: any[]) => any>;
  auth: FakeAuth;
}

/** Installs Office, Excel, OfficeRuntime and CustomFunctions on the given global object. */
export function installFakeOffice(g: any): FakeHost {
  const wb = new FakeWorkbook();
  const storage = new Map<string, string>();
  const functions = new Map<string, (...a: any[]) => any>();
  g.Excel = {
    run: async (cb: (ctx: any) => Promise<unknown>) => {
      wb.runs++;
      return cb(createContext(wb));
    },
  };
  g.Office = {
    onReady: (cb?: (info: unknown) => void) => {
      const info = { host: 'Excel', platform: 'OfficeOnline' };
      cb?.(info);
      return Promise.resolve(info);
    },
    context: { requirements: { isSetSupported: () => true } },
  };
  const auth: FakeAuth = { respond: null, calls: [] };
  g.OfficeRuntime = {
    auth: {
      getAccessToken: async (options: unknown) => {
        auth.calls.push(options);
        if (!auth.respond) throw Object.assign(new Error('fake Office: single sign-on is not set up for this test'), { code: 13012 });
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
    constructor(public code: string, message?: string) {
      super(message);
    }
  }
  g.CustomFunctions = {
    associate: (id: string, fn: (...a: any[]) => any) => functions.set(id, fn),
    Error: CFError,
    ErrorCode: { invalidValue: '#VALUE!', notAvailable: '#N/A', divisionByZero: '#DIV/0!', invalidNumber: '#NUM!', nullReference: '#NULL!', invalidName: '#NAME?', invalidReference: '#REF!' },
  };
  return { workbook: wb, storage, functions, auth };
}

function renderGrid(host: FakeHost) {
  const doc = (globalThis as any).document;
  let el = doc.getElementById('__fake_grid');
  if (!el) {
    el = doc.createElement('div');
    el.id = '__fake_grid';
    el.setAttribute('style', 'position:fixed;top:0;left:380px;right:0;bottom:0;overflow:auto;border-left:3px solid #107c41;background:#fff;font:11px Calibri,Arial,sans-serif');
    doc.body.appendChild(el);
    doc.body.style.width = '350px';
  }
  const wb = host.workbook;
  const visible = wb.sheets.filter((s) => s.visibility === 'Visible');
  const sheet = wb.sheet(wb.active) ?? visible[0];
  const g = sheet.grid().slice(0, 40);
  const esc = (v: unknown) => String(v ?? '').replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
  const tabs = visible.map((s) => `<span style="padding:2px 8px;margin-right:2px;${s === sheet ? 'background:#107c41;color:#fff' : 'background:#eee'};${s.tabColor ? `border-bottom:3px solid ${s.tabColor}` : ''}">${esc(s.name)}</span>`).join('');
  const rows = g.map((row, r) => `<tr><th style="background:#f3f3f3;color:#666">${r + 1}</th>${row.map((v, c) => {
    const cell = sheet.cell(r, c);
    return `<td style="border:1px solid #e1e1e1;padding:1px 4px;white-space:nowrap;max-width:260px;overflow:hidden;${cell?.fill ? `background:${cell.fill};` : ''}${typeof v === 'number' ? 'text-align:right' : ''}">${esc(v)}</td>`;
  }).join('')}</tr>`).join('');
  const charts = sheet.charts.map((c) => `<div style="margin:8px;padding:8px;border:1px dashed #888">Chart (${esc(c.type)}): ${esc(c.title.text)} · data ${esc(c.source)}</div>`).join('');
  el.innerHTML = `<div style="padding:4px;background:#fafafa;border-bottom:1px solid #ddd">Fake Excel · ${tabs}</div><table style="border-collapse:collapse">${rows}</table>${charts}`;
}

if (typeof window !== 'undefined' && !(window as any).__HNH_NO_FAKE__) {
  const host = installFakeOffice(window);
  (window as any).__fakeExcel = host;
  host.workbook.onSync = () => {
    if ((globalThis as any).document?.body) renderGrid(host);
  };
  window.addEventListener('DOMContentLoaded', () => renderGrid(host));
}
