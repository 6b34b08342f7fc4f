import type { EntityManager } from 'typeorm';
import { CaseloadKind } from '../caseload/caseload.entity';
import { agreementOn } from '../safety-valve/agreement';
import { todayIso } from '../period/period.service';
import { compute } from '../funding/compute';
import { CARRIES_WEIGHT, loadFundingInputs } from '../funding/funding-inputs';
import { parameterVersions, recordOn } from '../funding/parameters-of-record';
import { MEMBERSHIP_ON } from '../community/membership';
import { readAll } from '../../common/statements';
import { bandingApplies } from '../funding/model';

/**
 * The one registry of what the hub holds: a dataset is a table (or a slice of one) that an officer loads.
 * Each says how to count its rows for a period, where its rows came from, and what is missing, in plain
 * words. A dataset added later (APT budgets, S251 lines...) is one more entry here.
 */

/** The periods a dataStatus call asks about, resolved to every kind of period a dataset may be held by. */
export interface Scope {
  /** "AUTUMN-2026" or "2026-27": what the messages say. */
  label: string;
  fundingTerms: string[];
  financialYears: string[];
  academicYears: string[];
  schoolTerms: string[];
  /** First and last day of the scope. */
  start: string;
  end: string;
  /** A Chair's community: datasets held per community count and report theirs only. */
  communityCode: string | null;
  /** Work shared by the datasets of one call (the block's missing drivers: one model run). */
  cache: Map<string, Promise<unknown>>;
}

/** One source of a dataset's rows: a file (who, when), hand entry, or the model. */
export interface SourceRow {
  kind: string;
  file: string | null;
  by: string | null;
  at: Date | null;
  rows: number;
}

/** At most this many sources per dataset, latest first. */
export const MAX_SOURCES = 5;

/** The GIAS import writes no provenance columns on schools: its audit entry says which file, who, when. */
async function giasImports(db: EntityManager): Promise<SourceRow[]> {
  const rows: { file: string | null; by: string; at: Date; schools: number | null }[] = await db.query(
    `SELECT after->>'file' AS file, actor_name AS by, at,
            (SELECT sum(v::int) FROM jsonb_each_text(after->'summary') x(k, v) WHERE v ~ '^\\d+$')::int AS schools
       FROM audit_log WHERE entity = 'IMPORT' AND action = 'IMPORT_GIAS' ORDER BY at DESC, id DESC LIMIT ${MAX_SOURCES}`,
  );
  return rows.map((r) => ({ kind: 'IMPORTED', file: r.file, by: r.by, at: new Date(r.at), rows: r.schools ?? 0 }));
}

/**
 * Caseload counts carry no provenance columns: the caseloads import audits each kind and term it replaces
 * ("caseloads:KIND|TERM", its reason naming the file), so the latest entry per set is where that set came from.
 */
async function caseloadImports(db: EntityManager, scope: Scope): Promise<SourceRow[]> {
  const rows: { file: string | null; by: string; at: Date; rows: number }[] = await db.query(
    `SELECT nullif(split_part(reason, ' import of ', 2), '') AS file, actor_name AS by, max(at) AS at,
            sum((after->>'cells')::int)::int AS rows
       FROM (SELECT DISTINCT ON (entity_id) * FROM audit_log
              WHERE entity = 'IMPORT' AND entity_id LIKE 'caseloads:%' AND split_part(entity_id, '|', 2) = ANY($1::text[])
              ORDER BY entity_id, at DESC, id DESC) latest
      GROUP BY 1, 2 ORDER BY max(at) DESC LIMIT ${MAX_SOURCES}`,
    [scope.schoolTerms],
  );
  return rows.map((r) => ({ ...r, kind: 'IMPORTED', at: new Date(r.at) }));
}

export type PeriodKind = 'fundingTerm' | 'financialYear' | 'academicYear' | 'schoolTerm';

