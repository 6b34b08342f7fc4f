import type { EntityManager } from 'typeorm';
import type { ErrorList } from './report';
import type { Bad, FieldSpec, ImportRow, ImportSource, RecordChange, RecordStore, Refs, Stored } from './kinds';

/**
 * The pieces import definitions share: the common columns, the checks of a code against the reference data,
 * and the two ways a store reads and writes its records (by composite id from one unnest, or by column list).
 */

export const URN_FIELD: FieldSpec = {
  name: 'schoolUrn',
  kind: 'int',
  required: true,
  description: 'School URN.',
  example: '118001',
};
export const FY_FIELD: FieldSpec = {
  name: 'financialYear',
  kind: 'code',
  required: true,
  description: 'Financial year code, e.g. 2025-26.',
  example: '2025-26',
};
export const TERM_FIELD: FieldSpec = {
  name: 'term',
  kind: 'code',
  required: true,
  description: 'Funding term code, e.g. AUTUMN-2025.',
  example: 'AUTUMN-2025',
};

/** No checks beyond the cells' own (a kind whose codes are all checked against the store). */
export const noRowChecks = (): void => undefined;

export function requireTerm(refs: Refs, row: ImportRow, bad: Bad) {
  if (!refs.periods.fundingTermByCode.has(row.values.term as string))
    bad('term', `is not a funding term (${refs.periods.fundingTerms.map((x) => x.code).join(', ')})`);
}

/** The line's `field` (financialYear unless said) is a financial year the hub holds; `held` adds words to the reason. */
export function requireYear(refs: Refs, row: ImportRow, bad: Bad, field = 'financialYear', held = '') {
  if (!refs.periods.financialYearByCode.has(row.values[field] as string)) {
    bad(field, `is not a financial year${held} (${refs.periods.financialYears.map((x) => x.code).join(', ')})`);
  }
}

export function requireSchool(refs: Refs, row: ImportRow, bad: Bad) {
  const u = row.values.schoolUrn as number | null;
  if (u !== null && !refs.schools.has(u)) bad('schoolUrn', 'is not a school in the hub');
}

/** The headings of a file that no column of the kind reads: the report names them, so nothing is dropped unsaid. */
export const columnsNotRead = (header: readonly string[], read: ReadonlySet<string>) =>
  header.filter((h) => h !== '' && !read.has(h));

/** Adds a problem from a store check, on the line and column it concerns. */
export const rowProblem = (errors: ErrorList, row: ImportRow, column: string, reason: string) =>
  errors.add({ line: row.line, column, value: row.values[column] == null ? null : String(row.values[column]), reason });

/** The parts of composite ids ("118001|2025-26|FSM"), one array per part: the columns of an unnest. */
export const unnestKeys = (ids: string[], n: number) =>
  Array.from({ length: n }, (_, i) => ids.map((id) => id.split('|')[i]));

/** Stored records as the apply step diffs them: id -> values, from rows that carry their `id`. */
export async function loadBy(tx: EntityManager, sql: string, params: unknown[]): Promise<Map<string, Stored>> {
  const rows: (Stored & { id: string })[] = await tx.query(sql, params);
  return new Map(rows.map(({ id, ...rest }) => [id, rest]));
}

/** The provenance columns' values of an import or a hand entry: IMPORTED from a file unless a mutation says MANUAL. */
export const sourceKindOf = (src: ImportSource) => src.kind ?? 'IMPORTED';
export const sourceFileOf = (src: ImportSource) => src.file || null;

/**
 * Upserts records keyed by `keys` into `table` from one unnest; the columns are [name, sqlType] pairs, and `extra`
 * a column computed from them (e.g. a community's area from its district).
 */
export async function upsert(
  tx: EntityManager,
  table: string,
  keys: string[],
  cols: [string, string][],
  rows: Record<string, unknown>[],
  extra?: { column: string; expr: string },
): Promise<void> {
  if (!rows.length) return;
  const names = cols.map(([c]) => c);
  const all = extra ? [...names, extra.column] : names;
  const select = [...names.map((c) => `x.${c}`), ...(extra ? [extra.expr] : [])];
  const sets = all.filter((c) => !keys.includes(c)).map((c) => `${c} = EXCLUDED.${c}`);
  await tx.query(
    `INSERT INTO ${table} (${all.join(', ')})
     SELECT ${select.join(', ')} FROM unnest(${cols.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ')}) AS x(${names.join(', ')})
     ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ${sets.join(', ')}`,
    cols.map(([c]) => rows.map((r) => r[c] ?? null)),
  );
}

