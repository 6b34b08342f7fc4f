/**
 * Bulk loader for the demo data: raw SQL, one transaction, parents before children.
 *
 * Each chunk of rows is one `INSERT ... SELECT * FROM unnest($1::int[], $2::text[], ...)` statement: one
 * parameter per column whatever the number of rows (a multi-row VALUES list would hit the 65,535
 * parameter limit and be re-planned per size), and the same SQL on PostgreSQL 15 and PGlite.
 */
import { DataSource, EntityManager } from 'typeorm';
import type { DemoData } from './generate';

type SqlType = 'int' | 'text' | 'numeric' | 'date' | 'bool';

interface TableSpec<K extends keyof DemoData> {
  key: K;
  table: string;
  /** Entity property -> Postgres array element type. Column names are snake_case of the property. */
  columns: Partial<Record<keyof DemoData[K][number], SqlType>>;
}

const spec = <K extends keyof DemoData>(key: K, table: string, columns: TableSpec<K>['columns']): TableSpec<K> => ({
  key,
  table,
  columns,
});

/** In foreign-key order. */
const TABLES = [
  spec('areas', 'area', { code: 'text', name: 'text' }),
  spec('districts', 'district', { onsCode: 'text', name: 'text', areaCode: 'text' }),
  spec('financialYears', 'financial_year', { code: 'text', startDate: 'date', endDate: 'date' }),
  spec('academicYears', 'academic_year', { code: 'text', startDate: 'date', endDate: 'date' }),
  spec('fundingTerms', 'funding_term', {
    code: 'text',
    name: 'text',
    season: 'text',
    startDate: 'date',
    endDate: 'date',
    financialYearCode: 'text',
    academicYearCode: 'text',
    months: 'int',
    closed: 'bool',
  }),
  spec('schoolTerms', 'school_term', {
    code: 'text',
    academicYearCode: 'text',
    number: 'int',
    startDate: 'date',
    endDate: 'date',
    fundingTermCode: 'text',
  }),
  spec('schools', 'school', {
    urn: 'int',
    laestab: 'int',
    name: 'text',
    phase: 'text',
    type: 'text',
    establishmentType: 'text',
    status: 'text',
    openDate: 'date',
    closeDate: 'date',
    districtCode: 'text',
    postcode: 'text',
    ukprn: 'int',
    pupilsOnRoll: 'int',
    percentFsm: 'numeric',
    srpCapacity: 'int',
    srpOnRoll: 'int',
  }),
  spec('communities', 'community', {
    code: 'text',
    name: 'text',
    primaryDistrictCode: 'text',
    areaCode: 'text',
    chairName: 'text',
    chairSchoolUrn: 'int',
    pcnName: 'text',
  }),
  spec('communityMemberships', 'community_membership', {
    schoolUrn: 'int',
    communityCode: 'text',
    effectiveFrom: 'date',
    effectiveTo: 'date',
  }),
  spec('earlyYearsSettings', 'early_years_setting', {
    urn: 'text',
    name: 'text',
    kind: 'text',
    districtCode: 'text',
    postcodeDistrict: 'text',
  }),
  spec('notionalSenFactors', 'notional_sen_factor', {
    schoolUrn: 'int',
    financialYearCode: 'text',
    factor: 'text',
    formulaAmount: 'numeric',
    senPercentage: 'numeric',
    senAmount: 'numeric',
  }),
  spec('schoolTermFunding', 'school_term_funding', {
    schoolUrn: 'int',
    termCode: 'text',
    baseline: 'numeric',
    protectionRate: 'numeric',
    protectedAmount: 'numeric',
    communityShare: 'numeric',
    bandedTopUp: 'numeric',
  }),
  spec('communityPots', 'community_pot', { communityCode: 'text', termCode: 'text', amount: 'numeric' }),
  spec('highNeedsBlockLines', 'high_needs_block_line', {
    financialYearCode: 'text',
    lineCode: 'text',
    name: 'text',
    sortOrder: 'int',
    budget: 'numeric',
    forecast: 'numeric',
    outturn: 'numeric',
    memo: 'bool',
    sourceKind: 'text',
    sourceFile: 'text',
    sourceBy: 'text',
  }),
  spec('ehcpBandCounts', 'ehcp_band_count', { schoolUrn: 'int', termCode: 'text', band: 'text', plans: 'int' }),
  spec('placeNumbers', 'place_number', {
    schoolUrn: 'int',
    academicYearCode: 'text',
    placeType: 'text',
    places: 'int',
    sourceKind: 'text',
    sourceFile: 'text',
    sourceBy: 'text',
  }),
  spec('topUpCounts', 'top_up_count', {
    schoolUrn: 'int',
    termCode: 'text',
    setting: 'text',
    band: 'text',
    pupils: 'int',
    sourceKind: 'text',
    sourceFile: 'text',
    sourceBy: 'text',
  }),
  spec('placements', 'placement', {
    financialYearCode: 'text',
    kind: 'text',
    placements: 'int',
    unitCost: 'numeric',
    sourceKind: 'text',
    sourceFile: 'text',
    sourceBy: 'text',
  }),
  spec('dsgIncomeYears', 'dsg_income_year', {
    financialYearCode: 'text',
    highNeedsAllocation: 'numeric',
    schoolsBlock: 'numeric',
    laContribution: 'numeric',
    importedPupils: 'int',
    exportedPupils: 'int',
    sourceKind: 'text',
    sourceFile: 'text',
    sourceBy: 'text',
  }),
  spec('safetyValveAgreements', 'safety_valve_agreement', {
    code: 'text',
    version: 'int',
    effectiveFrom: 'date',
    reportsPerYear: 'int',
    note: 'text',
    firstFinancialYear: 'text',
    lastFinancialYear: 'text',
    dfeContribution: 'numeric',
    laContribution: 'numeric',
    deficitAtStart: 'numeric',
    deficitAtStartDate: 'date',
    broughtForwardDate: 'date',
    broughtForwardPlan: 'numeric',
    broughtForwardOutturn: 'numeric',
    sourceKind: 'text',
    sourceFile: 'text',
    sourceBy: 'text',
  }),
  spec('safetyValvePlanYears', 'safety_valve_plan_year', {
    financialYearCode: 'text',
    inYearPlan: 'numeric',
    sourceKind: 'text',
    sourceFile: 'text',
    sourceBy: 'text',
  }),
  spec('safetyValveInstalments', 'safety_valve_instalment', {
    periodCode: 'text',
    financialYearCode: 'text',
    dueOn: 'date',
    amount: 'numeric',
    status: 'text',
    paidOn: 'date',
    sourceKind: 'text',
    sourceFile: 'text',
    sourceBy: 'text',
  }),
  spec('safetyValveReports', 'safety_valve_report', {
    periodCode: 'text',
    financialYearCode: 'text',
    quarter: 'int',
    reportDate: 'date',
    inYearPlan: 'numeric',
    inYearForecast: 'numeric',
    cumulativePlan: 'numeric',
    cumulativeForecast: 'numeric',
    dfeInstalment: 'numeric',
    sourceKind: 'text',
    sourceFile: 'text',
    sourceBy: 'text',
  }),
  spec('blockForecastSnapshots', 'block_forecast_snapshot', {
    periodCode: 'text',
    lineCode: 'text',
    forecast: 'numeric',
  }),
  spec('safetyValveKpis', 'safety_valve_kpi', {
    periodCode: 'text',
    kpiCode: 'text',
    name: 'text',
    unit: 'text',
    plan: 'numeric',
    actual: 'numeric',
    sourceKind: 'text',
    sourceFile: 'text',
    sourceBy: 'text',
  }),
  spec('caseloadWorkers', 'caseload_worker', { code: 'text', role: 'text', team: 'text', areaCode: 'text' }),
  spec('caseloadCounts', 'caseload_count', {
    kind: 'text',
    periodCode: 'text',
    workerCode: 'text',
    schoolUrn: 'int',
    settingUrn: 'text',
    districtCode: 'text',
    count: 'int',
  }),
] as const;