export interface Dataset {
  key: string;
  title: string;
  /** The table the rows are in (alias t in the SQL below). */
  table: string;
  /** The rows as a table expression, when the period is not a column of the table itself. */
  from?: string;
  /** The column holding the period the rows are for, and its kind; null when the dataset is not held by period. */
  period: { column: string; kind: PeriodKind } | null;
  /** Extra condition on t for the rows counted (no parameters). */
  where?: string;
  /**
   * For a dataset held per community: the condition on t that keeps one community's rows, given the SQL parameter
   * holding its code. Applied for a Chair only; a dataset without it is counted whole.
   */
  community?: (code: string) => string;
  /**
   * Where the rows came from: the provenance columns on the table (grouped by kind, file and who), or a reading of
   * the import's own audit entries for tables without them; 'none' when nothing records it.
   */
  provenance: 'columns' | 'none' | ((db: EntityManager, scope: Scope) => Promise<SourceRow[]>);
  /** What is missing for the scope, in plain words (`cache` is shared by the datasets of one call). */
  missing?(db: EntityManager, scope: Scope): Promise<string[]>;
}

const periodsOf = (scope: Scope, kind: PeriodKind): string[] =>
  ({
    fundingTerm: scope.fundingTerms,
    financialYear: scope.financialYears,
    academicYear: scope.academicYears,
    schoolTerm: scope.schoolTerms,
  })[kind];

export { periodsOf };

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
/** A list of codes in a message: all of them when few, else the first ones and how many more. */
const codes = (xs: string[], max = 8) =>
  xs.length <= max ? xs.join(', ') : `${xs.slice(0, max).join(', ')} and ${xs.length - max} more`;

/** Open schools on a date: opened by then, not closed by then. $1 the date. */
const OPEN_ON = (s: string, date: string) =>
  `${s}.status <> 'PROPOSED_TO_OPEN' AND (${s}.open_date IS NULL OR ${s}.open_date <= ${date})
   AND (${s}.close_date > ${date} OR (${s}.close_date IS NULL AND ${s}.status <> 'CLOSED'))`;
/** A school's community on a date, when it has one. */
const MEMBER_OF = (s: string, date: string) =>
  `(SELECT m.community_code FROM community_membership m WHERE m.school_urn = ${s}.urn AND ${MEMBERSHIP_ON('m', date)})`;

const SETTING: Record<string, [string, string]> = {
  SPECIAL: ['special school', 'special schools'],
  AP: ['alternative provision school', 'alternative provision schools'],
  SRP: ['school with resourced provision', 'schools with resourced provision'],
};

/**
 * The High Needs block's missing drivers (HighNeedsBlock.missingDrivers) for the scope, summed up per kind,
 * setting and period: "no place numbers for 3 special schools in 2026/27". One model run per call.
 */
async function blockMissing(db: EntityManager, scope: Scope, kinds: string[]): Promise<string[]> {
  if (!scope.cache.has('block'))
    scope.cache.set(
      'block',
      (async () => {
        const inputs = await loadFundingInputs(db);
        const { results } = compute(inputs, recordOn(await parameterVersions(db)));
        return results.block.missing;
      })(),
    );
  const all = (await scope.cache.get('block')) as MissingDriverRow[];
  const inScope = new Set([...scope.fundingTerms, ...scope.financialYears, ...scope.academicYears]);
  const groups = new Map<
    string,
    { kind: string; setting: string; period: string; urns: Set<number>; message: string }
  >();
  for (const m of all) {
    if (!kinds.includes(m.kind) || !inScope.has(m.period)) continue;
    const k = `${m.kind}|${m.setting}|${m.period}`;
    const g = groups.get(k) ?? {
      kind: m.kind,
      setting: m.setting,
      period: m.period,
      urns: new Set(),
      message: m.message,
    };
    if (m.schoolUrn !== null) g.urns.add(m.schoolUrn);
    groups.set(k, g);
  }
  return [...groups.values()].map((g) => {
    const [one, many] = SETTING[g.setting] ?? [`${g.setting} school`, `${g.setting} schools`];
    const schools = plural(g.urns.size, one, many);
    if (g.kind === 'PLACES') return `no place numbers for ${schools} in ${g.period}`;
    if (g.kind === 'TOP_UP_COUNTS') return `${g.period}: no top-up pupil counts for ${schools}`;
    if (g.kind === 'BAND_NOT_IN_SET') return `${g.period}: pupils of ${schools} are in bands outside the band set`;
    return g.message;
  });
}

