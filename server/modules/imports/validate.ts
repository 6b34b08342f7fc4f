import Decimal from 'decimal.js';
import type { EntityManager } from 'typeorm';
import { readMoney } from '../../common/money';
import { loadPeriodCatalogue } from '../period/period.service';
import type {
  Bad,
  FieldSpec,
  ImportKind,
  ImportOptionValues,
  ImportRow,
  PublishedImport,
  PublishedValidated,
  RecordsImport,
  Refs,
  ReplaceImport,
  TemplateImport,
  Validated,
  Value,
} from './kinds';
import { DATE_REASON, readDate, readDecimalCell } from './cells';
import { columnsNotRead } from './kind-parts';
import { looksLike } from './recognise';
import { ErrorList, FileRejected, FirstLines } from './report';
import type { Table } from './table';

/**
 * The validator: a whole file checked before anything is written. A template's rows cell by cell (each parsed by
 * its field kind), then the kind's reference checks and duplicate keys, then its checks against the store; a
 * published layout by the kind's own reader. Nothing here writes.
 */

/** A file validated, with the kind it was validated as: what the apply step (apply.ts) writes from. */
export type Checked =
  | { mode: 'records'; kind: RecordsImport; result: Validated }
  | { mode: 'replace'; kind: ReplaceImport; result: Validated }
  | { mode: 'published'; kind: PublishedImport; result: PublishedValidated };

/**
 * Validates a file as `kind`, inside the transaction the apply step will write in (checks against the store lock
 * what they read). `others` are the kinds a file given as the wrong one is recognised among.
 */
export async function validateFile(
  tx: EntityManager,
  kind: ImportKind,
  table: Table,
  refs: Refs,
  options: ImportOptionValues,
  others: readonly ImportKind[],
): Promise<Checked> {
  if (kind.mode === 'published')
    return { mode: 'published', kind, result: await kind.validate(tx, table, refs, options) };
  const result = await validateTableYielding(kind, table, refs, others);
  if (result.errors.count === 0) await kind.checkAgainstStore?.(tx, result.rows, result.errors);
  return kind.mode === 'records' ? { mode: 'records', kind, result } : { mode: 'replace', kind, result };
}

export async function loadRefs(db: EntityManager): Promise<Refs> {
  // One after another: inside the transaction they share one connection, which runs one query at a time.
  const periods = await loadPeriodCatalogue(db);
  const schools = await db.query(`SELECT urn FROM school`);
  const communities = await db.query(`SELECT code FROM community`);
  const districts = await db.query(`SELECT ons_code AS code, area_code AS area FROM district`);
  const areas = await db.query(`SELECT code FROM area`);
  const workers = await db.query(`SELECT code FROM caseload_worker`);
  const settings = await db.query(`SELECT urn FROM early_years_setting`);
  return {
    periods,
    schools: new Set(schools.map((r: { urn: number }) => r.urn)),
    communities: new Set(communities.map((r: { code: string }) => r.code)),
    districts: new Set(districts.map((r: { code: string }) => r.code)),
    unplacedDistricts: new Set(
      districts.filter((r: { area: string | null }) => !r.area).map((r: { code: string }) => r.code),
    ),
    areas: new Set(areas.map((r: { code: string }) => r.code)),
    workers: new Set(workers.map((r: { code: string }) => r.code)),
    settings: new Set(settings.map((r: { urn: string }) => r.urn)),
  };
}

const CODE_RE = /^[A-Za-z0-9][A-Za-z0-9_/-]{0,39}$/;

/** Parses one cell by its field kind; returns undefined after reporting a problem. */
function parseCell(f: FieldSpec, text: string, bad: Bad): Value | undefined {
  if (text === '') {
    if (f.required) bad(f.name, 'is required');
    return f.required ? undefined : null;
  }
  switch (f.kind) {
    case 'int':
      if (!/^\d{1,9}$/.test(text)) return (bad(f.name, 'must be a whole number, 0 or more'), undefined);
      return Number(text);
    case 'money':
    case 'signedMoney': {
      const read = readMoney(text, { field: f.name, allowNegative: f.kind === 'signedMoney' });
      if (!read.ok) return (bad(f.name, read.problem.detail), undefined);
      return read.value;
    }
    case 'fraction': {
      const read = readDecimalCell(text, 'share', f.name);
      if (!read.ok || new Decimal(read.value).gt(1))
        return (bad(f.name, 'must be a share from 0 to 1 with at most 4 decimal places, e.g. 0.70'), undefined);
      return read.value;
    }
    case 'enum': {
      const v = text.toUpperCase();
      const values = f.values ?? [];
      if (!values.includes(v)) return (bad(f.name, `is not one of ${values.join(', ')}`), undefined);
      return v;
    }
    case 'bool': {
      const v = text.toUpperCase();
      if (['TRUE', 'YES', 'Y', '1'].includes(v)) return true;
      if (['FALSE', 'NO', 'N', '0'].includes(v)) return false;
      return (bad(f.name, 'must be TRUE or FALSE'), undefined);
    }
    case 'date': {
      const iso = readDate(text);
      return iso ?? (bad(f.name, DATE_REASON), undefined);
    }
    case 'code':
      if (!CODE_RE.test(text))
        return (bad(f.name, 'must be a code of letters, digits, "-", "_" or "/" (at most 40)'), undefined);
      return text;
    default:
      if (f.maxLength && text.length > f.maxLength)
        return (bad(f.name, `is longer than ${f.maxLength} characters`), undefined);
      return text;
  }
}