/** Rows per statement: big enough that the load is a few dozen round trips, small enough to keep messages modest. */
const CHUNK = 5000;

/** Same rule as server/db/naming.ts. */
function snake(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

export interface LoadResult {
  /** Rows inserted per table. */
  rows: Record<string, number>;
  statements: number;
}

async function loadAll(em: EntityManager, data: DemoData): Promise<LoadResult> {
  const result: LoadResult = { rows: {}, statements: 0 };
  for (const t of TABLES) {
    const rows = data[t.key] as unknown as Array<Record<string, unknown>>;
    const props = Object.keys(t.columns);
    const types = Object.values(t.columns) as SqlType[];
    const sql =
      `INSERT INTO "${t.table}" (${props.map((p) => `"${snake(p)}"`).join(', ')}) ` +
      `SELECT * FROM unnest(${types.map((ty, i) => `$${i + 1}::${ty}[]`).join(', ')})`;
    for (let at = 0; at < rows.length; at += CHUNK) {
      const slice = rows.slice(at, at + CHUNK);
      await em.query(
        sql,
        props.map((p) => slice.map((r) => r[p] ?? null)),
      );
      result.statements++;
    }
    result.rows[t.table] = rows.length;
  }
  return result;
}

/**
 * Inserts the demo data into empty tables. Runs in the caller's transaction when given an EntityManager
 * inside one, otherwise in a transaction of its own, so a failure leaves nothing half-loaded.
 */
export async function loadDemoData(db: EntityManager | DataSource, data: DemoData): Promise<LoadResult> {
  if (db instanceof EntityManager && db.queryRunner?.isTransactionActive) return loadAll(db, data);
  return db.transaction((em) => loadAll(em, data));
}
