import Decimal from 'decimal.js';
import type { DataSource, EntityManager } from 'typeorm';
import type { Viewer } from '../../auth/roles';
import { BadInput } from '../../errors';
import { readMoney } from '../../common/money';
import { approvedTotals, fromPotTrigger, lockPots, potKey } from '../allocation/pot-lock';
import { followPotShares } from '../scenario/parameters.service';
import { writeAudit, AuditEntry } from '../audit/audit.service';
import { NotionalSenFactorCode } from '../funding/funding.entity';
import { DEFAULT_MODEL_PARAMETERS, money, protectionRate } from '../funding/model';
import { CaseloadKind } from '../caseload/caseload.entity';
import { loadPeriodCatalogue, PeriodCatalogue } from '../period/period.service';
import { ErrorList, FileRejected, RowError } from './report';
import { readTable, Table, TableOptions } from './table';
import { authorize, ACTIONS } from '../../auth/policy';
import { assertImportAllowed } from '../instance/instance';
import { looksLike } from './recognise';
import { REFERENCE_KINDS } from './reference';
import type { ParamSpec } from '../exports/params';
import { officerFileKinds } from './officer-files';
import { SAFETY_VALVE_IMPORT_KINDS } from './safety-valve-imports';
import { RECOUPMENT_KIND } from './recoupment';

/**
 * Finance imports: the figures Finance keeps in spreadsheets, from the templates the hub provides
 * (GET /import/templates/<kind>.xlsx). Same rules as allocations: the whole file is validated first,
 * every rejected row is reported with its line, column, value and reason, and it is written all or
 * nothing, in one transaction, with an audit entry per changed record.
 */

export type FieldKind = 'int' | 'money' | 'signedMoney' | 'fraction' | 'text' | 'code' | 'enum' | 'bool' | 'date';

export interface FieldSpec {
  name: string;
  kind: FieldKind;
  required: boolean;
  values?: readonly string[];
  maxLength?: number;
  description: string;
  example: string;
}

type Value = string | number | boolean | null;
export interface ImportRow {
  line: number;
  values: Record<string, Value>;
}

export interface Refs {
  periods: PeriodCatalogue;
  schools: Set<number>;
  communities: Set<string>;
  districts: Set<string>;
  /** Districts GIAS made that no areas import has placed yet. */
  unplacedDistricts: Set<string>;
  areas: Set<string>;
  workers: Set<string>;
  settings: Set<string>;
}

export type Bad = (field: string, reason: string) => void;
export type Stored = Record<string, string | number | boolean | null>;
export interface RecordChange {
  id: string;
  after: Stored;
}

/** What a kind's own `validate` makes of a file: the rows it accepts, every problem, and what it reports besides. */
export interface Validated {
  rows: ImportRow[];
  errors: ErrorList;
  ignoredColumns: string[];
  /** The records to write, when the kind derives them itself (else `records(rows)`). */
  records?: RecordChange[];
  /** Shown in the report as it is (e.g. a derivation per school, lines read but not imported). */
  details?: Record<string, unknown>;
}

export interface ImportKind {
  kind: string;
  title: string;
  description: string;
  fields: FieldSpec[];
  /** Fields identifying a record: a key that appears twice rejects both lines. */
  key: string[];
  /** Checks that need reference data. */
  check(row: ImportRow, refs: Refs, bad: Bad): void;
  /** Records as stored, keyed by id; the generic apply diffs them against `load` and writes the changed ones. */
  records?(rows: ImportRow[]): RecordChange[];
  load?(tx: EntityManager, ids: string[]): Promise<Map<string, Stored>>;
  write?(tx: EntityManager, changed: RecordChange[], existing: Map<string, Stored>, src: ImportSource): Promise<void>;
  /** Checks against the stored state, run inside the write transaction (e.g. a pot below its approved allocations). */
  checkAgainstStore?(tx: EntityManager, rows: ImportRow[], errors: ErrorList): Promise<void>;
  /** For kinds that replace sets of rows rather than upsert records. */
  apply?(tx: EntityManager, rows: ImportRow[]): Promise<ApplyResult>;
  /** How the file is read (published layouts: their sheet, title rows above the header, wide tables). */
  table?: TableOptions;
  /** Upload limit of POST /import/<kind> when the published file is larger than a template (default UPLOAD_LIMITS.financeBytes). */
  maxBytes?: number;
  /** Settings a file does not carry (e.g. its financial year): query parameters of POST /import/<kind>, --flags of the CLI. */
  options?: ParamSpec[];
  /** A published layout the kind reads itself, instead of the template's columns (validateTable). */
  validate?(tx: EntityManager, table: Table, refs: Refs, options: ImportOptionValues): Promise<Validated>;
  /** The report's details as lines for the command line. */
  detailLines?(details: Record<string, unknown>): string[];
}