interface MissingDriverRow {
  kind: string;
  setting: string;
  schoolUrn: number | null;
  period: string;
  message: string;
}

async function perFundingTerm(
  scope: Scope,
  each: (term: { code: string; start: string }) => Promise<string[]>,
  db: EntityManager,
) {
  const terms: { code: string; start: string }[] = await db.query(
    `SELECT code, start_date::text AS start FROM funding_term WHERE code = ANY($1::text[]) ORDER BY start_date`,
    [scope.fundingTerms],
  );
  return (
    await readAll(
      db,
      terms.map((t) => () => each(t)),
    )
  ).flat();
}

/**
 * Pots and shares of a term that still count a school closed before closures ended memberships (pending_recompute,
 * settled by the hub at start-up): said, never silent, until the recompute has run.
 */
async function pendingRecomputes(db: EntityManager, term: string, community: string | null): Promise<string[]> {
  const rows: { c: string; urns: number[]; closes: string[]; error: string | null }[] = await db.query(
    `SELECT community_code AS c, array_agg(school_urn ORDER BY school_urn) AS urns,
            array_agg(close_date::text ORDER BY school_urn) AS closes, max(last_error) AS error
       FROM pending_recompute WHERE term_code = $1 AND ($2::text IS NULL OR community_code = $2)
      GROUP BY community_code ORDER BY community_code`,
    [term, community],
  );
  return rows.map(
    (r) =>
      `${term}: the pot and shares of ${r.c} still count ${r.urns.length === 1 ? 'school' : 'schools'} ${r.urns
        .map((u, i) => `${u} (closed ${r.closes[i]})`)
        .join(', ')}; the hub recomputes them at start-up${r.error ? ` (last attempt refused: ${r.error})` : ''}`,
  );
}

