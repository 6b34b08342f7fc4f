import { excelDate } from './format';
import { OPERATIONS } from './operations.generated';
import { SCHOOL_DATASET_COLUMNS } from './school-fields.generated';
import { FUNDING_LINE_COLUMNS } from './funding-fields.generated';
import type { CellValue, ColumnDef } from './types';

/** The subset of the hub client the datasets need; tests pass a fake. */
export interface Requester {
  request<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

export interface DatasetParams {
  districtCode?: string;
  communityCode?: string;
  phase?: string;
  term?: string;
  year?: string;
  scenario?: string;
  kind?: string;
  period?: string;
  status?: string;
  groupBy?: string;
}
export type FilterName = keyof DatasetParams;

export interface DatasetDef {
  id: string;
  label: string;
  filters: FilterName[];
  required: FilterName[];
  columns: ColumnDef[];
  /** Rows as the hub sent them: Money stays a string here and becomes a number only when written. */
  /** onPage is told the rows received so far and the total; it may throw to cancel the pull. */
  fetch(hub: Requester, p: DatasetParams, onPage?: OnPage): Promise<CellValue[][]>;
}

export const PAGE_SIZE = 1000;
export type OnPage = (received: number, total?: number) => void;

interface Connection<N> {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  nodes: N[];
}

/** Follows a Relay connection to its end; a page that makes no progress stops the loop. */
export async function fetchAllPages<N>(
  hub: Requester,
  query: string,
  variables: Record<string, unknown>,
  pick: (data: any) => Connection<N>,
  onPage?: OnPage,
): Promise<N[]> {
  const out: N[] = [];
  let after: string | null = null;
  for (;;) {
    const conn = pick(await hub.request(query, { ...variables, first: PAGE_SIZE, after }));
    out.push(...conn.nodes);
    onPage?.(out.length, conn.totalCount);
    if (!conn.pageInfo.hasNextPage || !conn.pageInfo.endCursor || conn.pageInfo.endCursor === after) return out;
    after = conn.pageInfo.endCursor;
  }
}

function schoolFilter(p: DatasetParams): Record<string, unknown> | null {
  const f: Record<string, unknown> = {};
  if (p.districtCode) f.districtCode = p.districtCode;
  if (p.communityCode) f.communityCode = p.communityCode;
  if (p.phase) f.phase = [p.phase];
  return Object.keys(f).length ? f : null;
}

const t = (header: string): ColumnDef => ({ header, kind: 'text' });
const i = (header: string): ColumnDef => ({ header, kind: 'int' });
const m = (header: string): ColumnDef => ({ header, kind: 'money' });
const d = (header: string): ColumnDef => ({ header, kind: 'decimal' });
const rate = (header: string): ColumnDef => ({ header, kind: 'rate' });
const v = (x: unknown): CellValue => (x === undefined ? null : (x as CellValue));
/** The value at a path in an answer (`['community', 'code']`), undefined where a step is missing. */
const valueAt = (x: any, path: readonly string[]): unknown => path.reduce((o, k) => o?.[k], x);

/** Allocation table headers; the diff finds columns by these names, so they are part of the contract. */
export const ALLOCATION_COLUMNS: ColumnDef[] = [
  t('Id'),
  i('School URN'),
  t('School'),
  t('Community'),
  t('Term'),
  { header: 'Amount', kind: 'money', editable: true },
  { header: 'Status', kind: 'text', editable: true },
  t('Purpose'),
  i('Version'),
];

/** A Money string, or null when absent (a year with no plan, a closed year without a record). */
const orNull = (x: unknown): CellValue => (x === undefined || x === null ? null : (x as CellValue));
const minus = (a: unknown, b: unknown): CellValue => {
  if (typeof a !== 'string' || typeof b !== 'string') return null;
  const toPence = (s: string) => {
    const [w, f = ''] = s.replace('-', '').split('.');
    const v = BigInt(w) * 100n + BigInt((f + '00').slice(0, 2));
    return s.startsWith('-') ? -v : v;
  };
  const d = toPence(a) - toPence(b);
  const abs = d < 0n ? -d : d;
  return `${d < 0n ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
};

/**
 * A scenario's whole High Needs block (schema/operations/ScenarioBlock.graphql): per financial year to the
 * end of the Safety Valve agreement, every block line, the income and the DSG position, each beside the figure
 * of record (and the plan, for the position). Drivers the hub found missing are rows of their own, so a line
 * short of its drivers is never read as complete.
 */
export const SCENARIO_BLOCK: DatasetDef = {
  id: 'scenarioBlock',
  label: 'Scenario: block and trajectory',
  filters: ['scenario'],
  required: ['scenario'],
  columns: [
    t('Financial year'),
    t('Section'),
    t('Code'),
    t('Line'),
    m('Scenario'),
    m('Record'),
    m('Difference'),
    m('Plan'),
    t('Basis'),
  ],
  async fetch(hub, p) {
    const data = await hub.request<any>(OPERATIONS.ScenarioBlock, { id: p.scenario });
    if (!data.scenario) throw new Error(`No scenario ${p.scenario}, or you have no access to it`);
    const { results, comparison } = data.scenario;
    const record = new Map<string, string>();
    for (const c of comparison?.blockLines ?? []) record.set(`${c.key}|${c.period}`, c.baseline);
    const dsg = new Map<string, string>();
    for (const c of comparison?.dsg ?? []) dsg.set(`${c.key}|${c.period}`, c.baseline);
    const rows: CellValue[][] = [];
    for (const y of results.years ?? []) {
      const fy = y.financialYear;
      for (const l of y.lines) {
        const rec = record.get(`${l.lineCode}|${fy}`) ?? null;
        rows.push([
          fy,
          l.memo ? 'Memo (Schools block)' : 'Spend',
          l.lineCode,
          l.name,
          l.amount,
          rec,
          minus(l.amount, rec),
          null,
          l.memo ? 'memo' : l.modelled ? 'modelled' : 'given',
        ]);
      }
      const recSpend = dsg.get(`SPEND|${fy}`) ?? null;
      rows.push([fy, 'Spend', 'SPEND', 'Total spend', y.spend, recSpend, minus(y.spend, recSpend), null, '']);
      const inc = y.income;
      const rate = Number(inc.schoolsBlockTransferRate);
      for (const [code, name, amount] of [
        ['HIGH_NEEDS_ALLOCATION', 'DSG high-needs allocation', inc.highNeedsAllocation],
        [
          'SCHOOLS_BLOCK_TRANSFER',
          `Schools Block transfer (${Number.isFinite(rate) ? `${+(rate * 100).toFixed(2)}%` : 'rate not set'})`,
          inc.schoolsBlockTransfer,
        ],
        ['SAFETY_VALVE_DFE', 'Safety Valve: DfE instalments', inc.safetyValveDfe],
        ['LA_CONTRIBUTION', "Safety Valve: the council's contribution", inc.laContribution],
      ] as [string, string, string][])
        rows.push([fy, 'Income', code, name, amount, null, null, null, '']);
      const recIncome = dsg.get(`INCOME|${fy}`) ?? null;
      rows.push([fy, 'Income', 'INCOME', 'Total income', inc.total, recIncome, minus(inc.total, recIncome), null, '']);
      rows.push([
        fy,
        'DSG position',
        'IN_YEAR',
        'In-year position (income less spend)',
        y.inYear,
        orNull(y.recordInYear),
        minus(y.inYear, y.recordInYear),
        orNull(y.planInYear),
        '',
      ]);
      rows.push([
        fy,
        'DSG position',
        'CUMULATIVE',
        'Cumulative DSG position at 31 March',
        y.cumulative,
        orNull(y.recordCumulative),
        minus(y.cumulative, y.recordCumulative),
        orNull(y.planCumulative),
        '',
      ]);
    }
    for (const d of results.missingDrivers ?? [])
      rows.push([
        d.period,
        'Missing driver',
        d.kind,
        d.message,
        null,
        null,
        null,
        null,
        d.schoolUrn != null ? `${d.setting} · URN ${d.schoolUrn}` : d.setting,
      ]);
    return rows;
  },
};

export const DATASETS: DatasetDef[] = [
  {
    id: 'schools',
    label: 'Schools',
    filters: ['districtCode', 'communityCode', 'phase'],
    required: [],
    // Derived from the School field catalogue on the server (school-fields.generated.ts), as is the operation.
    columns: SCHOOL_DATASET_COLUMNS.map(({ header, kind }) => ({ header, kind })),
    async fetch(hub, p, onPage) {
      const nodes = await fetchAllPages<any>(
        hub,
        OPERATIONS.Schools,
        { filter: schoolFilter(p) },
        (d) => d.schools,
        onPage,
      );
      return nodes.map((s) => SCHOOL_DATASET_COLUMNS.map((c) => v(valueAt(s, c.path))));
    },
  },
  {
    id: 'pots',
    label: 'Community pots',
    filters: ['term', 'districtCode'],
    required: ['term'],
    columns: [
      t('Community'),
      t('Name'),
      t('District code'),
      t('Term'),
      m('Pot'),
      m('Approved'),
      m('Proposed'),
      m('Remaining'),
    ],
    async fetch(hub, p) {
      const data = await hub.request<any>(OPERATIONS.CommunityPots, {
        term: p.term,
        districtCode: p.districtCode ?? null,
      });
      return data.communities.map((c: any) => [
        c.code,
        c.name,
        c.primaryDistrictCode,
        p.term!,
        v(c.pot?.amount),
        v(c.pot?.approved),
        v(c.pot?.proposed),
        v(c.pot?.remaining),
      ]);
    },
  },
  {
    id: 'funding',
    label: 'School funding',
    filters: ['term', 'districtCode', 'communityCode', 'phase'],
    required: ['term'],
    columns: [
      i('URN'),
      t('Name'),
      t('Community'),
      t('Term'),
      ...FUNDING_LINE_COLUMNS.map(({ header, kind }) => ({ header, kind })),
    ],
    async fetch(hub, p, onPage) {
      const nodes = await fetchAllPages<any>(
        hub,
        OPERATIONS.SchoolFunding,
        { filter: schoolFilter(p), term: p.term },
        (d) => d.schools,
        onPage,
      );
      return nodes.map((s) => {
        const f = s.funding ?? {};
        return [
          s.urn,
          s.name,
          v(s.community?.code),
          p.term!,
          // A line hidden by disclosure control (it would give away small band counts): "c", never 0 or blank.
          ...FUNDING_LINE_COLUMNS.map((c) => (c.hiddenWith && f[c.hiddenWith] ? 'c' : v(f[c.field]))),
        ];
      });
    },
  },
  {
    id: 'notionalSen',
    label: 'Notional SEN',
    filters: ['year', 'districtCode', 'communityCode', 'phase'],
    required: ['year'],
    columns: [
      i('URN'),
      t('Name'),
      t('Year'),
      t('Factor'),
      m('Formula amount'),
      rate('SEN %'),
      m('SEN amount'),
      m('School total'),
    ],
    async fetch(hub, p, onPage) {
      const nodes = await fetchAllPages<any>(
        hub,
        OPERATIONS.NotionalSen,
        { filter: schoolFilter(p), year: p.year },
        (d) => d.schools,
        onPage,
      );
      const rows: CellValue[][] = [];
      for (const s of nodes) {
        const b = s.notionalSenBudget;
        for (const f of b?.factors ?? [])
          rows.push([s.urn, s.name, p.year!, f.factor, f.formulaAmount, f.senPercentage, f.senAmount, b.total]);
      }
      return rows;
    },
  },
  {
    id: 'hnb',
    label: 'High Needs block',
    filters: ['year'],
    required: ['year'],
    columns: [t('Year'), t('Line'), t('Name'), m('Budget'), m('Forecast'), m('Outturn'), t('Memo')],
    async fetch(hub, p) {
      const data = await hub.request<any>(OPERATIONS.HighNeedsBlock, { year: p.year });
      return data.highNeedsBlock.lines.map((l: any) => [
        p.year!,
        l.lineCode,
        l.name,
        v(l.budget),
        v(l.forecast),
        v(l.outturn),
        v(l.memo),
      ]);
    },
  },
  {
    id: 'caseloads',
    label: 'Caseloads',
    filters: ['kind', 'groupBy', 'period'],
    required: ['kind'],
    // Key is a number when it is a URN (grouped by school), so XLOOKUP against the schools table matches.
    columns: [
      t('Kind'),
      { header: 'Key', kind: 'int' },
      t('Label'),
      t('Period'),
      { header: 'Count', kind: 'count' },
      t('Suppressed'),
    ],
    async fetch(hub, p) {
      const data = await hub.request<any>(OPERATIONS.Caseloads, {
        kind: p.kind,
        period: p.period ?? null,
        groupBy: p.groupBy ?? 'WORKER',
      });
      const key = (k: unknown) =>
        p.groupBy === 'SCHOOL' && typeof k === 'string' && k !== '' && [...k].every((c) => c >= '0' && c <= '9')
          ? Number(k)
          : v(k);
      // Suppressed counts are shown as "c", the statistical-disclosure convention, never as 0 or blank.
      return data.caseloads.rows.map((r: any) => [
        p.kind!,
        key(r.key),
        v(r.label),
        v(r.period),
        r.suppressed ? 'c' : v(r.count),
        r.suppressed ? 'yes' : '',
      ]);
    },
  },
  {
    id: 'safetyValve',
    label: 'Safety Valve',
    filters: [],
    required: [],
    columns: [t('Period'), m('In-year plan'), m('In-year forecast'), m('Cumulative plan'), m('Cumulative forecast')],
    async fetch(hub) {
      const data = await hub.request<any>(OPERATIONS.SafetyValve, {});
      return (data.safetyValve?.reports ?? []).map((r: any) => [
        r.periodCode,
        v(r.inYearPlan),
        v(r.inYearForecast),
        v(r.cumulativePlan),
        v(r.cumulativeForecast),
      ]);
    },
  },
  {
    id: 'safetyValveKpis',
    label: 'Safety Valve KPIs',
    filters: [],
    required: [],
    columns: [t('Period'), t('KPI'), t('Name'), t('Unit'), d('Plan'), d('Actual')],
    async fetch(hub) {
      const data = await hub.request<any>(OPERATIONS.SafetyValve, {});
      const rows: CellValue[][] = [];
      for (const r of data.safetyValve?.reports ?? [])
        for (const k of r.kpis ?? []) rows.push([r.periodCode, k.kpiCode, k.name, v(k.unit), v(k.plan), v(k.actual)]);
      return rows;
    },
  },
  {
    id: 'allocations',
    label: 'Allocations',
    filters: ['communityCode', 'term', 'status'],
    required: [],
    columns: ALLOCATION_COLUMNS,
    async fetch(hub, p, onPage) {
      const filter: Record<string, unknown> = {};
      if (p.communityCode) filter.communityCode = p.communityCode;
      if (p.term) filter.term = p.term;
      if (p.status) filter.status = [p.status];
      const nodes: any[] = [];
      // Offset paging: the hub's allocations list is not a cursor connection.
      for (let offset = 0; ; offset += PAGE_SIZE) {
        const data = await hub.request<any>(OPERATIONS.Allocations, {
          filter: Object.keys(filter).length ? filter : null,
          first: PAGE_SIZE,
          offset,
        });
        nodes.push(...data.allocations.nodes);
        onPage?.(nodes.length, data.allocations.totalCount);
        if (!data.allocations.nodes.length || nodes.length >= data.allocations.totalCount) break;
      }
      return nodes.map((a: any) => [
        String(a.id),
        a.schoolUrn,
        v(a.school?.name),
        a.communityCode,
        a.term,
        a.amount,
        a.status,
        v(a.purpose),
        a.version,
      ]);
    },
  },
  {
    id: 'scenario',
    label: 'Scenario vs record',
    filters: ['scenario', 'term', 'communityCode'],
    required: ['scenario'],
    columns: [
      i('URN'),
      t('School'),
      t('Community'),
      t('Term'),
      m('Baseline funding'),
      m('Protected'),
      m('Community share'),
      m('Banded top-up'),
      m('Scenario total'),
      m('Record total'),
      m('Difference'),
    ],
    async fetch(hub, p) {
      const data = await hub.request<any>(OPERATIONS.Scenario, {
        id: p.scenario,
        term: p.term ?? null,
        communityCode: p.communityCode ?? null,
      });
      // null: no such scenario, or one this user may not see (a role without scenarios gets FORBIDDEN instead).
      if (!data.scenario) throw new Error(`No scenario ${p.scenario}, or you have no access to it`);
      // includeUnchanged: every school and term is in the comparison, so every row has its record total.
      const cmp = new Map<string, any>();
      for (const c of data.scenario.comparison?.schools ?? []) cmp.set(`${c.schoolUrn}|${c.term}`, c);
      const results: any[] = data.scenario.results?.schools ?? [];
      // School names beside URNs: one more request for the names of the schools in the result.
      const urns = [...new Set(results.map((r) => r.schoolUrn))];
      const names = new Map<number, string>();
      for (let k = 0; k < urns.length; k += PAGE_SIZE) {
        const page = await hub.request<any>(OPERATIONS.FnSchools, { urns: urns.slice(k, k + PAGE_SIZE) });
        for (const s of page.schoolsByUrn ?? []) if (s) names.set(s.urn, s.name);
      }
      return results.map((r: any) => {
        const c = cmp.get(`${r.schoolUrn}|${r.term}`);
        return [
          r.schoolUrn,
          v(names.get(r.schoolUrn)),
          v(r.communityCode),
          r.term,
          v(r.baseline),
          v(r.protectedAmount),
          v(r.communityShare),
          v(r.bandedTopUp),
          v(r.total),
          v(c?.baseline),
          v(c?.difference),
        ];
      });
    },
  },
  SCENARIO_BLOCK,
];

export function datasetById(id: string): DatasetDef {
  const d = DATASETS.find((x) => x.id === id);
  if (!d) throw new Error(`Unknown dataset "${id}"`);
  return d;
}

/** Names the missing required filters, so "Insert" can say what to choose instead of failing at the hub. */
export function missingFilters(def: DatasetDef, p: DatasetParams): FilterName[] {
  return def.required.filter((f) => !p[f]);
}

const NUMERIC_KINDS = new Set(['money', 'decimal', 'rate', 'points']);

/**
 * The last step before Excel: Money and Decimal strings become numbers (Excel holds nothing else; the
 * exact strings stay in the baseline), ISO dates become date serials so they sort and filter as dates.
 */
export function toExcelRows(columns: ColumnDef[], rows: CellValue[][]): CellValue[][] {
  const numeric = columns.map((c) => NUMERIC_KINDS.has(c.kind));
  const dates = columns.map((c) => c.kind === 'date');
  return rows.map((r) =>
    r.map((x, j) => {
      if (numeric[j] && typeof x === 'string' && x !== '' && x !== 'c') return Number(x);
      if (dates[j] && typeof x === 'string' && x !== '') return excelDate(x) ?? x;
      return x;
    }),
  );
}