export type ImportOptionValues = Record<string, string | number | null>;

/** Who imported what: the provenance written on every figure an import sets. */
export interface ImportSource {
  file: string;
  by: string;
}

export interface ApplyResult {
  created: number;
  updated: number;
  unchanged: number;
  audit: AuditEntry[];
  /** What changed, in plain words (e.g. a school moving between communities), for the report. */
  notes?: string[];
}

const CODE_RE = /^[A-Za-z0-9][A-Za-z0-9_/-]{0,39}$/;

const URN_FIELD: FieldSpec = {
  name: 'schoolUrn',
  kind: 'int',
  required: true,
  description: 'School URN.',
  example: '118001',
};
const FY_FIELD: FieldSpec = {
  name: 'financialYear',
  kind: 'code',
  required: true,
  description: 'Financial year code, e.g. 2025-26.',
  example: '2025-26',
};
const TERM_FIELD: FieldSpec = {
  name: 'term',
  kind: 'code',
  required: true,
  description: 'Funding term code, e.g. AUTUMN-2025.',
  example: 'AUTUMN-2025',
};

export function requireTerm(refs: Refs, row: ImportRow, bad: Bad) {
  if (!refs.periods.fundingTermByCode.has(row.values.term as string))
    bad('term', `is not a funding term (${refs.periods.fundingTerms.map((x) => x.code).join(', ')})`);
}
export function requireYear(refs: Refs, row: ImportRow, bad: Bad) {
  if (!refs.periods.financialYearByCode.has(row.values.financialYear as string)) {
    bad('financialYear', `is not a financial year (${refs.periods.financialYears.map((x) => x.code).join(', ')})`);
  }
}
export function requireSchool(refs: Refs, row: ImportRow, bad: Bad) {
  const u = row.values.schoolUrn as number | null;
  if (u !== null && !refs.schools.has(u)) bad('schoolUrn', 'is not a school in the hub');
}

/** Stored and new values compared as exact decimals where both are numbers, so "15.00" equals "15". */
function differs(before: Stored, after: Stored): boolean {
  return Object.keys(after).some((k) => {
    const a = before[k] ?? null;
    const b = after[k] ?? null;
    if (a === null || b === null) return a !== b;
    const num = /^-?\d+(\.\d+)?$/;
    if (num.test(String(a)) && num.test(String(b))) return !new Decimal(String(a)).eq(String(b));
    return String(a) !== String(b);
  });
}

export const unnestKeys = (ids: string[], n: number) =>
  Array.from({ length: n }, (_, i) => ids.map((id) => id.split('|')[i]));

