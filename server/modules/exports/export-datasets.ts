import type { Context } from '../../context';
import { Phase, School, SchoolStatus, SchoolType } from '../school/school.entity';
import { SchoolFilter } from '../school/school.inputs';
import { SchoolResolver } from '../school/school.resolver';
import { CommunityResolver } from '../community/community.resolver';
import { HighNeedsBlockResolver } from '../funding/funding.resolver';
import { CaseloadResolver } from '../caseload/caseload.resolver';
import { CaseloadKind } from '../caseload/caseload.entity';
import { CaseloadGrouping } from '../caseload/caseload.types';
import { SafetyValveReportResolver, SafetyValveResolver } from '../safety-valve/safety-valve.resolver';
import { AllocationResolver } from '../allocation/allocation.resolver';
import { AllocationStatus } from '../allocation/allocation.entity';
import { MAX_PAGE_SIZE } from '../school/school.service';
import type { ExportColumn, ExportRow } from './export-format';
import type { ParamSpec, ParsedParams } from './params';

/**
 * Every dataset is produced by calling the GraphQL resolvers themselves with a request context, so an
 * export and the query it mirrors share validation, loaders, arithmetic and disclosure control: they
 * cannot drift apart.
 */
export interface Dataset {
  name: string;
  title: string;
  description: string;
  /** The GraphQL query whose figures the export reproduces, for the About sheet. */
  graphql: string;
  params: ParamSpec[];
  columns: ExportColumn[];
  rows(ctx: Context, p: ParsedParams): Promise<ExportRow[]>;
  notes?(ctx: Context, p: ParsedParams): string[];
}

const schools = new SchoolResolver();
const communities = new CommunityResolver();
const block = new HighNeedsBlockResolver();
const caseloads = new CaseloadResolver();
const sv = new SafetyValveResolver();
const svReport = new SafetyValveReportResolver();
const allocations = new AllocationResolver();

const SCHOOL_PARAMS: ParamSpec[] = [
  { name: 'districtCode', kind: 'string', description: 'ONS district code, e.g. E07000105.' },
  { name: 'communityCode', kind: 'string', description: 'Community code: member schools on asOf.' },
  { name: 'areaCode', kind: 'string', description: 'Area code (NORTH, WEST, EAST, SOUTH).' },
  { name: 'phase', kind: 'enumList', values: Object.values(Phase), description: 'Any of these phases.' },
  { name: 'type', kind: 'enumList', values: Object.values(SchoolType), description: 'Any of these types.' },
  { name: 'status', kind: 'enumList', values: Object.values(SchoolStatus), description: 'Any of these statuses.' },
  { name: 'nameContains', kind: 'string', description: 'Case-insensitive search in the school name.' },
  { name: 'urns', kind: 'intList', description: `Only these URNs (at most ${MAX_PAGE_SIZE}).` },
  { name: 'asOf', kind: 'date', description: 'Date for community membership (default today).' },
];

function schoolFilter(p: ParsedParams): SchoolFilter {
  return {
    districtCode: p.districtCode as string | null,
    communityCode: p.communityCode as string | null,
    areaCode: p.areaCode as string | null,
    phase: p.phase as Phase[] | null,
    type: p.type as SchoolType[] | null,
    status: p.status as SchoolStatus[] | null,
    nameContains: p.nameContains as string | null,
    urns: p.urns as number[] | null,
    asOf: p.asOf as string | null,
  };
}

/** Every school matching the filter, page by page through the `schools` query. */
async function allSchools(ctx: Context, p: ParsedParams): Promise<School[]> {
  const out: School[] = [];
  let after: string | null = null;
  for (;;) {
    const conn = await schools.schools({ first: MAX_PAGE_SIZE, after, filter: schoolFilter(p), orderBy: null }, ctx);
    out.push(...conn.nodes);
    if (!conn.pageInfo.hasNextPage) return out;
    after = conn.pageInfo.endCursor;
  }
}

