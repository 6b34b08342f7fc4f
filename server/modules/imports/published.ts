/**
 * Reading files as the DfE publishes them (the officer-files kinds): headings compared loosely, amounts with
 * Excel's unrounded decimals, the statistics service's symbols for "no value", year codes written five ways,
 * and a plain description of what a file of the wrong kind looks like.
 */
import type { EntityManager } from 'typeorm';
import { readMoney } from '../../common/money';
import { FileRejected } from './report';
import type { Table } from './table';

/** A heading as compared: lower case, "&" as "and", dashes and underscores as spaces, runs of spaces as one. */
export function normalizeHeading(h: string): string {
  return h
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[\u2013\u2014_]/g, ' ')
    .replace(/[^a-z0-9£@/+%(). -]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The statistics service's symbols for a value that is not there (suppressed, not applicable, not collected). */
const NO_VALUE = new Set(['', 'x', 'c', 'z', ':', 'u', 'n/a', 'na', '-', '..']);
export const isNoValue = (text: string) => NO_VALUE.has(text.trim().toLowerCase());

export type AmountRead = { ok: true; value: string | null; rounded: boolean } | { ok: false; reason: string };

/** The units a published file gives amounts in: pounds (the unrounded files), thousands or millions. */
export const AMOUNT_UNITS = { POUNDS: 0, THOUSANDS: 3, MILLIONS: 6 } as const;
export type AmountUnits = keyof typeof AMOUNT_UNITS;

/**
 * An amount of pounds from a published file, read by the hub's one money parser. Excel keeps formula results
 * unrounded (an APT factor of 48210.4166666667); the parser rounds those half up to the penny, and they are counted.
 * Amounts published in thousands or millions (`units`) are scaled by it too. A no-value symbol is null.
 */
export function publishedAmount(
  text: string,
  field: string,
  opts: { allowNegative?: boolean; units?: AmountUnits } = {},
): AmountRead {
  if (isNoValue(text)) return { ok: true, value: null, rounded: false };
  const read = readMoney(text, {
    field,
    allowNegative: opts.allowNegative,
    roundToPenny: true,
    timesTenTo: AMOUNT_UNITS[opts.units ?? 'POUNDS'],
  });
  return read.ok ? read : { ok: false, reason: read.problem.detail };
}

/** A financial year as the hub writes it ("2025-26") from "2025-26", "2025-2026", "2025/26", "2025 to 2026" or "202526". */
export function financialYearCode(text: string): string | null {
  const y = yearPair(text);
  return y ? `${y}-${String((y + 1) % 100).padStart(2, '0')}` : null;
}

/** An academic year as the hub writes it ("2025/26"), from the same spellings. */
export function academicYearCode(text: string): string | null {
  const y = yearPair(text);
  return y ? `${y}/${String((y + 1) % 100).padStart(2, '0')}` : null;
}

function yearPair(text: string): number | null {
  const t = text
    .trim()
    .toLowerCase()
    .replace(/^fy\s*/, '');
  const m = /^(\d{4})\s*(?:-|\/|to|–)?\s*(\d{2}|\d{4})$/.exec(t);
  if (!m) return null;
  const first = Number(m[1]);
  const second = Number(m[2]);
  const ok = m[2].length === 2 ? second === (first + 1) % 100 : second === first + 1;
  return ok ? first : null;
}

/** The hub's schools by URN, LAESTAB and UKPRN, for files that name a school by any of them. */
export interface SchoolIndex {
  byUrn: Map<number, { urn: number; laestab: number; name: string; status: string; ukprn: number | null }>;
  /** An open school first, where a closed predecessor shares the LAESTAB. */
  byLaestab: Map<number, number>;
  byUkprn: Map<number, number>;
}

export async function loadSchoolIndex(tx: EntityManager): Promise<SchoolIndex> {
  const rows: { urn: number; laestab: number; name: string; status: string; ukprn: number | null }[] = await tx.query(
    `SELECT urn, laestab, name, status, ukprn FROM school ORDER BY (status = 'OPEN') DESC, urn`,
  );
  const byLaestab = new Map<number, number>();
  const byUkprn = new Map<number, number>();
  for (const r of rows) {
    if (!byLaestab.has(r.laestab)) byLaestab.set(r.laestab, r.urn);
    if (r.ukprn !== null && !byUkprn.has(r.ukprn)) byUkprn.set(r.ukprn, r.urn);
  }
  return { byUrn: new Map(rows.map((r) => [r.urn, r])), byLaestab, byUkprn };
}

/** Sheets of the DfE's Authority Proforma Tool workbook (one of them, "New ISB", holds a row per school). */
const APT_SHEETS = [
  'cover',
  'proforma',
  'inputs and adjustments',
  'local factors',
  'adjusted factors',
  'new isb',
  'school level sb',
  'recoupment',
  'schools block data',
  'de delegation',
];

/** What a file looks like, from its headings and sheets: the import that reads it, and in words; null when none the hub knows. */
export function describeFile(table: Pick<Table, 'header' | 'sheets'>): { kind: string; text: string } | null {
  const h = new Set(table.header.map(normalizeHeading));
  const has = (...names: string[]) => names.every((n) => h.has(n));
  const sheets = (table.sheets ?? []).map(normalizeHeading);
  if (has('urn', 'linkurn', 'linktype'))
    return {
      kind: 'gias-links',
      text: 'a GIAS links file (links_edubasealldata…csv), which POST /import/gias-links reads',
    };
  if (has('urn', 'establishmentname') && (h.has('typeofestablishment (name)') || h.has('la (code)')))
    return {
      kind: 'gias',
      text: 'a GIAS establishment file (edubasealldata…csv), which npm run import:gias or POST /import/gias reads',
    };
  if (h.has('category of planned expenditure') || h.has('category of expenditure'))
    return {
      kind: 's251',
      text: `an S251 ${h.has('category of expenditure') ? 'outturn' : 'budget'} file from the statistics service, which the s251 import reads`,
    };
  if ([...h].some((x) => /notional sen|basic entitlement/.test(x)))
    return {
      kind: 'apt-budgets',
      text: "a school-level budget sheet in the APT's layout, which the apt-budgets import reads",
    };
  if ([...h].some((x) => /\bsen places\b|\bap places\b|unit\/rp places/.test(x)))
    return {
      kind: 'place-numbers',
      text: "high needs place numbers in the DfE's layout, which the place-numbers import reads",
    };
  if (has('schoolurn', 'baseline') && (h.has('financialyear') || h.has('academicyear')))
    return { kind: 'baselines-by-year', text: 'baselines by year, which the baselines-by-year import reads' };
  if (sheets.filter((s) => APT_SHEETS.includes(s)).length >= 2)
    return { kind: 'apt-workbook', text: `an Authority Proforma Tool workbook (sheets ${table.sheets!.join(', ')})` };
  return null;
}

/** Refuses, before anything else, a file that is plainly another import's (a GIAS file given as apt-budgets). */
export function refuseOtherKinds(table: Table, kind: string, expected: string): void {
  const looks = describeFile(table);
  if (looks && looks.kind !== kind && looks.kind !== 'apt-workbook') throw wrongFile(table, kind, expected, []);
}

/** A whole-file refusal that says what the file looks like and what the kind expected. */
export function wrongFile(table: Table, kind: string, expected: string, missing: string[]): FileRejected {
  const looks = describeFile(table);
  const where = table.sheet ? ` (sheet "${table.sheet}")` : '';
  const seen = table.header.filter((x) => x !== '').slice(0, 8);
  const message =
    `This is not a file the ${kind} import reads${where}: ` +
    (looks
      ? `it looks like ${looks.text}. `
      : `its headings are ${seen.map((x) => `"${x}"`).join(', ') || 'empty'}${table.header.length > 8 ? ', …' : ''}. `) +
    `Expected ${expected}.`;
  return new FileRejected(
    message,
    missing.map((m) => ({ line: table.headerLine ?? 1, column: m, value: null, reason: 'expected column not found' })),
  );
}

/** Up to `n` items of a list for a report, and how many there were. */
export function capped<T>(items: T[], n = 500): { items: T[]; count: number } {
  return { items: items.slice(0, n), count: items.length };
}