export const IMPORT_KINDS: ImportKind[] = [
  {
    kind: 'notional-sen',
    title: 'Notional SEN factor inputs',
    description:
      "Each school's formula amount and SEN percentage per factor for a financial year. The hub computes the notional SEN amount (formula amount x percentage, rounded half up to the penny).",
    fields: [
      URN_FIELD,
      FY_FIELD,
      {
        name: 'factor',
        kind: 'enum',
        required: true,
        values: Object.values(NotionalSenFactorCode),
        description: 'Formula factor.',
        example: 'FSM_EVER6',
      },
      {
        name: 'formulaAmount',
        kind: 'money',
        required: true,
        description: "The school's allocation through the factor (£).",
        example: '48210.00',
      },
      {
        name: 'senPercentage',
        kind: 'fraction',
        required: true,
        description: 'Share counted as notional SEN, 0 to 1 with up to 4 decimals (0.70 = 70%).',
        example: '0.70',
      },
    ],
    key: ['schoolUrn', 'financialYear', 'factor'],
    check(row, refs, bad) {
      requireSchool(refs, row, bad);
      requireYear(refs, row, bad);
    },
    records: (rows) =>
      rows.map(({ values: v }) => {
        const pct = new Decimal(v.senPercentage as string).toFixed(4);
        return {
          id: `${v.schoolUrn}|${v.financialYear}|${v.factor}`,
          after: {
            formulaAmount: money(v.formulaAmount as string),
            senPercentage: pct,
            senAmount: money(new Decimal(v.formulaAmount as string).times(pct)),
          },
        };
      }),
    async load(tx, ids) {
      const [u, y, f] = unnestKeys(ids, 3);
      const rows: (Stored & { id: string })[] = await tx.query(
        `SELECT f.school_urn || '|' || f.financial_year_code || '|' || f.factor AS id, f.formula_amount AS "formulaAmount",
                f.sen_percentage AS "senPercentage", f.sen_amount AS "senAmount"
           FROM unnest($1::int[], $2::text[], $3::text[]) x(u, y, f)
           JOIN notional_sen_factor f ON f.school_urn = x.u AND f.financial_year_code = x.y AND f.factor = x.f`,
        [u.map(Number), y, f],
      );
      return new Map(rows.map(({ id, ...rest }) => [id, rest]));
    },
    async write(tx, changed, _existing, src) {
      const [u, y, f] = unnestKeys(
        changed.map((c) => c.id),
        3,
      );
      await tx.query(
        `INSERT INTO notional_sen_factor (school_urn, financial_year_code, factor, formula_amount, sen_percentage, sen_amount, source_kind, source_file, source_by, source_at)
         SELECT u, y, f, a, p, s, 'IMPORTED', $7, $8, now() FROM unnest($1::int[], $2::text[], $3::text[], $4::numeric[], $5::numeric[], $6::numeric[]) x(u, y, f, a, p, s)
         ON CONFLICT (school_urn, financial_year_code, factor) DO UPDATE SET formula_amount = EXCLUDED.formula_amount,
           sen_percentage = EXCLUDED.sen_percentage, sen_amount = EXCLUDED.sen_amount, source_kind = 'IMPORTED', source_file = EXCLUDED.source_file,
           source_by = EXCLUDED.source_by, source_at = EXCLUDED.source_at, source_parameter_version = NULL`,
        [
          u.map(Number),
          y,
          f,
          changed.map((c) => c.after.formulaAmount),
          changed.map((c) => c.after.senPercentage),
          changed.map((c) => c.after.senAmount),
          src.file,
          src.by,
        ],
      );
    },
  },
  {
    kind: 'baseline-funding',
    title: 'Baseline high-needs funding per school',
    description:
      "Each school's previous individual high-needs funding for a term of this length (the baseline). The protected amount is recomputed as baseline x " +
      "the term's protection rate (the stored rate, or the model's default for a new school and term).",
    fields: [
      URN_FIELD,
      TERM_FIELD,
      {
        name: 'baseline',
        kind: 'money',
        required: true,
        description: 'Baseline for the term (£).',
        example: '12500.00',
      },
    ],
    key: ['schoolUrn', 'term'],
    check(row, refs, bad) {
      requireSchool(refs, row, bad);
      requireTerm(refs, row, bad);
    },
    records: (rows) =>
      rows.map(({ values: v }) => ({
        id: `${v.schoolUrn}|${v.term}`,
        after: { baseline: money(v.baseline as string) },
      })),
    async load(tx, ids) {
      const [u, t] = unnestKeys(ids, 2);
      const rows: (Stored & { id: string })[] = await tx.query(
        `SELECT f.school_urn || '|' || f.term_code AS id, f.baseline, f.protection_rate AS "protectionRate", f.protected_amount AS "protectedAmount"
           FROM unnest($1::int[], $2::text[]) x(u, t) JOIN school_term_funding f ON f.school_urn = x.u AND f.term_code = x.t`,
        [u.map(Number), t],
      );
      return new Map(rows.map(({ id, ...rest }) => [id, rest]));
    },
    async write(tx, changed, existing, src) {
      for (const c of changed) {
        const term = c.id.split('|')[1];
        const rate =
          (existing.get(c.id)?.protectionRate as string | undefined) ?? protectionRate(term, DEFAULT_MODEL_PARAMETERS);
        c.after.protectionRate = new Decimal(rate).toFixed(4);
        c.after.protectedAmount = money(new Decimal(c.after.baseline as string).times(rate));
      }
      const [u, t] = unnestKeys(
        changed.map((c) => c.id),
        2,
      );
      await tx.query(
        `INSERT INTO school_term_funding (school_urn, term_code, baseline, protection_rate, protected_amount, community_share, banded_top_up, source_kind, source_file, source_by, source_at)
         SELECT u, t, b, r, p, 0, 0, 'IMPORTED', $6, $7, now() FROM unnest($1::int[], $2::text[], $3::numeric[], $4::numeric[], $5::numeric[]) x(u, t, b, r, p)
         ON CONFLICT (school_urn, term_code) DO UPDATE SET baseline = EXCLUDED.baseline, protected_amount = EXCLUDED.protected_amount,
           source_kind = 'IMPORTED', source_file = EXCLUDED.source_file, source_by = EXCLUDED.source_by, source_at = EXCLUDED.source_at`,
        [
          u.map(Number),
          t,
          changed.map((c) => c.after.baseline),
          changed.map((c) => c.after.protectionRate),
          changed.map((c) => c.after.protectedAmount),
          src.file,
          src.by,
        ],
      );
    },
  },
  {
    kind: 'community-pots',
    title: 'Community pots',
    description:
      "Each Community of Schools' pot for a funding term. A pot may not be set below the allocations already approved from it.",
    fields: [
      {
        name: 'communityCode',
        kind: 'code',
        required: true,
        description: 'Community code, e.g. ASH-01.',
        example: 'ASH-01',
      },
      TERM_FIELD,
      { name: 'amount', kind: 'money', required: true, description: 'The pot (£).', example: '412000.00' },
    ],
    key: ['communityCode', 'term'],
    check(row, refs, bad) {
      if (!refs.communities.has(row.values.communityCode as string))
        bad('communityCode', 'is not a Community of Schools in the hub');
      requireTerm(refs, row, bad);
    },
    async checkAgainstStore(tx, rows, errors) {
      // Lock the pots in the one order every writer uses before reading what is approved from them.
      const keys = rows.map((r) => ({
        communityCode: r.values.communityCode as string,
        term: r.values.term as string,
      }));
      await lockPots(tx, keys);
      const approved = await approvedTotals(tx, keys);
      for (const r of rows) {
        const total = approved.get(potKey(r.values.communityCode as string, r.values.term as string));
        if (total && new Decimal(r.values.amount as string).lt(total)) {
          errors.add({
            line: r.line,
            column: 'amount',
            value: String(r.values.amount),
            reason: `is below the £${total.toFixed(2)} already approved from this pot (${r.values.communityCode} ${r.values.term}): withdraw or reduce those allocations first`,
          });
        }
      }
    },
    records: (rows) =>
      rows.map(({ values: v }) => ({
        id: `${v.communityCode}|${v.term}`,
        after: { amount: money(v.amount as string) },
      })),
    async load(tx, ids) {
      const [c, t] = unnestKeys(ids, 2);
      const rows: (Stored & { id: string })[] = await tx.query(
        `SELECT p.community_code || '|' || p.term_code AS id, p.amount FROM unnest($1::text[], $2::text[]) x(c, t)
           JOIN community_pot p ON p.community_code = x.c AND p.term_code = x.t`,
        [c, t],
      );
      return new Map(rows.map(({ id, ...rest }) => [id, rest]));
    },
    async write(tx, changed, _existing, src) {
      const [c, t] = unnestKeys(
        changed.map((x) => x.id),
        2,
      );
      await tx.query(
        `INSERT INTO community_pot (community_code, term_code, amount, source_kind, source_file, source_by, source_at)
         SELECT c, t, a, 'IMPORTED', $4, $5, now() FROM unnest($1::text[], $2::text[], $3::numeric[]) x(c, t, a)
         ON CONFLICT (community_code, term_code) DO UPDATE SET amount = EXCLUDED.amount, source_kind = 'IMPORTED', source_file = EXCLUDED.source_file,
           source_by = EXCLUDED.source_by, source_at = EXCLUDED.source_at, source_parameter_version = NULL`,
        [c, t, changed.map((x) => x.after.amount), src.file, src.by],
      );
      // The schools' shares follow the imported pot.
      await followPotShares(
        tx,
        changed.map((x) => ({
          communityCode: x.id.split('|')[0],
          term: x.id.split('|')[1],
          amount: x.after.amount as string,
        })),
      );
    },
  },
  {
    kind: 'hn-block-lines',
    title: 'High Needs block budget lines',
    description: 'Budget, forecast and outturn of each High Needs block line for a financial year.',
    fields: [
      FY_FIELD,
      {
        name: 'lineCode',
        kind: 'code',
        required: true,
        maxLength: 40,
        description: 'Line code (letters, digits, _ and -).',
        example: 'COMMUNITY_POTS',
      },
      {
        name: 'name',
        kind: 'text',
        required: true,
        maxLength: 120,
        description: 'Line name.',
        example: 'Communities of Schools pots',
      },
      { name: 'sortOrder', kind: 'int', required: true, description: 'Display order.', example: '10' },
      {
        name: 'budget',
        kind: 'signedMoney',
        required: true,
        description: 'Budget (£; negative for income).',
        example: '42000000.00',
      },
      {
        name: 'forecast',
        kind: 'signedMoney',
        required: true,
        description: 'Latest forecast (£).',
        example: '43150000.00',
      },
      {
        name: 'outturn',
        kind: 'signedMoney',
        required: false,
        description: 'Outturn once the year has closed (£), else empty.',
        example: '',
      },
      {
        name: 'memo',
        kind: 'bool',
        required: false,
        description: 'TRUE for memorandum lines not spent from the block (default FALSE).',
        example: 'FALSE',
      },
    ],
    key: ['financialYear', 'lineCode'],
    check(row, refs, bad) {
      requireYear(refs, row, bad);
    },
    records: (rows) =>
      rows.map(({ values: v }) => ({
        id: `${v.financialYear}|${v.lineCode}`,
        after: {
          name: v.name as string,
          sortOrder: v.sortOrder as number,
          budget: money(v.budget as string),
          forecast: money(v.forecast as string),
          outturn: v.outturn === null ? null : money(v.outturn as string),
          memo: v.memo === null ? false : (v.memo as boolean),
        },
      })),
    async load(tx, ids) {
      const [y, l] = unnestKeys(ids, 2);
      const rows: (Stored & { id: string })[] = await tx.query(
        `SELECT b.financial_year_code || '|' || b.line_code AS id, b.name, b.sort_order AS "sortOrder", b.budget, b.forecast, b.outturn, b.memo
           FROM unnest($1::text[], $2::text[]) x(y, l) JOIN high_needs_block_line b ON b.financial_year_code = x.y AND b.line_code = x.l`,
        [y, l],
      );
      return new Map(rows.map(({ id, ...rest }) => [id, rest]));
    },
    async write(tx, changed, _existing, src) {
      const [y, l] = unnestKeys(
        changed.map((c) => c.id),
        2,
      );
      const col = (k: string) => changed.map((c) => c.after[k]);
      await tx.query(
        `INSERT INTO high_needs_block_line (financial_year_code, line_code, name, sort_order, budget, forecast, outturn, memo, source_kind, source_file, source_by, source_at)
         SELECT y, l, n, o, b, f, u, m, 'IMPORTED', $9, $10, now()
           FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::numeric[], $6::numeric[], $7::numeric[], $8::bool[]) x(y, l, n, o, b, f, u, m)
         ON CONFLICT (financial_year_code, line_code) DO UPDATE SET name = EXCLUDED.name, sort_order = EXCLUDED.sort_order, budget = EXCLUDED.budget,
           forecast = EXCLUDED.forecast, outturn = EXCLUDED.outturn, memo = EXCLUDED.memo, source_kind = 'IMPORTED', source_file = EXCLUDED.source_file,
           source_by = EXCLUDED.source_by, source_at = EXCLUDED.source_at, source_parameter_version = NULL`,
        [
          y,
          l,
          col('name'),
          col('sortOrder'),
          col('budget'),
          col('forecast'),
          col('outturn'),
          col('memo'),
          src.file,
          src.by,
        ],
      );
    },
  },
  {
    kind: 'caseloads',
    title: 'Caseload counts',
    description:
      'Caseload counts (numbers only, never a child) for a kind and school term. The file replaces every count the hub holds for each kind and term it ' +
      'contains; kinds and terms not in the file are left as they are.',
    fields: [
      {
        name: 'kind',
        kind: 'enum',
        required: true,
        values: Object.values(CaseloadKind),
        description: 'What is counted.',
        example: 'EHCP_PLANS',
      },
      {
        name: 'period',
        kind: 'code',
        required: true,
        description: 'School term code, e.g. 2025/26-T1.',
        example: '2025/26-T1',
      },
      { name: 'districtCode', kind: 'code', required: true, description: 'ONS district code.', example: 'E07000105' },
      {
        name: 'workerCode',
        kind: 'code',
        required: false,
        description: "Worker code (pseudonymous), when the count is a worker's.",
        example: 'EO-001',
      },
      {
        name: 'schoolUrn',
        kind: 'int',
        required: false,
        description: 'School URN, when the count is held against a school.',
        example: '118001',
      },
      {
        name: 'settingUrn',
        kind: 'code',
        required: false,
        description: 'Early years setting URN, when held against a setting.',
        example: '',
      },
      { name: 'count', kind: 'int', required: true, description: 'The count (0 or more).', example: '23' },
    ],
    key: ['kind', 'period', 'districtCode', 'workerCode', 'schoolUrn', 'settingUrn'],
    check(row, refs, bad) {
      const v = row.values;
      if (!refs.periods.schoolTermByCode.has(v.period as string))
        bad('period', `is not a school term (e.g. ${refs.periods.schoolTerms[0]?.code})`);
      if (!refs.districts.has(v.districtCode as string)) bad('districtCode', 'is not a district in the hub');
      if (v.workerCode !== null && !refs.workers.has(v.workerCode as string))
        bad('workerCode', 'is not a caseload worker in the hub');
      if (v.settingUrn !== null && !refs.settings.has(v.settingUrn as string))
        bad('settingUrn', 'is not an early years setting in the hub');
      requireSchool(refs, row, bad);
    },
    async apply(tx, rows) {
      const sets = new Map<string, ImportRow[]>();
      for (const r of rows) {
        const k = `${r.values.kind}|${r.values.period}`;
        sets.set(k, [...(sets.get(k) ?? []), r]);
      }
      const audit: AuditEntry[] = [];
      let created = 0;
      let updated = 0;
      let unchanged = 0;
      for (const [k, set] of sets) {
        const [kind, period] = k.split('|');
        const cell = (r: {
          districtCode: unknown;
          workerCode: unknown;
          schoolUrn: unknown;
          settingUrn: unknown;
          count: unknown;
        }) => `${r.districtCode}|${r.workerCode ?? ''}|${r.schoolUrn ?? ''}|${r.settingUrn ?? ''}|${r.count}`;
        const before: {
          districtCode: string;
          workerCode: string | null;
          schoolUrn: number | null;
          settingUrn: string | null;
          count: number;
        }[] = await tx.query(
          `SELECT district_code AS "districtCode", worker_code AS "workerCode", school_urn AS "schoolUrn", setting_urn AS "settingUrn", count
             FROM caseload_count WHERE kind = $1 AND period_code = $2`,
          [kind, period],
        );
        const a = before.map(cell).sort();
        const b = set.map((r) => cell(r.values as never)).sort();
        if (a.length === b.length && a.every((x, i) => x === b[i])) {
          unchanged += set.length;
          continue;
        }
        if (before.length) updated += set.length;
        else created += set.length;
        await tx.query(`DELETE FROM caseload_count WHERE kind = $1 AND period_code = $2`, [kind, period]);
        const col = (f: string) => set.map((r) => r.values[f]);
        await tx.query(
          `INSERT INTO caseload_count (kind, period_code, district_code, worker_code, school_urn, setting_urn, count)
           SELECT $1, $2, d, w, s, e, c FROM unnest($3::text[], $4::text[], $5::int[], $6::text[], $7::int[]) x(d, w, s, e, c)`,
          [kind, period, col('districtCode'), col('workerCode'), col('schoolUrn'), col('settingUrn'), col('count')],
        );
        const total = (xs: { count?: unknown }[]) => xs.reduce((s, x) => s + Number(x.count), 0);
        audit.push({
          entity: 'IMPORT',
          entityId: `caseloads:${k}`,
          action: 'REPLACE',
          before: { cells: before.length, total: total(before) },
          after: { cells: set.length, total: total(set.map((r) => r.values)) },
        });
      }
      return { created, updated, unchanged, audit };
    },
  },
  ...REFERENCE_KINDS,
  // The files officers hold as the DfE publishes them; they write as the kinds above do (looked up when they run).
  ...officerFileKinds((name) => IMPORT_KIND_BY_NAME.get(name)!),
  ...SAFETY_VALVE_IMPORT_KINDS,
  RECOUPMENT_KIND,
];