/** Validates a whole table: every problem, in every row, before anything is written. */
export function validateTable(
  kind: TemplateImport,
  table: Table,
  refs: Refs,
  others: readonly ImportKind[] = [],
): Validated {
  const run = validating(kind, table, refs, others);
  for (let step = run.next(); ; step = run.next()) if (step.done) return step.value;
}

/** validateTable, letting the event loop serve other requests every few thousand rows (a 20 MB file is 177,000). */
export async function validateTableYielding(
  kind: TemplateImport,
  table: Table,
  refs: Refs,
  others: readonly ImportKind[] = [],
): Promise<Validated> {
  const run = validating(kind, table, refs, others);
  for (let step = run.next(); ; step = run.next()) {
    if (step.done) return step.value;
    await new Promise<void>((r) => setImmediate(r));
  }
}

const ROWS_PER_STEP = 5_000;

/**
 * One pass over the table's rows: each cell parsed once into its typed value, the row's reference checks, the
 * duplicate keys. Only the rows accepted are kept (as ImportRow), and every problem counted (ErrorList keeps the
 * first MAX_REPORTED_ERRORS in full). Yields every ROWS_PER_STEP rows.
 */
function* validating(
  kind: TemplateImport,
  table: Table,
  refs: Refs,
  others: readonly ImportKind[],
): Generator<void, Validated> {
  const missing = kind.fields.filter((f) => f.required && !table.header.includes(f.name));
  if (missing.length) {
    throw new FileRejected(
      `The file lacks the column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m.name}"`).join(', ')} (line 1) of the ${kind.kind} template: ` +
        `expected ${kind.fields.map((f) => f.name).join(', ')}.${looksLike(table, kind, others)}`,
      missing.map((m) => ({
        line: 1,
        column: m.name,
        value: null,
        reason: 'required column is missing from the header',
      })),
    );
  }
  const known = new Set(kind.fields.map((f) => f.name));
  const ignoredColumns = columnsNotRead(table.header, known);
  const errors = new ErrorList();
  const rows: ImportRow[] = [];
  const seen = new FirstLines();
  const cells = table.rows;
  for (let i = 0; i < cells.length; i++) {
    if (i > 0 && i % ROWS_PER_STEP === 0) yield;
    const line = cells.line(i);
    const before = errors.count;
    const values: Record<string, Value> = {};
    const bad: Bad = (field, reason) =>
      errors.add({ line, column: field, value: cells.has(field) ? cells.text(i, field) : null, reason });
    for (const f of kind.fields) {
      const error = cells.has(f.name) ? cells.error(i, f.name) : undefined;
      if (error) {
        bad(f.name, error);
        continue;
      }
      const v = parseCell(f, cells.has(f.name) ? cells.text(i, f.name) : '', bad);
      if (v !== undefined) values[f.name] = v;
    }
    // Reference checks run on the cells that parsed, so one pass reports every problem of the row.
    kind.check({ line, values }, refs, (field, reason) => {
      if (values[field] !== undefined) bad(field, reason);
    });
    if (errors.count > before) continue;
    const key = kind.key.map((k) => values[k] ?? '').join('|');
    if (
      !seen.once(key, line, errors, {
        column: kind.key.join(', '),
        value: key,
        reason: (first) => `the same ${kind.key.join(' + ')} appears twice, on lines ${first} and ${line}: keep one`,
      })
    )
      continue;
    rows.push({ line, values });
  }
  if (cells.length === 0) throw new FileRejected('The file has a header but no rows.', []);
  return { rows, errors, ignoredColumns };
}
