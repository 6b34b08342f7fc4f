/** Argument checking and answer picking for the custom functions: plain TypeScript, no Excel. */
import { Batcher, FunctionFailure, type ScenarioAnswer, type Unit } from './batcher';
import { SCHOOL_DATASET_COLUMNS } from '../core/school-fields.generated';
import { FUNDING_LINE_COLUMNS } from '../core/funding-fields.generated';

const bad = (arg: string, message: string) => new FunctionFailure('VALUE', `${arg}: ${message}`);
const na = (message: string) => new FunctionFailure('NA', message);
const norm = (s: string) => s.toLowerCase().replace(/[\s_-]/g, '');

export function argUrn(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n) || n <= 0 || n > 2_147_483_647)
    throw bad('urn', `expected a school URN (a whole number), got ${JSON.stringify(v ?? null)}`);
  return n;
}

export function argText(name: string, v: unknown, pattern?: RegExp, example?: string): string {
  if (typeof v !== 'string' && typeof v !== 'number')
    throw bad(name, `expected text${example ? ` like ${example}` : ''}, got ${JSON.stringify(v ?? null)}`);
  const s = String(v).trim().toUpperCase();
  if (!s || (pattern && !pattern.test(s))) throw bad(name, `expected ${example ?? 'a code'}, got ${JSON.stringify(v)}`);
  return s;
}

/** A scenario id as typed: the hub's are UUIDs (any case), so they are compared in lower case. */
export function argScenario(v: unknown): string {
  if (typeof v !== 'string' && typeof v !== 'number')
    throw bad('scenario', `expected a scenario id, got ${JSON.stringify(v ?? null)}`);
  const s = String(v).trim();
  if (!s || s.length > 100) throw bad('scenario', `expected a scenario id, got ${JSON.stringify(v)}`);
  return /^[0-9a-f-]{36}$/i.test(s) ? s.toLowerCase() : s;
}

const TERM = /^[A-Z]+-\d{4}$/;
const YEAR = /^\d{4}-\d{2}$/;
const optional = (v: unknown) => v === undefined || v === null || v === '';

/** =HNH.FUNDING's lines by each name it knows them by, from the SchoolFunding catalogue (funding-fields.generated.ts). */
export const FUNDING_LINES: Record<string, (typeof FUNDING_LINE_COLUMNS)[number]> = Object.fromEntries(
  FUNDING_LINE_COLUMNS.flatMap((c) => c.names.map((name) => [name, c])),
);
/** What a scenario's results carry per school and term (the protection rate is a parameter, not a result). */
const SCENARIO_LINES = new Set(['baseline', 'protectedAmount', 'communityShare', 'bandedTopUp', 'total']);

/** =HNH.SCHOOL's field names, from the School field catalogue on the server (school-fields.generated.ts). */
export const SCHOOL_FIELDS: Record<string, (s: any) => unknown> = Object.fromEntries(
  SCHOOL_DATASET_COLUMNS.flatMap(({ path, names }) =>
    names.map((name) => [name, (s: any) => path.reduce((o, k) => o?.[k], s)]),
  ),
);

const DECIMAL_FIELDS = new Set(['percentFsm', 'protectionRate']);
/** Money and decimals arrive as exact strings; this is the last step, where they become cell numbers. */
function toCell(v: unknown): string | number {
  if (v === null || v === undefined) throw na('No value recorded');
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return v as string | number;
}

/** The key says what it is: a URN, an ONS district code, a community code, or else a worker code. */
export function groupingOf(key: string): string {
  if (/^\d+$/.test(key)) return 'SCHOOL';
  if (/^E0\d{7}$/i.test(key)) return 'DISTRICT';
  if (/^[A-Z]{3}-\d{2}$/i.test(key)) return 'COMMUNITY';
  return 'WORKER';
}

export const POT_LINES: Record<string, string> = {
  amount: 'amount',
  pot: 'amount',
  approved: 'approved',
  remaining: 'remaining',
};

export class HnhFunctions {
  /** address: the calling cell ("Sheet1!B2"), so a later change can recalculate just the cells it affects. */
  constructor(
    readonly batcher: Batcher,
    private readonly address?: string,
  ) {}