export const IMPORT_KIND_BY_NAME = new Map(IMPORT_KINDS.map((k) => [k.kind, k]));

export function requireKind(kind: string): ImportKind {
  const k = IMPORT_KIND_BY_NAME.get(kind);
  if (!k)
    throw new BadInput(`Unknown import "${kind}". Imports: ${IMPORT_KINDS.map((x) => x.kind).join(', ')}.`, 'kind', {
      validValues: [...IMPORT_KIND_BY_NAME.keys()],
    });
  return k;
}

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
    case 'fraction':
      if (!/^\d(\.\d{1,4})?$/.test(text) || new Decimal(text).gt(1))
        return (bad(f.name, 'must be a share from 0 to 1 with at most 4 decimal places, e.g. 0.70'), undefined);
      return text;
    case 'enum': {
      const v = text.toUpperCase();
      if (!f.values!.includes(v)) return (bad(f.name, `is not one of ${f.values!.join(', ')}`), undefined);
      return v;
    }
    case 'bool': {
      const v = text.toUpperCase();
      if (['TRUE', 'YES', 'Y', '1'].includes(v)) return true;
      if (['FALSE', 'NO', 'N', '0'].includes(v)) return false;
      return (bad(f.name, 'must be TRUE or FALSE'), undefined);
    }
    case 'date': {
      // ISO as the templates and Excel's dates give it, or the UK's day/month/year as people type it.
      const uk = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text);
      const iso = uk ? `${uk[3]}-${uk[2].padStart(2, '0')}-${uk[1].padStart(2, '0')}` : text;
      const d = /^\d{4}-\d{2}-\d{2}$/.test(iso) ? new Date(`${iso}T00:00:00Z`) : null;
      if (!d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== iso)
        return (bad(f.name, 'must be a date, YYYY-MM-DD or DD/MM/YYYY (e.g. 2026-09-01)'), undefined);
      return iso;
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