/**
 * A store of one table whose records are written as they are stored: `id` is the key column's value, each field of
 * a record one column (dates read back as their ISO text, as the import compares them).
 */
export function columnStore(spec: {
  table: string;
  /** The key column and its SQL type. */
  id: [string, string];
  /** Field of the record → [column, SQL type]. */
  columns: Record<string, [string, string]>;
  /** A column computed from the others (e.g. a community's area from its district). */
  extra?: { column: string; expr: string };
}): {
  load: (tx: EntityManager, ids: string[]) => Promise<Map<string, Stored>>;
  write: (tx: EntityManager, changed: RecordChange[]) => Promise<void>;
} {
  const [idColumn, idType] = spec.id;
  const fields = Object.entries(spec.columns);
  const select = [
    `${idColumn} AS id`,
    ...fields.map(([f, [column, type]]) => `${column}${type === 'date' ? '::text' : ''} AS "${f}"`),
  ].join(', ');
  return {
    load: (tx, ids) =>
      loadBy(tx, `SELECT ${select} FROM ${spec.table} WHERE ${idColumn} = ANY($1::${idType}[])`, [ids]),
    write: (tx, changed) =>
      upsert(
        tx,
        spec.table,
        [idColumn],
        [spec.id, ...fields.map(([, c]) => c)],
        changed.map((c) => ({
          [idColumn]: c.id,
          ...Object.fromEntries(fields.map(([f, [column]]) => [column, c.after[f]])),
        })),
        spec.extra,
      ),
  };
}

/**
 * A store of a table of figures with provenance: the id is its key columns' values joined by "|", each field of a
 * record one column. A write upserts the changed records with the import's source (IMPORTED or MANUAL, the file,
 * who, now) and, unless told otherwise, clears the parameter version (an imported figure was computed with none);
 * `then` follows in the same transaction (e.g. the shares that follow a pot).
 */
export function sourcedStore(spec: {
  table: string;
  /** The key columns and their SQL types, in the order of the id's parts. */
  keys: [string, string][];
  /** Field of the record → [column, SQL type]. */
  columns: Record<string, [string, string]>;
  keepsParameterVersion?: boolean;
  then?: (tx: EntityManager, changed: RecordChange[]) => Promise<unknown>;
}): RecordStore {
  const fields = Object.entries(spec.columns);
  const keyColumns = spec.keys.map(([c]) => c);
  const valueColumns = fields.map(([, [c]]) => c);
  const all = [...keyColumns, ...valueColumns];
  const types = [...spec.keys.map(([, t]) => t), ...fields.map(([, [, t]]) => t)];
  const idParts = (ids: string[]) =>
    unnestKeys(ids, spec.keys.length).map((part, i) => (spec.keys[i][1] === 'int' ? part.map(Number) : part));
  const select = [
    `${keyColumns.map((c) => `t.${c}::text`).join(` || '|' || `)} AS id`,
    ...fields.map(([f, [column, type]]) => `t.${column}${type === 'date' ? '::text' : ''} AS "${f}"`),
  ].join(', ');
  const unnestKeyTypes = spec.keys.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ');
  const keyAliases = spec.keys.map((_, i) => `k${i}`);
  const loadSql =
    `SELECT ${select} FROM unnest(${unnestKeyTypes}) x(${keyAliases.join(', ')}) JOIN ${spec.table} t ON ` +
    keyColumns.map((c, i) => `t.${c} = x.k${i}`).join(' AND ');
  const n = all.length;
  const writeSql =
    `INSERT INTO ${spec.table} (${all.join(', ')}, source_kind, source_file, source_by, source_at)
     SELECT x.*, $${n + 1}, $${n + 2}, $${n + 3}, now() FROM unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')}) x(${all.join(', ')})
     ON CONFLICT (${keyColumns.join(', ')}) DO UPDATE SET ` +
    [
      ...valueColumns.map((c) => `${c} = EXCLUDED.${c}`),
      ...['source_kind', 'source_file', 'source_by', 'source_at'].map((c) => `${c} = EXCLUDED.${c}`),
      ...(spec.keepsParameterVersion ? [] : ['source_parameter_version = NULL']),
    ].join(', ');
  return {
    load: (tx, ids) => loadBy(tx, loadSql, idParts(ids)),
    async write(tx, changed, _existing, src) {
      await tx.query(writeSql, [
        ...idParts(changed.map((c) => c.id)),
        ...fields.map(([f]) => changed.map((c) => c.after[f] ?? null)),
        sourceKindOf(src),
        sourceFileOf(src),
        src.by,
      ]);
      await spec.then?.(tx, changed);
    },
  };
}