  async funding(urnArg: unknown, termArg: unknown, lineArg: unknown, scenarioArg?: unknown): Promise<number | string> {
    const urn = argUrn(urnArg);
    const term = argText('term', termArg, TERM, 'a funding term like "SUMMER-2025"');
    if (typeof lineArg !== 'string' || !(norm(lineArg) in FUNDING_LINES)) {
      throw bad(
        'line',
        `expected one of ${Object.keys(FUNDING_LINES).join(', ')}, got ${JSON.stringify(lineArg ?? null)}`,
      );
    }
    const { field: line, hiddenWith } = FUNDING_LINES[norm(lineArg)];
    if (!optional(scenarioArg)) {
      const id = argScenario(scenarioArg);
      if (!SCENARIO_LINES.has(line)) throw bad('line', `a scenario has ${[...SCENARIO_LINES].join(', ')} only`);
      const sc = (await this.load({ type: 'scenario', id })) as ScenarioAnswer | undefined;
      if (!sc) throw na(`No scenario ${id}, or you have no access to it`);
      const r = sc.schools.get(`${urn}|${term}`);
      if (!r) throw na(`Scenario ${id} has no result for URN ${urn} in ${term}`);
      return toCell(r[line]);
    }
    const f: any = await this.load({ type: 'funding', urn, term });
    if (f === undefined) throw na(`No school with URN ${urn}, or you have no access to it`);
    if (f === null) throw na(`No funding recorded for URN ${urn} in ${term}`);
    // The banded top-up (and the total that includes it) encodes small band counts when the hub hides it:
    // "c", the disclosure-control mark CASELOAD uses, never a 0 or #N/A that reads as "nothing paid".
    if (hiddenWith && f[hiddenWith]) return 'c';
    return toCell(f[line]);
  }

  async pot(
    communityArg: unknown,
    termArg: unknown,
    scenarioArg?: unknown,
    lineArg?: unknown,
  ): Promise<number | string> {
    const community = argText('community', communityArg, /^[A-Z0-9]+(-[A-Z0-9]+)*$/, 'a community code like "ASH-02"');
    const term = argText('term', termArg, TERM, 'a funding term like "SUMMER-2025"');
    const line = optional(lineArg) ? 'amount' : typeof lineArg === 'string' ? POT_LINES[norm(lineArg)] : undefined;
    if (!line) throw bad('line', `expected one of amount, approved, remaining, got ${JSON.stringify(lineArg ?? null)}`);
    if (!optional(scenarioArg)) {
      if (line !== 'amount') throw bad('line', 'a scenario has the pot amount only');
      const id = argScenario(scenarioArg);
      const sc = (await this.load({ type: 'scenario', id })) as ScenarioAnswer | undefined;
      if (!sc) throw na(`No scenario ${id}, or you have no access to it`);
      const r = sc.communities.get(`${community}|${term}`);
      if (!r) throw na(`Scenario ${id} has no pot for ${community} in ${term}`);
      return toCell(r.pot);
    }
    const c: any = await this.load({ type: 'pot', community, term });
    if (!c) throw na(`No community ${community}, or you have no access to it`);
    if (!c.pot) throw na(`No pot recorded for ${community} in ${term}`);
    return toCell(c.pot[line]);
  }

  async notionalSen(urnArg: unknown, yearArg: unknown): Promise<number | string> {
    const urn = argUrn(urnArg);
    const year = argText('year', yearArg, YEAR, 'a financial year like "2025-26"');
    const b: any = await this.load({ type: 'nsen', urn, year });
    if (b === undefined) throw na(`No school with URN ${urn}, or you have no access to it`);
    if (b === null) throw na(`No notional SEN budget for URN ${urn} in ${year}`);
    return toCell(b.total);
  }

  async school(urnArg: unknown, fieldArg: unknown): Promise<number | string> {
    const urn = argUrn(urnArg);
    const pick = typeof fieldArg === 'string' ? SCHOOL_FIELDS[norm(fieldArg)] : undefined;
    if (!pick)
      throw bad(
        'field',
        `expected one of ${Object.keys(SCHOOL_FIELDS).join(', ')}, got ${JSON.stringify(fieldArg ?? null)}`,
      );
    const s: any = await this.load({ type: 'school', urn });
    if (!s) throw na(`No school with URN ${urn}, or you have no access to it`);
    const v = pick(s);
    if (v === null || v === undefined) return '';
    return typeof v === 'string' && DECIMAL_FIELDS.has(String(fieldArg)) ? Number(v) : (v as number | string);
  }

  async caseload(kindArg: unknown, keyArg: unknown, periodArg?: unknown): Promise<number | string> {
    const kind = argText('kind', kindArg, /^[A-Z_]+$/, 'a caseload kind like "EHCP_PLANS"');
    if (keyArg === null || keyArg === undefined || keyArg === '')
      throw bad('key', 'expected a worker, school or district key');
    const key = String(keyArg).trim();
    const period = optional(periodArg) ? null : argText('period', periodArg);
    const rows: any = await this.load({ type: 'caseload', kind, groupBy: groupingOf(key), period });
    const row = (rows as any[] | undefined)?.find((r) => String(r.key).toUpperCase() === key.toUpperCase());
    if (!row) throw na(`No ${kind} caseload for ${key}${period ? ` in ${period}` : ''}, or you have no access to it`);
    // "c" is the disclosure-control mark: the count exists but may not be shown to this role.
    if (row.suppressed) return 'c';
    return toCell(row.count);
  }

  private load(u: Unit): Promise<unknown> {
    return this.batcher.load(u, this.address);
  }
}