export interface FinanceImportReport {
  kind: string;
  format: 'csv' | 'xlsx';
  applied: boolean;
  dryRun: boolean;
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
  errorCount: number;
  errors: RowError[];
  ignoredColumns: string[];
  /** What changed, in plain words, when the kind reports it (e.g. community moves). */
  notes: string[];
  message: string;
  /** Kind-specific: what was derived, split or left out (see the kind's description). */
  details?: Record<string, unknown>;
}

async function loadRefs(db: EntityManager): Promise<Refs> {
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

/** Validates a whole table: every problem, in every row, before anything is written. */
export function validateTable(kind: ImportKind, table: Table, refs: Refs): Validated {
  const run = validating(kind, table, refs);
  for (let step = run.next(); ; step = run.next()) if (step.done) return step.value;
}

/** validateTable, letting the event loop serve other requests every few thousand rows (a 20 MB file is 177,000). */
export async function validateTableYielding(kind: ImportKind, table: Table, refs: Refs): Promise<Validated> {
  const run = validating(kind, table, refs);
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
function* validating(kind: ImportKind, table: Table, refs: Refs): Generator<void, Validated> {
  const missing = kind.fields.filter((f) => f.required && !table.header.includes(f.name));
  if (missing.length) {
    throw new FileRejected(
      `The file lacks the column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m.name}"`).join(', ')} (line 1) of the ${kind.kind} template: ` +
        `expected ${kind.fields.map((f) => f.name).join(', ')}.${looksLike(table, kind, IMPORT_KINDS)}`,
      missing.map((m) => ({
        line: 1,
        column: m.name,
        value: null,
        reason: 'required column is missing from the header',
      })),
    );
  }
  const known = new Set(kind.fields.map((f) => f.name));
  const ignoredColumns = table.header.filter((h) => h !== '' && !known.has(h));
  const errors = new ErrorList();
  const rows: ImportRow[] = [];
  const seen = new Map<string, number>();
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
    const first = seen.get(key);
    if (first !== undefined) {
      errors.add({
        line,
        column: kind.key.join(', '),
        value: key,
        reason: `the same ${kind.key.join(' + ')} appears twice, on lines ${first} and ${line}: keep one`,
      });
      errors.rejectedLines.add(first);
      continue;
    }
    seen.set(key, line);
    rows.push({ line, values });
  }
  if (cells.length === 0) throw new FileRejected('The file has a header but no rows.', []);
  return { rows, errors, ignoredColumns };
}

export interface FinanceImportOptions {
  viewer: Viewer;
  source: 'API' | 'IMPORT';
  fileName: string;
  dryRun?: boolean;
  /** The kind's options (ImportKind.options), already parsed. */
  options?: ImportOptionValues;
}

export async function importFinance(
  ds: DataSource,
  kindName: string,
  file: Buffer,
  opts: FinanceImportOptions,
): Promise<FinanceImportReport> {
  authorize(opts.viewer, ACTIONS.import, 'import');
  const kind = requireKind(kindName);
  await assertImportAllowed(ds);
  // A template's own columns are all it reads: the others' cells are dropped as the file is read.
  const table = await readTable(
    file,
    kind.validate ? kind.table : { ...kind.table, columns: kind.fields.map((f) => f.name) },
  );
  return ds
    .transaction(async (tx) => {
      const refs = await loadRefs(tx);
      const validated: Validated = kind.validate
        ? await kind.validate(tx, table, refs, opts.options ?? {})
        : await validateTableYielding(kind, table, refs);
      const { rows, errors, ignoredColumns } = validated;
      if (errors.count === 0) await kind.checkAgainstStore?.(tx, rows, errors);
      const report: FinanceImportReport = {
        kind: kind.kind,
        format: table.format,
        applied: false,
        dryRun: Boolean(opts.dryRun),
        rows: table.rows.length,
        created: 0,
        updated: 0,
        unchanged: 0,
        rejected: errors.rejectedLines.size,
        errorCount: errors.count,
        errors: errors.items,
        ignoredColumns,
        notes: [],
        message: '',
        ...(validated.details ? { details: validated.details } : {}),
      };
      if (errors.count > 0) {
        report.message = `Nothing imported: ${errors.count} problem${errors.count > 1 ? 's' : ''} in ${report.rejected} row${report.rejected > 1 ? 's' : ''}. Fix them and import the file again.`;
        return report;
      }
      let result: ApplyResult;
      if (kind.apply) {
        result = await kind.apply(tx, rows);
      } else {
        const records = validated.records ?? kind.records!(rows);
        const existing = await kind.load!(
          tx,
          records.map((r) => r.id),
        );
        const changed = records.filter((r) => !existing.has(r.id) || differs(existing.get(r.id)!, r.after));
        if (changed.length) await kind.write!(tx, changed, existing, { file: opts.fileName, by: opts.viewer.name });
        result = {
          created: changed.filter((c) => !existing.has(c.id)).length,
          updated: changed.filter((c) => existing.has(c.id)).length,
          unchanged: records.length - changed.length,
          audit: changed.map((c) => ({
            entity: 'IMPORT' as const,
            entityId: `${kind.kind}:${c.id}`.slice(0, 80),
            action: existing.has(c.id) ? 'UPDATE' : 'CREATE',
            before: existing.get(c.id) ?? null,
            after: c.after,
          })),
        };
      }
      Object.assign(report, {
        created: result.created,
        updated: result.updated,
        unchanged: result.unchanged,
        notes: result.notes ?? [],
      });
      const verb = opts.dryRun ? 'Dry run: would create' : 'Imported: created';
      report.message = `${verb} ${result.created}, updated ${result.updated}; ${result.unchanged} unchanged.`;
      if (opts.dryRun) {
        // Validation and the diff ran against the real tables inside this transaction; roll it back.
        throw new DryRun(report);
      }
      await writeAudit(
        tx,
        { viewer: opts.viewer, source: opts.source, reason: `${kind.title} import of ${opts.fileName}` },
        result.audit,
      );
      report.applied = result.audit.length > 0;
      return report;
    })
    .catch((err) => {
      if (err instanceof DryRun) return err.report;
      throw fromPotTrigger(err, `The ${kind.kind} import`) ?? err;
    });
}

class DryRun extends Error {
  constructor(readonly report: FinanceImportReport) {
    super('dry run');
  }
}
