import { Extensions } from 'type-graphql';
import type { DataSource } from 'typeorm';

/**
 * What the cost estimate may know about the data: the real sizes of the tables behind list fields, read from
 * the database (so another authority's register, or next year's caseloads, are costed as they are) and
 * refreshed in the background. Every count is an upper bound of a list it sizes.
 */
export interface DataBounds {
  schools: number;
  communities: number;
  largestCommunity: number;
  districts: number;
  areas: number;
  allocations: number;
  caseloadRowsPerKind: number;
  caseloadsPerSchoolTerm: number;
  caseloadWorkers: number;
  fundingTerms: number;
  financialYears: number;
  academicYears: number;
  schoolTerms: number;
  blockLinesPerYear: number;
  blockLines: number;
  senFactors: number;
  scenarios: number;
  parameterVersions: number;
  safetyValveReports: number;
  safetyValveAgreementVersions: number;
  kpisPerPeriod: number;
  auditPerAllocation: number;
}

/** Used until the first read and as a floor: the demo authority's shape, generously rounded up. */
export const DEFAULT_BOUNDS: DataBounds = {
  schools: 1000,
  communities: 100,
  largestCommunity: 40,
  districts: 20,
  areas: 10,
  allocations: 10000,
  caseloadRowsPerKind: 10000,
  caseloadsPerSchoolTerm: 10,
  caseloadWorkers: 500,
  fundingTerms: 30,
  financialYears: 10,
  academicYears: 10,
  schoolTerms: 60,
  blockLinesPerYear: 60,
  blockLines: 600,
  senFactors: 20,
  scenarios: 500,
  parameterVersions: 50,
  safetyValveReports: 50,
  safetyValveAgreementVersions: 10,
  kpisPerPeriod: 30,
  auditPerAllocation: 50,
};

const BOUNDS_SQL = `SELECT
  (SELECT count(*) FROM school)::int AS "schools",
  (SELECT count(*) FROM community)::int AS "communities",
  (SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM community_membership GROUP BY community_code) x)::int AS "largestCommunity",
  (SELECT count(*) FROM district)::int AS "districts",
  (SELECT count(*) FROM area)::int AS "areas",
  (SELECT count(*) FROM allocation)::int AS "allocations",
  (SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM caseload_count GROUP BY kind) x)::int AS "caseloadRowsPerKind",
  (SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM caseload_count WHERE school_urn IS NOT NULL GROUP BY school_urn, period_code) x)::int AS "caseloadsPerSchoolTerm",
  (SELECT count(*) FROM caseload_worker)::int AS "caseloadWorkers",
  (SELECT count(*) FROM funding_term)::int AS "fundingTerms",
  (SELECT count(*) FROM financial_year)::int AS "financialYears",
  (SELECT count(*) FROM academic_year)::int AS "academicYears",
  (SELECT count(*) FROM school_term)::int AS "schoolTerms",
  (SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM high_needs_block_line GROUP BY financial_year_code) x)::int AS "blockLinesPerYear",
  (SELECT count(*) FROM high_needs_block_line)::int AS "blockLines",
  (SELECT count(DISTINCT factor) FROM notional_sen_factor)::int AS "senFactors",
  (SELECT count(*) FROM scenario)::int AS "scenarios",
  (SELECT count(*) FROM model_parameter_set)::int AS "parameterVersions",
  (SELECT count(*) FROM safety_valve_report)::int AS "safetyValveReports",
  (SELECT count(*) FROM safety_valve_agreement)::int AS "safetyValveAgreementVersions",
  (SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM safety_valve_kpi GROUP BY period_code) x)::int AS "kpisPerPeriod",
  (SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM audit_log WHERE entity = 'ALLOCATION' GROUP BY entity_id) x)::int AS "auditPerAllocation"`;

/**
 * The bounds, read now and every `refreshMs` after (a growing table is costed as it grows). Each count is
 * rounded up by a tenth plus one so the estimate stays an upper bound between refreshes. `current()` is the same
 * object for as long as the counts stay the same and a new one when any changes: estimates kept per document
 * (cost-cache.ts) are keyed by it, so a refresh that finds nothing new keeps them and one that does drops them.
 */
export function trackBounds(
  dataSource: DataSource,
  refreshMs = 60_000,
): { current(): DataBounds; ready: Promise<void>; refresh(): Promise<void>; stop(): void } {
  let bounds: DataBounds = DEFAULT_BOUNDS;
  const read = async () => {
    try {
      const [row] = await dataSource.query(BOUNDS_SQL);
      const next = {} as DataBounds;
      for (const k of Object.keys(DEFAULT_BOUNDS) as (keyof DataBounds)[])
        next[k] = Math.ceil(Number(row[k] ?? 0) * 1.1) + 1;
      if ((Object.keys(next) as (keyof DataBounds)[]).some((k) => next[k] !== bounds[k])) bounds = next;
    } catch {
      // Keep the last bounds: a database hiccup must not make every query look free or every query too big.
    }
  };
  const ready = read();
  const timer = setInterval(() => void read(), refreshMs);
  timer.unref();
  return { current: () => bounds, ready, refresh: read, stop: () => clearInterval(timer) };
}

/** A list's size for the estimate: a number, or one derived from the data's bounds and the field's arguments. */
export type ListSizeSpec = number | ((bounds: DataBounds, args: Record<string, any>) => number);

export interface CostExtension {
  /** Rows this field yields per parent (on a list field, or a page wrapper whose `first` sizes its nodes). */
  listSize?: ListSizeSpec;
  /** The field runs the funding model for the whole county (scenario results or comparison). */
  computation?: boolean;
}

/** Declares a list field's size for the cost estimate, on the field itself. A test fails for a list field without one. */
export function ListSize(size: ListSizeSpec): MethodDecorator & PropertyDecorator {
  return Extensions({ cost: { listSize: size } satisfies CostExtension }) as MethodDecorator & PropertyDecorator;
}

/** Marks a field that runs a whole-county model computation: a request may run only a few. */
export function Computation(): MethodDecorator & PropertyDecorator {
  return Extensions({ cost: { computation: true } satisfies CostExtension }) as MethodDecorator & PropertyDecorator;
}

/** `first` bounded by what the table holds. */
export const pageOf = (bound: keyof DataBounds) => (b: DataBounds, args: Record<string, any>) =>
  Math.min(typeof args.first === 'number' ? Math.max(args.first, 1) : b[bound], b[bound]);