export const DATASETS: Dataset[] = [
  {
    key: 'schools',
    title: 'Schools (GIAS register)',
    table: 'school',
    period: null,
    provenance: giasImports,
    async missing(db) {
      const [{ n, unweighted }] = await db.query(
        `SELECT count(*)::int AS n,
                count(*) FILTER (WHERE s.status = 'OPEN' AND NOT (${CARRIES_WEIGHT('s')}))::int AS unweighted
           FROM school s`,
      );
      if (n === 0) return ['no schools: import the GIAS register (npm run import:gias -- FILE)'];
      // The pots are split by pupils on roll and FSM: the model leaves out a school that does not carry weight.
      return unweighted
        ? [
            `${unweighted} open school${unweighted === 1 ? ' has' : 's have'} no pupils on roll or FSM figure in GIAS (suppressed or blank): no weight in their community's pot split`,
          ]
        : [];
    },
  },
  {
    key: 'communities',
    title: 'Communities of Schools',
    table: 'community',
    period: null,
    community: (code) => `t.code = ${code}`,
    provenance: 'none',
    async missing(db) {
      const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM community`);
      return n === 0 ? ['no Communities of Schools'] : [];
    },
  },
  {
    key: 'memberships',
    title: 'Community memberships',
    table: 'community_membership',
    period: null,
    community: (code) => `t.community_code = ${code}`,
    provenance: 'none',
    async missing(db, scope) {
      if (scope.communityCode) return [];
      const rows: { urn: number }[] = await db.query(
        `SELECT s.urn FROM school s WHERE ${OPEN_ON('s', '$1::date')} AND s.phase NOT IN ('SPECIAL', 'PRU')
            AND ${MEMBER_OF('s', '$1::date')} IS NULL ORDER BY s.urn`,
        [scope.start],
      );
      return rows.length
        ? [
            `${scope.label}: ${plural(rows.length, 'open mainstream school')} in no community (${codes(rows.map((r) => String(r.urn)))})`,
          ]
        : [];
    },
  },
  {
    key: 'notional-sen',
    title: 'Notional SEN factor inputs',
    table: 'notional_sen_factor',
    period: { column: 'financial_year_code', kind: 'financialYear' },
    provenance: 'columns',
    async missing(db, scope) {
      const out: string[] = [];
      for (const fy of scope.financialYears) {
        const [{ start }] = await db.query(`SELECT start_date::text AS start FROM financial_year WHERE code = $1`, [
          fy,
        ]);
        const [{ n }] = await db.query(
          `SELECT count(*)::int AS n FROM school s WHERE ${OPEN_ON('s', '$2::date')} AND s.phase NOT IN ('SPECIAL', 'PRU')
              AND ($3::text IS NULL OR ${MEMBER_OF('s', '$2::date')} = $3)
              AND NOT EXISTS (SELECT 1 FROM notional_sen_factor f WHERE f.school_urn = s.urn AND f.financial_year_code = $1)`,
          [fy, start, scope.communityCode],
        );
        if (n > 0) out.push(`${fy}: notional SEN missing for ${plural(n, 'open mainstream school')}`);
      }
      return out;
    },
  },
  {
    key: 'baselines',
    title: 'Baselines and school-term funding',
    table: 'school_term_funding',
    period: { column: 'term_code', kind: 'fundingTerm' },
    provenance: 'columns',
    community: (code) => `EXISTS (SELECT 1 FROM community_membership m JOIN funding_term ft ON ft.code = t.term_code
      WHERE m.school_urn = t.school_urn AND m.community_code = ${code} AND ${MEMBERSHIP_ON('m', 'ft.start_date')})`,
    missing: (db, scope) =>
      perFundingTerm(
        scope,
        async (term) => {
          // The schools the term's pots are shared among: open and in a community on its first day.
          const [{ n }] = await db.query(
            `SELECT count(*)::int AS n FROM school s WHERE ${OPEN_ON('s', '$2::date')} AND ${MEMBER_OF('s', '$2::date')} IS NOT NULL
                AND ($3::text IS NULL OR ${MEMBER_OF('s', '$2::date')} = $3)
                AND NOT EXISTS (SELECT 1 FROM school_term_funding f WHERE f.school_urn = s.urn AND f.term_code = $1)`,
            [term.code, term.start, scope.communityCode],
          );
          return n > 0 ? [`${term.code}: baselines missing for ${plural(n, 'open school')}`] : [];
        },
        db,
      ),
  },
  {
    key: 'pots',
    title: 'Community pots',
    table: 'community_pot',
    period: { column: 'term_code', kind: 'fundingTerm' },
    community: (code) => `t.community_code = ${code}`,
    provenance: 'columns',
    missing: (db, scope) =>
      perFundingTerm(
        scope,
        async (term) => {
          const rows: { code: string }[] = await db.query(
            `SELECT c.code FROM community c WHERE ($2::text IS NULL OR c.code = $2)
                AND NOT EXISTS (SELECT 1 FROM community_pot p WHERE p.community_code = c.code AND p.term_code = $1) ORDER BY c.code`,
            [term.code, scope.communityCode],
          );
          const out = rows.length ? [`${term.code}: no pot for ${codes(rows.map((r) => r.code))}`] : [];
          return [...out, ...(await pendingRecomputes(db, term.code, scope.communityCode))];
        },
        db,
      ),
  },
  {
    key: 'allocations',
    title: 'Allocations',
    table: 'allocation',
    period: { column: 'term_code', kind: 'fundingTerm' },
    community: (code) => `t.community_code = ${code}`,
    provenance: 'none',
  },
  {
    key: 'block-lines',
    title: 'High Needs block lines',
    table: 'high_needs_block_line',
    period: { column: 'financial_year_code', kind: 'financialYear' },
    provenance: 'columns',
    async missing(db, scope) {
      const rows: { fy: string; n: number }[] = await db.query(
        `SELECT y.fy, (SELECT count(*)::int FROM high_needs_block_line l WHERE l.financial_year_code = y.fy) AS n
           FROM unnest($1::text[]) y(fy) ORDER BY y.fy`,
        [scope.financialYears],
      );
      return rows.filter((r) => r.n === 0).map((r) => `${r.fy}: no High Needs block lines`);
    },
  },
  {
    key: 'place-numbers',
    title: 'High needs place numbers',
    table: 'place_number',
    period: { column: 'academic_year_code', kind: 'academicYear' },
    provenance: 'columns',
    missing: (db, scope) => blockMissing(db, scope, ['PLACES']),
  },
  {
    key: 'top-up-counts',
    title: 'Top-up pupil counts',
    table: 'top_up_count',
    period: { column: 'term_code', kind: 'fundingTerm' },
    provenance: 'columns',
    missing: (db, scope) => blockMissing(db, scope, ['TOP_UP_COUNTS', 'BAND_NOT_IN_SET']),
  },
  {
    key: 'placements',
    title: 'Placements (independent, out of area, post-16)',
    table: 'placement',
    period: { column: 'financial_year_code', kind: 'financialYear' },
    provenance: 'columns',
    missing: (db, scope) => blockMissing(db, scope, ['PLACEMENTS']),
  },
  {
    key: 'import-export-pupils',
    title: "Pupils imported and exported (other authorities' children in the LA's schools, the LA's in theirs)",
    table: 'dsg_income_year',
    period: { column: 'financial_year_code', kind: 'financialYear' },
    where: `t.imported_pupils IS NOT NULL OR t.exported_pupils IS NOT NULL`,
    provenance: 'columns',
    async missing(db, scope) {
      const rows: { fy: string; i: number | null; e: number | null; held: boolean }[] = await db.query(
        `SELECT y.fy, d.imported_pupils AS i, d.exported_pupils AS e, d.financial_year_code IS NOT NULL AS held
           FROM unnest($1::text[]) y(fy) LEFT JOIN dsg_income_year d ON d.financial_year_code = y.fy ORDER BY y.fy`,
        [scope.financialYears],
      );
      return rows
        .filter((r) => r.held && (r.i === null || r.e === null))
        .map(
          (r) =>
            `${r.fy}: no ${r.i === null && r.e === null ? 'imported or exported' : r.i === null ? 'imported' : 'exported'} pupils: the import/export adjustment is not counted`,
        );
    },
  },
  {
    key: 'caseloads',
    title: 'Caseload counts',
    table: 'caseload_count',
    period: { column: 'period_code', kind: 'schoolTerm' },
    provenance: caseloadImports,
    async missing(db, scope) {
      const held: { p: string; kind: string }[] = await db.query(
        `SELECT DISTINCT period_code AS p, kind FROM caseload_count WHERE period_code = ANY($1::text[])`,
        [scope.schoolTerms],
      );
      const past = await db.query(
        `SELECT code FROM school_term WHERE code = ANY($1::text[]) AND start_date <= $2::date ORDER BY start_date`,
        [scope.schoolTerms, todayIso()],
      );
      return (past as { code: string }[]).flatMap(({ code }) => {
        const lacking = Object.values(CaseloadKind).filter((k) => !held.some((h) => h.p === code && h.kind === k));
        return lacking.length ? [`${code}: no caseload counts of ${lacking.join(', ')}`] : [];
      });
    },
  },
  {
    key: 'ehcp-band-counts',
    title: 'EHCP band counts',
    table: 'ehcp_band_count',
    period: { column: 'term_code', kind: 'fundingTerm' },
    provenance: 'none',
    missing: (db, scope) =>
      perFundingTerm(
        scope,
        async (term) => {
          // Plans are counted by band from the banding start (of the parameters of record); before it, there are no bands.
          const paramsOn = recordOn(await parameterVersions(db));
          if (!bandingApplies(term.start, paramsOn(term.start))) return [];
          const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM ehcp_band_count WHERE term_code = $1`, [
            term.code,
          ]);
          return n === 0 ? [`${term.code}: no EHCP band counts`] : [];
        },
        db,
      ),
  },
  {
    key: 'safety-valve-agreement',
    title: 'Safety Valve agreement (versions)',
    table: 'safety_valve_agreement',
    period: null,
    provenance: 'columns',
    async missing(db) {
      return (await agreementOn(db)) ? [] : ['no Safety Valve agreement is held'];
    },
  },
  {
    key: 'safety-valve-plan',
    title: 'Safety Valve plan by year',
    table: 'safety_valve_plan_year',
    period: { column: 'financial_year_code', kind: 'financialYear' },
    provenance: 'columns',
    async missing(db, scope) {
      const a = await agreementOn(db);
      if (!a) return [];
      const rows: { fy: string }[] = await db.query(
        `SELECT y.fy FROM unnest($1::text[]) y(fy) WHERE y.fy BETWEEN $2 AND $3
            AND NOT EXISTS (SELECT 1 FROM safety_valve_plan_year p WHERE p.financial_year_code = y.fy) ORDER BY y.fy`,
        [scope.financialYears, a.firstFinancialYear, a.lastFinancialYear],
      );
      return rows.map(
        (r) => `${r.fy}: no Safety Valve plan for the year (agreement ${a.code} runs to ${a.lastFinancialYear})`,
      );
    },
  },
  {
    key: 'safety-valve-reports',
    title: 'Safety Valve monitoring reports',
    table: 'safety_valve_report',
    period: { column: 'financial_year_code', kind: 'financialYear' },
    provenance: 'columns',
    async missing(db, scope) {
      const a = await agreementOn(db);
      if (!a) return [];
      // Years that have ended should hold every report the agreement asks for.
      const rows: { fy: string; n: number }[] = await db.query(
        `SELECT fy.code AS fy, (SELECT count(*)::int FROM safety_valve_report r WHERE r.financial_year_code = fy.code) AS n
           FROM financial_year fy WHERE fy.code = ANY($1::text[]) AND fy.code BETWEEN $2 AND $3 AND fy.end_date < $4::date ORDER BY fy.code`,
        [scope.financialYears, a.firstFinancialYear, a.lastFinancialYear, todayIso()],
      );
      return rows
        .filter((r) => r.n < a.reportsPerYear)
        .map((r) => `${r.fy}: ${r.n} of the ${a.reportsPerYear} Safety Valve monitoring reports a year are held`);
    },
  },
  {
    key: 'safety-valve-instalments',
    title: 'Safety Valve instalments',
    table: 'safety_valve_instalment',
    period: { column: 'financial_year_code', kind: 'financialYear' },
    provenance: 'columns',
  },
  {
    key: 'safety-valve-kpis',
    title: 'Safety Valve KPIs',
    table: 'safety_valve_kpi',
    // KPIs hang off their report: its financial year is theirs.
    from: `(SELECT k.*, r.financial_year_code FROM safety_valve_kpi k JOIN safety_valve_report r ON r.period_code = k.period_code)`,
    period: { column: 'financial_year_code', kind: 'financialYear' },
    provenance: 'columns',
    async missing(db, scope) {
      const rows: { p: string }[] = await db.query(
        `SELECT r.period_code AS p FROM safety_valve_report r WHERE r.financial_year_code = ANY($1::text[])
            AND NOT EXISTS (SELECT 1 FROM safety_valve_kpi k WHERE k.period_code = r.period_code) ORDER BY r.report_date`,
        [scope.financialYears],
      );
      return rows.map((r) => `${r.p}: no KPIs for the Safety Valve report`);
    },
  },
];

export const DATASET_BY_KEY = new Map(DATASETS.map((d) => [d.key, d]));
