import Decimal from 'decimal.js';
import { approvedTotals, lockPots, potKey } from '../allocation/pot-lock';
import { followPotShares } from '../scenario/parameters.service';
import type { AuditEntry } from '../audit/audit.service';
import { NotionalSenFactorCode } from '../funding/funding.entity';
import { DEFAULT_MODEL_PARAMETERS, money, protectionRate } from '../funding/model';
import { CaseloadKind } from '../caseload/caseload.entity';
import type { ImportKind, ImportRow, RecordStore, RecordsImport, ReplaceImport } from './kinds';
import {
  FY_FIELD,
  loadBy,
  sourcedStore,
  requireSchool,
  requireTerm,
  requireYear,
  TERM_FIELD,
  unnestKeys,
  URN_FIELD,
} from './kind-parts';

/**
 * The finance family of imports: the figures Finance keeps in spreadsheets, from the templates the hub provides
 * (notional SEN factors, baselines, community pots, the High Needs block lines, caseload counts). Their stores
 * are the ones the published layouts (officer-files.ts) write through as well.
 */

/** notional_sen_factor: one row per school, financial year and factor. */
export const NOTIONAL_SEN_STORE = sourcedStore({
  table: 'notional_sen_factor',
  keys: [
    ['school_urn', 'int'],
    ['financial_year_code', 'text'],
    ['factor', 'text'],
  ],
  columns: {
    formulaAmount: ['formula_amount', 'numeric'],
    senPercentage: ['sen_percentage', 'numeric'],
    senAmount: ['sen_amount', 'numeric'],
  },
});

/** school_term_funding's baseline; the protected amount follows at the term's rate. */
export const BASELINE_STORE: RecordStore = {
  async load(tx, ids) {
    const [u, t] = unnestKeys(ids, 2);
    return loadBy(
      tx,
      `SELECT f.school_urn || '|' || f.term_code AS id, f.baseline, f.protection_rate AS "protectionRate", f.protected_amount AS "protectedAmount"
         FROM unnest($1::int[], $2::text[]) x(u, t) JOIN school_term_funding f ON f.school_urn = x.u AND f.term_code = x.t`,
      [u.map(Number), t],
    );
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
};

/** community_pot; the schools' shares follow the pot. */
export const POT_STORE = sourcedStore({
  table: 'community_pot',
  keys: [
    ['community_code', 'text'],
    ['term_code', 'text'],
  ],
  columns: { amount: ['amount', 'numeric'] },
  // The schools' shares follow the imported pot.
  then: (tx, changed) =>
    followPotShares(
      tx,
      changed.map((x) => ({
        communityCode: x.id.split('|')[0],
        term: x.id.split('|')[1],
        amount: x.after.amount as string,
      })),
    ),
});

/** high_needs_block_line: one row per financial year and line. */
export const BLOCK_LINE_STORE = sourcedStore({
  table: 'high_needs_block_line',
  keys: [
    ['financial_year_code', 'text'],
    ['line_code', 'text'],
  ],
  columns: {
    name: ['name', 'text'],
    sortOrder: ['sort_order', 'int'],
    budget: ['budget', 'numeric'],
    forecast: ['forecast', 'numeric'],
    outturn: ['outturn', 'numeric'],
    memo: ['memo', 'bool'],
  },
});
const notionalSen: RecordsImport = {
  kind: 'notional-sen',
  mode: 'records',
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
  store: NOTIONAL_SEN_STORE,
};

const baselineFunding: RecordsImport = {
  kind: 'baseline-funding',
  mode: 'records',
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
  store: BASELINE_STORE,
};

const communityPots: RecordsImport = {
  kind: 'community-pots',
  mode: 'records',
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
  store: POT_STORE,
};

const blockLines: RecordsImport = {
  kind: 'hn-block-lines',
  mode: 'records',
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
  store: BLOCK_LINE_STORE,
};

const caseloads: ReplaceImport = {
  kind: 'caseloads',
  mode: 'replace',
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
};
/** The finance family, in the order the templates are listed. */
export const FINANCE_KINDS: ImportKind[] = [notionalSen, baselineFunding, communityPots, blockLines, caseloads];