const SCHOOL_ID_COLUMNS: ExportColumn[] = [
  { key: 'urn', type: 'int', description: 'DfE Unique Reference Number.' },
  { key: 'laestab', type: 'int', description: 'LAESTAB (the LA code + establishment number).' },
  { key: 'name', type: 'text', description: 'Establishment name.' },
];

export const DATASETS: Dataset[] = [
  {
    name: 'schools',
    title: 'Schools',
    description:
      'State-funded schools of the local authority with their register data and Community of Schools on asOf.',
    graphql: 'schools(filter) { nodes { … community(asOf) { code } } }',
    params: SCHOOL_PARAMS,
    columns: [
      ...SCHOOL_ID_COLUMNS,
      { key: 'phase', type: 'text', description: 'Phase of education.' },
      { key: 'type', type: 'text', description: 'MAINTAINED, ACADEMY, FREE_SCHOOL or OTHER.' },
      { key: 'establishmentType', type: 'text', description: 'Type of establishment as named in GIAS.' },
      { key: 'status', type: 'text', description: 'Status as in GIAS.' },
      { key: 'openDate', type: 'date', description: 'Date opened.' },
      { key: 'closeDate', type: 'date', description: 'Date closed.' },
      { key: 'districtCode', type: 'text', description: 'ONS district code.' },
      {
        key: 'communityCode',
        type: 'text',
        description: 'Community on asOf (empty for special schools, PRUs, closed schools).',
      },
      { key: 'postcode', type: 'text', description: 'Postcode.' },
      { key: 'ukprn', type: 'int', description: 'UK Provider Reference Number.' },
      { key: 'pupilsOnRoll', type: 'int', description: 'Pupils on roll.' },
      {
        key: 'percentFsm',
        type: 'decimal',
        description: 'Percentage of pupils eligible for free school meals (23.4 means 23.4%).',
      },
      { key: 'srpCapacity', type: 'int', description: 'Resourced provision / SEN unit capacity (places).' },
      { key: 'srpOnRoll', type: 'int', description: 'Pupils on roll in the resourced provision / SEN unit.' },
    ],
    async rows(ctx, p) {
      const list = await allSchools(ctx, p);
      const comms = await Promise.all(list.map(async (s) => schools.community(s, p.asOf as string | null, ctx)));
      return list.map((s, i) => ({ ...s, communityCode: comms[i]?.code ?? null }));
    },
  },
  {
    name: 'school-funding',
    title: 'School high-needs funding by funding term',
    description:
      'Individual high-needs funding of each school for one funding term: protected baseline, community share, banded top-up and total.',
    graphql: 'schools(filter) { nodes { funding(term) { … } } }',
    params: [
      { name: 'term', kind: 'string', required: true, description: 'Funding term code, e.g. AUTUMN-2025.' },
      ...SCHOOL_PARAMS,
    ],
    columns: [
      ...SCHOOL_ID_COLUMNS,
      { key: 'districtCode', type: 'text', description: 'ONS district code.' },
      { key: 'term', type: 'text', description: 'Funding term code.' },
      {
        key: 'baseline',
        type: 'money',
        description: 'Previous individual high-needs funding for a term of this length.',
      },
      { key: 'protectionRate', type: 'fraction', description: 'Protection rate in force (0.75 = 75%).' },
      { key: 'protectedAmount', type: 'money', description: 'Baseline x protection rate.' },
      { key: 'communityShare', type: 'money', description: 'Share of the community pot.' },
      { key: 'bandedTopUp', type: 'money', description: 'EHCP banded top-up.' },
      { key: 'total', type: 'money', description: 'Protected amount + community share + banded top-up.' },
    ],
    async rows(ctx, p) {
      const list = await allSchools(ctx, p);
      const funding = await Promise.all(list.map(async (s) => schools.funding(s, p.term as string, ctx)));
      return list.flatMap((s, i) =>
        funding[i]
          ? [{ urn: s.urn, laestab: s.laestab, name: s.name, districtCode: s.districtCode, ...funding[i] }]
          : [],
      );
    },
    notes: () => ['Schools without funding in the term are left out (GraphQL returns null for them).'],
  },
  {
    name: 'notional-sen',
    title: 'Notional SEN budgets by financial year',
    description:
      "Each school's notional SEN budget (element 2) by formula factor for one financial year; the budget is the sum of its factor lines.",
    graphql: 'schools(filter) { nodes { notionalSenBudget(financialYear) { total factors { … } } } }',
    params: [
      { name: 'financialYear', kind: 'string', required: true, description: 'Financial year code, e.g. 2025-26.' },
      ...SCHOOL_PARAMS,
    ],
    columns: [
      ...SCHOOL_ID_COLUMNS,
      { key: 'financialYear', type: 'text', description: 'Financial year code.' },
      { key: 'factor', type: 'text', description: 'Formula factor.' },
      { key: 'formulaAmount', type: 'money', description: "The school's allocation through the factor." },
      { key: 'senPercentage', type: 'fraction', description: 'Share counted as notional SEN (0.70 = 70%).' },
      { key: 'senAmount', type: 'money', description: 'Notional SEN from the factor (rounded to the penny).' },
      {
        key: 'schoolTotal',
        type: 'money',
        description: "The school's whole notional SEN budget (repeated on each of its lines).",
      },
    ],
    async rows(ctx, p) {
      const list = await allSchools(ctx, p);
      const budgets = await Promise.all(
        list.map(async (s) => schools.notionalSenBudget(s, p.financialYear as string, ctx)),
      );
      return list.flatMap((s, i) =>
        (budgets[i]?.factors ?? []).map((f) => ({
          urn: s.urn,
          laestab: s.laestab,
          name: s.name,
          financialYear: f.financialYearCode,
          factor: f.factor,
          formulaAmount: f.formulaAmount,
          senPercentage: f.senPercentage,
          senAmount: f.senAmount,
          schoolTotal: budgets[i]!.total,
        })),
      );
    },
  },
  {
    name: 'community-pots',
    title: 'Community pots by funding term',
    description:
      "Each Community of Schools' pot for one funding term, with approved and proposed allocations and what remains.",
    graphql: 'communities(districtCode, areaCode) { pot(term) { … } }',
    params: [
      { name: 'term', kind: 'string', required: true, description: 'Funding term code, e.g. AUTUMN-2025.' },
      { name: 'districtCode', kind: 'string', description: 'Primary district (ONS code).' },
      { name: 'areaCode', kind: 'string', description: 'Area code.' },
    ],
    columns: [
      { key: 'communityCode', type: 'text', description: 'Community code.' },
      { key: 'communityName', type: 'text', description: 'Community name.' },
      { key: 'primaryDistrictCode', type: 'text', description: 'Primary district (ONS code).' },
      { key: 'areaCode', type: 'text', description: 'Area code.' },
      { key: 'term', type: 'text', description: 'Funding term code.' },
      { key: 'amount', type: 'money', description: 'The pot.' },
      { key: 'approved', type: 'money', description: 'Approved allocations.' },
      { key: 'proposed', type: 'money', description: 'Proposed allocations awaiting approval.' },
      { key: 'remaining', type: 'money', description: 'Pot minus approved allocations.' },
    ],
    async rows(ctx, p) {
      const list = await communities.communities(p.districtCode as string | null, p.areaCode as string | null, ctx);
      const pots = await Promise.all(list.map(async (c) => communities.pot(c, p.term as string, ctx)));
      return list.flatMap((c, i) =>
        pots[i]
          ? [{ communityName: c.name, primaryDistrictCode: c.primaryDistrictCode, areaCode: c.areaCode, ...pots[i] }]
          : [],
      );
    },
  },
  {
    name: 'high-needs-block',
    title: 'High Needs block budget lines',
    description: 'The High Needs block budget lines for one financial year: budget, forecast and outturn.',
    graphql: 'highNeedsBlock(financialYear) { lines { … } }',
    params: [
      { name: 'financialYear', kind: 'string', required: true, description: 'Financial year code, e.g. 2025-26.' },
    ],
    columns: [
      { key: 'financialYearCode', type: 'text', description: 'Financial year code.' },
      { key: 'lineCode', type: 'text', description: 'Line code.' },
      { key: 'name', type: 'text', description: 'Line name.' },
      { key: 'sortOrder', type: 'int', description: 'Display order.' },
      { key: 'budget', type: 'money', description: 'Budget.' },
      { key: 'forecast', type: 'money', description: 'Latest forecast.' },
      { key: 'outturn', type: 'money', description: 'Outturn, once the year has closed.' },
      {
        key: 'memo',
        type: 'bool',
        description: 'TRUE for memorandum lines, not spent from the block and left out of its totals.',
      },
    ],
    async rows(ctx, p) {
      return (await block.highNeedsBlock(p.financialYear as string, ctx)).lines as unknown as ExportRow[];
    },
    notes: () => ['Totals leave out memorandum lines (memo = TRUE), as the highNeedsBlock query does.'],
  },
  {
    name: 'caseloads',
    title: 'Caseload counts',
    description:
      'Caseload counts grouped by school, community, district or worker and by school term, with disclosure control for your role.',
    graphql: 'caseloads(kind, groupBy, period, districtCode, communityCode) { rows { … } totals { … } }',
    params: [
      {
        name: 'kind',
        kind: 'enum',
        required: true,
        values: Object.values(CaseloadKind),
        description: `What to count: ${Object.values(CaseloadKind).join(', ')}.`,
      },
      {
        name: 'groupBy',
        kind: 'enum',
        required: true,
        values: Object.values(CaseloadGrouping),
        description: `Grouping: ${Object.values(CaseloadGrouping).join(', ')}.`,
      },
      { name: 'period', kind: 'string', description: 'One school term, e.g. 2025/26-T1 (default: all).' },
      { name: 'districtCode', kind: 'string', description: 'Only this district.' },
      { name: 'communityCode', kind: 'string', description: 'Only schools in this community.' },
    ],
    columns: [
      { key: 'rowType', type: 'text', description: 'ROW for a group, TOTAL for the total of a period.' },
      {
        key: 'key',
        type: 'text',
        description: 'Group key: URN, community code, ONS district code or worker code (empty on totals).',
      },
      { key: 'label', type: 'text', description: 'Group label.' },
      { key: 'period', type: 'text', description: 'School term code.' },
      { key: 'count', type: 'int', description: 'The count; empty when suppressed.' },
      {
        key: 'suppressed',
        type: 'bool',
        description: 'TRUE when hidden by disclosure control (shown as "c" in published tables).',
      },
    ],
    async rows(ctx, p) {
      const t = await caseloads.caseloads(
        p.kind as CaseloadKind,
        p.groupBy as CaseloadGrouping,
        p.period as string | null,
        p.districtCode as string | null,
        p.communityCode as string | null,
        ctx,
      );
      return [
        ...t.rows.map((r) => ({ rowType: 'ROW', ...r })),
        ...t.totals.map((r) => ({ rowType: 'TOTAL', key: null, label: 'Total', ...r })),
      ];
    },
    notes: (ctx) => [
      `Disclosure control as in GraphQL for your role (${ctx.viewer.role}): counts about children from 1 to 4 are suppressed unless your role may see them, ` +
        'with secondary suppression so that no hidden cell can be recovered from the totals.',
    ],
  },
  {
    name: 'safety-valve',
    title: 'Safety Valve DSG position',
    description:
      'The DSG position at each Safety Valve monitoring report: in-year and cumulative, plan against forecast (negative is a deficit).',
    graphql: 'safetyValve { reports(financialYear) { … } }',
    params: [{ name: 'financialYear', kind: 'string', description: 'Financial year code (default: all).' }],
    columns: [
      { key: 'periodCode', type: 'text', description: 'Reporting period code.' },
      { key: 'financialYearCode', type: 'text', description: 'Financial year.' },
      { key: 'quarter', type: 'int', description: 'Quarter of the financial year.' },
      { key: 'reportDate', type: 'date', description: 'Date submitted.' },
      { key: 'inYearPlan', type: 'money', description: 'Planned in-year DSG position.' },
      { key: 'inYearForecast', type: 'money', description: 'Forecast in-year DSG position.' },
      { key: 'cumulativePlan', type: 'money', description: 'Planned cumulative DSG position at year end.' },
      { key: 'cumulativeForecast', type: 'money', description: 'Forecast cumulative DSG position at year end.' },
      {
        key: 'dfeInstalment',
        type: 'money',
        description: 'DfE instalment paid after the report (empty when withheld).',
      },
    ],
    async rows(ctx, p) {
      return (await sv.reports({} as never, p.financialYear as string | null, ctx)) as unknown as ExportRow[];
    },
  },
  {
    name: 'safety-valve-kpis',
    title: 'Safety Valve KPIs',
    description: 'The KPIs reported with each Safety Valve monitoring report, plan against actual.',
    graphql: 'safetyValve { reports(financialYear) { kpis { … } } }',
    params: [{ name: 'financialYear', kind: 'string', description: 'Financial year code (default: all).' }],
    columns: [
      { key: 'periodCode', type: 'text', description: 'Reporting period code.' },
      { key: 'kpiCode', type: 'text', description: 'KPI code.' },
      { key: 'name', type: 'text', description: 'KPI name.' },
      { key: 'unit', type: 'text', description: 'COUNT, PERCENT or GBP.' },
      { key: 'plan', type: 'decimal', description: 'Planned value.' },
      { key: 'actual', type: 'decimal', description: 'Actual value.' },
    ],
    async rows(ctx, p) {
      const reports = await sv.reports({} as never, p.financialYear as string | null, ctx);
      const kpis = await Promise.all(reports.map((r) => svReport.kpis(r, ctx)));
      return kpis.flat() as unknown as ExportRow[];
    },
  },
  {
    name: 'allocations',
    title: 'Allocations',
    description: 'Allocations of record from community pots to schools, with their workflow state and approval.',
    graphql: 'allocations(filter) { nodes { … } }',
    params: [
      { name: 'communityCode', kind: 'string', description: 'Community code.' },
      { name: 'term', kind: 'string', description: 'Funding term code.' },
      {
        name: 'status',
        kind: 'enumList',
        values: Object.values(AllocationStatus),
        description: 'Any of these states.',
      },
      { name: 'schoolUrn', kind: 'int', description: 'School URN.' },
    ],
    columns: [
      { key: 'id', type: 'text', description: 'Allocation id.' },
      { key: 'schoolUrn', type: 'int', description: 'School URN.' },
      { key: 'communityCode', type: 'text', description: 'Community whose pot pays it.' },
      { key: 'termCode', type: 'text', description: 'Funding term code.' },
      { key: 'purpose', type: 'text', description: 'Purpose.' },
      { key: 'amount', type: 'money', description: 'Amount.' },
      { key: 'status', type: 'text', description: 'PROPOSED, APPROVED or WITHDRAWN.' },
      { key: 'version', type: 'int', description: 'Version.' },
      { key: 'decisionReference', type: 'text', description: 'Decision reference of the approval.' },
      { key: 'approvedBy', type: 'text', description: 'Who approved it.' },
      { key: 'approvedAt', type: 'datetime', description: 'When it was approved (UTC).' },
      { key: 'updatedBy', type: 'text', description: 'Who last changed it.' },
      { key: 'updatedAt', type: 'datetime', description: 'When it was last changed (UTC).' },
    ],
    async rows(ctx, p) {
      const filter = {
        communityCode: p.communityCode as string | null,
        term: p.term as string | null,
        status: p.status as AllocationStatus[] | null,
        schoolUrn: p.schoolUrn as number | null,
      };
      const out: ExportRow[] = [];
      for (let offset = 0; ; offset += 10000) {
        const page = await allocations.allocations(filter, 10000, offset, ctx);
        out.push(...(page.nodes as unknown as ExportRow[]));
        if (page.nodes.length < 10000) return out;
      }
    },
  },
];

export const DATASET_BY_NAME = new Map(DATASETS.map((d) => [d.name, d]));
