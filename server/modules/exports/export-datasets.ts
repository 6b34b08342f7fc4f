import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../../context';
import { Phase, SchoolStatus, SchoolType } from '../school/school.entity';
import { CaseloadKind } from '../caseload/caseload.entity';
import { CaseloadGrouping } from '../caseload/caseload.types';
import { AllocationStatus } from '../allocation/allocation.entity';
import { MAX_PAGE_SIZE } from '../school/school.service';
import type { ParamSpec, ParsedParams } from './params';
import { projectRoot } from '../../common/paths';
import { planExport, QueryPlan, rowColumns } from './export-query';
import {
  SchoolDatasetColumn,
  schoolDatasetColumns,
  schoolDatasetSubset,
  schoolExportColumns,
  schoolExportDocument,
  schoolSelection,
} from '../school/school.fields';
import { COMMUNITY_POT_CATALOGUE, SCHOOL_FUNDING_CATALOGUE } from '../school/funding.fields';
import { exportColumnsOf, selectionOf, ViewField } from '../school/catalogue';

/**
 * Every dataset is a GraphQL document run against the hub's own schema with the request's context (export-query.ts):
 * an export and the query it is are one thing, under the same role matrix, disclosure control, cost budget and
 * compiled reads. Each column reads a path of the result; the About sheet shows the document as it ran.
 */
export interface Dataset {
  name: string;
  title: string;
  description: string;
  params: ParamSpec[];
  /** The document, how it pages, where its rows are and the columns read from them (checked against each other at load). */
  query: QueryPlan;
  /** The document's variables from the export's filters (paging variables are the runner's). */
  variables(p: ParsedParams): Record<string, unknown>;
  notes?(ctx: Context, p: ParsedParams): string[];
}

/**
 * The School columns of every schools dataset, and the selection that answers them, come from the School field
 * catalogue (school/school.fields.ts); a funding row's own columns from the SchoolFunding and CommunityPotView
 * catalogues (school/funding.fields.ts). planExport checks each column's path against the document at load.
 */
const SCHOOL_ID = schoolDatasetSubset('urn', 'laestab', 'name');
const SCHOOL_FUNDING_ID = schoolDatasetSubset('urn', 'laestab', 'name', 'districtCode');

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

/** The export's school filters as the `schools` query's SchoolFilter (the parameters have its fields' names). */
function schoolFilter(p: ParsedParams): Record<string, unknown> {
  return Object.fromEntries(SCHOOL_PARAMS.map((s) => [s.name, p[s.name]]));
}

/** Named filters passed as the document's variables of the same names. */
const pick =
  (...names: string[]) =>
  (p: ParsedParams) =>
    Object.fromEntries(names.map((n) => [n, p[n]]));

/** A tracked operation of schema/operations, the add-in's, where an export runs the same query. */
function trackedOperation(name: string): string {
  return fs.readFileSync(path.join(projectRoot(), 'schema', 'operations', `${name}.graphql`), 'utf8');
}

const SCHOOL_PAGES = { by: 'cursor', connection: 'schools', size: MAX_PAGE_SIZE } as const;

/** The schools export: the catalogue's document and columns (tests/unit/school-catalogue.test.ts gives it a probe's). */
export function schoolsExportPlan(columns: readonly SchoolDatasetColumn[] = schoolDatasetColumns()): QueryPlan {
  return planExport('schools', schoolExportDocument(columns), {
    paging: SCHOOL_PAGES,
    rows: [{ list: 'schools.nodes' }],
    columns: schoolExportColumns(columns),
  });
}

/** The school-funding export: a school's id columns, then its funding's columns from the SchoolFunding catalogue. */
export function schoolFundingExportPlan(funding: readonly ViewField[] = SCHOOL_FUNDING_CATALOGUE): QueryPlan {
  return planExport(
    'school-funding',
    /* GraphQL */ `
      query ExportSchoolFunding($first: Int!, $after: String, $filter: SchoolFilter, $term: String!) {
        schools(first: $first, after: $after, filter: $filter) {
          pageInfo { hasNextPage endCursor }
          nodes { ${schoolSelection('', SCHOOL_FUNDING_ID)} funding(term: $term) { ${selectionOf(funding)} } }
        }
      }`,
    // A school without funding in the term has funding null: the row path ends there, so it has no row.
    {
      paging: SCHOOL_PAGES,
      rows: [{ list: 'schools.nodes.funding' }],
      columns: [...schoolExportColumns(SCHOOL_FUNDING_ID), ...exportColumnsOf(funding)],
    },
  );
}

const POT_COLUMNS = exportColumnsOf(COMMUNITY_POT_CATALOGUE);

// The rows' own columns, each written once: rowColumns selects them (export-query.ts).
const SEN_FACTOR = rowColumns([
  { key: 'financialYear', type: 'text', description: 'Financial year code.', path: 'financialYearCode' },
  { key: 'factor', type: 'text', description: 'Formula factor.' },
  { key: 'formulaAmount', type: 'money', description: "The school's allocation through the factor." },
  { key: 'senPercentage', type: 'fraction', description: 'Share counted as notional SEN (0.70 = 70%).' },
  { key: 'senAmount', type: 'money', description: 'Notional SEN from the factor (rounded to the penny).' },
]);
const COMMUNITY = rowColumns([
  { key: 'communityName', type: 'text', description: 'Community name.', path: 'name' },
  { key: 'primaryDistrictCode', type: 'text', description: 'Primary district (ONS code).' },
  { key: 'areaCode', type: 'text', description: 'Area code.' },
]);
const BLOCK_LINE = rowColumns([
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
]);
const SAFETY_VALVE_REPORT = rowColumns([
  { key: 'periodCode', type: 'text', description: 'Reporting period code.' },
  { key: 'financialYearCode', type: 'text', description: 'Financial year.' },
  { key: 'quarter', type: 'int', description: 'Quarter of the financial year.' },
  { key: 'reportDate', type: 'date', description: 'Date submitted.' },
  { key: 'inYearPlan', type: 'money', description: 'Planned in-year DSG position.' },
  { key: 'inYearForecast', type: 'money', description: 'Forecast in-year DSG position.' },
  { key: 'cumulativePlan', type: 'money', description: 'Planned cumulative DSG position at year end.' },
  { key: 'cumulativeForecast', type: 'money', description: 'Forecast cumulative DSG position at year end.' },
  { key: 'dfeInstalment', type: 'money', description: 'DfE instalment paid after the report (empty when withheld).' },
]);
const SAFETY_VALVE_KPI = rowColumns([
  { key: 'periodCode', type: 'text', description: 'Reporting period code.' },
  { key: 'kpiCode', type: 'text', description: 'KPI code.' },
  { key: 'name', type: 'text', description: 'KPI name.' },
  { key: 'unit', type: 'text', description: 'COUNT, PERCENT or GBP.' },
  { key: 'plan', type: 'decimal', description: 'Planned value.' },
  { key: 'actual', type: 'decimal', description: 'Actual value.' },
]);
const ALLOCATION_ID = [
  { key: 'schoolUrn', type: 'int', description: 'School URN.' },
  { key: 'communityCode', type: 'text', description: 'Community whose pot pays it.' },
  { key: 'termCode', type: 'text', description: 'Funding term code.' },
] as const;
const ALLOCATION = rowColumns([
  { key: 'id', type: 'text', description: 'Allocation id.' },
  ...ALLOCATION_ID,
  { key: 'purpose', type: 'text', description: 'Purpose.' },
  { key: 'amount', type: 'money', description: 'Amount.' },
  { key: 'status', type: 'text', description: 'PROPOSED, APPROVED or WITHDRAWN.' },
  { key: 'version', type: 'int', description: 'Version.' },
  { key: 'decisionReference', type: 'text', description: 'Decision reference of the approval.' },
  { key: 'approvedBy', type: 'text', description: 'Who approved it.' },
  { key: 'approvedAt', type: 'datetime', description: 'When it was approved (UTC).' },
  { key: 'updatedBy', type: 'text', description: 'Who last changed it.' },
  { key: 'updatedAt', type: 'datetime', description: 'When it was last changed (UTC).' },
]);
const HISTORY_OF = rowColumns([
  { key: 'allocationId', type: 'text', description: 'Allocation id.', path: 'id' },
  ...ALLOCATION_ID,
]);
const HISTORY = rowColumns([
  { key: 'at', type: 'datetime', description: 'When it changed (UTC).' },
  { key: 'action', type: 'text', description: 'What changed (CREATE, UPDATE, APPROVE, WITHDRAW…).' },
  { key: 'actorName', type: 'text', description: 'Who changed it.' },
  { key: 'role', type: 'text', description: 'Their role.' },
  { key: 'source', type: 'text', description: 'Where the change came from (ADDIN, API, IMPORT).' },
  { key: 'reason', type: 'text', description: 'Why, as given.' },
  { key: 'decisionReference', type: 'text', description: 'Decision reference of an approval.' },
  { key: 'before', type: 'json', description: 'The record before the change (empty for a creation).' },
  { key: 'after', type: 'json', description: 'The record after the change.' },
]);

export const DATASETS: Dataset[] = [
  {
    name: 'schools',
    title: 'Schools',
    description:
      'State-funded schools of the local authority with their register data and Community of Schools on asOf.',
    params: SCHOOL_PARAMS,
    variables: (p) => ({ filter: schoolFilter(p), asOf: p.asOf }),
    query: schoolsExportPlan(),
  },
  {
    name: 'school-funding',
    title: 'School high-needs funding by funding term',
    description:
      'Individual high-needs funding of each school for one funding term: protected baseline, community share, banded top-up and total.',
    params: [
      { name: 'term', kind: 'string', required: true, description: 'Funding term code, e.g. AUTUMN-2025.' },
      ...SCHOOL_PARAMS,
    ],
    variables: (p) => ({ filter: schoolFilter(p), term: p.term }),
    query: schoolFundingExportPlan(),
    notes: () => ['Schools without funding in the term are left out (GraphQL returns null for them).'],
  },
  {
    name: 'notional-sen',
    title: 'Notional SEN budgets by financial year',
    description:
      "Each school's notional SEN budget (element 2) by formula factor for one financial year; the budget is the sum of its factor lines.",
    params: [
      { name: 'financialYear', kind: 'string', required: true, description: 'Financial year code, e.g. 2025-26.' },
      ...SCHOOL_PARAMS,
    ],
    variables: (p) => ({ filter: schoolFilter(p), financialYear: p.financialYear }),
    query: planExport(
      'notional-sen',
      /* GraphQL */ `
        query ExportNotionalSen($first: Int!, $after: String, $filter: SchoolFilter, $financialYear: String!) {
          schools(first: $first, after: $after, filter: $filter) {
            pageInfo { hasNextPage endCursor }
            nodes {
              ${schoolSelection('', SCHOOL_ID)}
              notionalSenBudget(financialYear: $financialYear) {
                schoolTotal: total
                factors { ${SEN_FACTOR.select} }
              }
            }
          }
        }`,
      {
        paging: SCHOOL_PAGES,
        rows: [{ list: 'schools.nodes.notionalSenBudget.factors' }],
        columns: [
          ...schoolExportColumns(SCHOOL_ID),
          ...SEN_FACTOR.columns,
          {
            key: 'schoolTotal',
            type: 'money',
            description: "The school's whole notional SEN budget (repeated on each of its lines).",
          },
        ],
      },
    ),
  },
  {
    name: 'community-pots',
    title: 'Community pots by funding term',
    description:
      "Each Community of Schools' pot for one funding term, with approved and proposed allocations and what remains.",
    params: [
      { name: 'term', kind: 'string', required: true, description: 'Funding term code, e.g. AUTUMN-2025.' },
      { name: 'districtCode', kind: 'string', description: 'Primary district (ONS code).' },
      { name: 'areaCode', kind: 'string', description: 'Area code.' },
    ],
    variables: pick('term', 'districtCode', 'areaCode'),
    query: planExport(
      'community-pots',
      /* GraphQL */ `
        query ExportCommunityPots($term: String!, $districtCode: String, $areaCode: String) {
          communities(districtCode: $districtCode, areaCode: $areaCode) {
            ${COMMUNITY.select}
            pot(term: $term) { ${selectionOf(COMMUNITY_POT_CATALOGUE)} }
          }
        }
      `,
      {
        rows: [{ list: 'communities.pot' }],
        columns: [
          ...POT_COLUMNS.filter((c) => c.key === 'communityCode'),
          ...COMMUNITY.columns,
          ...POT_COLUMNS.filter((c) => c.key !== 'communityCode'),
        ],
      },
    ),
  },
  {
    name: 'high-needs-block',
    title: 'High Needs block budget lines',
    description: 'The High Needs block budget lines for one financial year: budget, forecast and outturn.',
    params: [
      { name: 'financialYear', kind: 'string', required: true, description: 'Financial year code, e.g. 2025-26.' },
    ],
    variables: pick('financialYear'),
    query: planExport(
      'high-needs-block',
      /* GraphQL */ `
        query ExportHighNeedsBlock($financialYear: String!) {
          highNeedsBlock(financialYear: $financialYear) {
            lines { ${BLOCK_LINE.select} }
          }
        }
      `,
      {
        rows: [{ list: 'highNeedsBlock.lines' }],
        columns: BLOCK_LINE.columns,
      },
    ),
    notes: () => ['Totals leave out memorandum lines (memo = TRUE), as the highNeedsBlock query does.'],
  },
  {
    name: 'caseloads',
    title: 'Caseload counts',
    description:
      'Caseload counts grouped by school, community, district or worker and by school term, with disclosure control for your role.',
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
    variables: pick('kind', 'groupBy', 'period', 'districtCode', 'communityCode'),
    query: planExport(
      'caseloads',
      // The add-in's Caseloads operation: one document for the add-in's dataset and the export.
      trackedOperation('Caseloads'),
      {
        rows: [
          { list: 'caseloads.rows', set: { rowType: 'ROW' } },
          { list: 'caseloads.totals', set: { rowType: 'TOTAL', key: null, label: 'Total' } },
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
      },
    ),
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
    params: [{ name: 'financialYear', kind: 'string', description: 'Financial year code (default: all).' }],
    variables: pick('financialYear'),
    query: planExport(
      'safety-valve',
      /* GraphQL */ `
        query ExportSafetyValve($financialYear: String) {
          safetyValve {
            reports(financialYear: $financialYear) { ${SAFETY_VALVE_REPORT.select} }
          }
        }
      `,
      {
        rows: [{ list: 'safetyValve.reports' }],
        columns: SAFETY_VALVE_REPORT.columns,
      },
    ),
  },
  {
    name: 'safety-valve-kpis',
    title: 'Safety Valve KPIs',
    description: 'The KPIs reported with each Safety Valve monitoring report, plan against actual.',
    params: [{ name: 'financialYear', kind: 'string', description: 'Financial year code (default: all).' }],
    variables: pick('financialYear'),
    query: planExport(
      'safety-valve-kpis',
      /* GraphQL */ `
        query ExportSafetyValveKpis($financialYear: String) {
          safetyValve {
            reports(financialYear: $financialYear) {
              kpis { ${SAFETY_VALVE_KPI.select} }
            }
          }
        }
      `,
      {
        rows: [{ list: 'safetyValve.reports.kpis' }],
        columns: SAFETY_VALVE_KPI.columns,
      },
    ),
  },
  {
    name: 'allocations',
    title: 'Allocations',
    description: 'Allocations of record from community pots to schools, with their workflow state and approval.',
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
    variables: (p) => ({ filter: pick('communityCode', 'term', 'status', 'schoolUrn')(p) }),
    query: planExport(
      'allocations',
      // The allocations query pages by offset (it has no cursor).
      /* GraphQL */ `
        query ExportAllocations($filter: AllocationFilter, $first: Int!, $offset: Int!) {
          allocations(filter: $filter, first: $first, offset: $offset) {
            nodes { ${ALLOCATION.select} }
          }
        }
      `,
      {
        paging: { by: 'offset', list: 'allocations.nodes', size: 10000 },
        rows: [{ list: 'allocations.nodes' }],
        columns: ALLOCATION.columns,
      },
    ),
  },
  {
    name: 'allocation-history',
    title: 'Allocation history',
    description:
      'Every change to the allocations of record, oldest first for each: who, when, why, and the record before and after. Finance; a Chair for their own community.',
    params: [
      { name: 'communityCode', kind: 'string', description: 'Community code.' },
      { name: 'term', kind: 'string', description: 'Funding term code.' },
      { name: 'schoolUrn', kind: 'int', description: 'School URN.' },
    ],
    variables: (p) => ({ filter: pick('communityCode', 'term', 'schoolUrn')(p) }),
    query: planExport(
      'allocation-history',
      /* GraphQL */ `
        query ExportAllocationHistory($filter: AllocationFilter, $first: Int!, $offset: Int!) {
          allocations(filter: $filter, first: $first, offset: $offset) {
            nodes {
              ${HISTORY_OF.select}
              history { ${HISTORY.select} }
            }
          }
        }
      `,
      {
        paging: { by: 'offset', list: 'allocations.nodes', size: 10000 },
        rows: [{ list: 'allocations.nodes.history' }],
        columns: [...HISTORY_OF.columns, ...HISTORY.columns],
      },
    ),
  },
];

export const DATASET_BY_NAME = new Map(DATASETS.map((d) => [d.name, d]));
