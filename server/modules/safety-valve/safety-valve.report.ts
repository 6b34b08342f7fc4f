import Decimal from 'decimal.js';
import { Field, Int, ObjectType } from 'type-graphql';
import type { EntityManager } from 'typeorm';
import { BadInput, NotFound } from '../../errors';
import { DateScalar, DecimalScalar, MoneyScalar } from '../../common/scalars';
import { SafetyValveAgreement, SafetyValveKpi, SafetyValveReport } from './safety-valve.entity';
import { ListSize } from '../../http/cost';
import { dsgAsReported, ReportedPosition } from '../funding/block';
import { IncomeOfRecord, loadIncome } from '../funding/block.service';
import { parameterVersions, recordOn } from '../funding/parameters-of-record';
import { localAuthority } from '../../common/local-authority';
import { agreementOn } from './agreement';
import { readAll } from '../../common/statements';

@ObjectType({ description: 'Plan against forecast for one measure of the DSG position (negative is a deficit).' })
export class PlanForecast {
  @Field(() => MoneyScalar, { description: 'Planned position.' })
  plan: string;

  @Field(() => MoneyScalar, { description: 'Forecast position.' })
  forecast: string;

  @Field(() => MoneyScalar, { description: 'Forecast minus plan: negative means behind plan.' })
  variance: string;
}

@ObjectType({ description: 'A KPI of the monitoring report with its variance from plan.' })
export class MonitoringKpi {
  @Field(() => String, { description: 'KPI code, e.g. "EHCP_TOTAL".' })
  kpiCode: string;

  @Field(() => String, { description: 'KPI name.' })
  name: string;

  @Field(() => String, { description: 'Unit: COUNT, PERCENT or GBP.' })
  unit: string;

  @Field(() => DecimalScalar, { nullable: true, description: 'Planned value.' })
  plan: string | null;

  @Field(() => DecimalScalar, { description: 'Actual value.' })
  actual: string;

  @Field(() => DecimalScalar, { nullable: true, description: 'Actual minus plan (null when there is no plan).' })
  variance: string | null;
}

@ObjectType({
  description:
    'One point of the deficit trajectory: the cumulative DSG position at a financial year end, as last reported by this period.',
})
export class TrajectoryPoint {
  @Field(() => String, { description: 'Label, e.g. "Mar 2026" or "Start (Mar 2022)".' })
  label: string;

  @Field(() => DateScalar, { description: "Date of the position (year end, or the agreement's starting date)." })
  date: string;

  @Field(() => String, {
    nullable: true,
    description: 'Reporting period the figures come from (null for the starting position).',
  })
  periodCode: string | null;

  @Field(() => MoneyScalar, { description: 'Planned cumulative position.' })
  cumulativePlan: string;

  @Field(() => MoneyScalar, { description: 'Forecast (or, for closed years, outturn) cumulative position.' })
  cumulativeForecast: string;
}

@ObjectType({ description: 'The Safety Valve monitoring report for one reporting period, as returned to the DfE.' })
export class SafetyValveMonitoringReport {
  @Field(() => String, { description: 'Local authority: DfE LA code and name.' })
  localAuthority: string;

  @Field(() => SafetyValveAgreement, {
    description: 'The agreement reported against: the version in effect on the report date.',
  })
  agreement: SafetyValveAgreement;

  @Field(() => String, { description: 'Reporting period code, e.g. "2025-26-Q2".' })
  periodCode: string;

  @Field(() => String, { description: 'Financial year.' })
  financialYear: string;

  @Field(() => Int, { description: 'Quarter of the financial year.' })
  quarter: number;

  @Field(() => DateScalar, { description: 'Date the report was submitted.' })
  reportDate: string;

  @Field(() => PlanForecast, { description: 'In-year DSG position for the financial year.' })
  inYear: PlanForecast;

  @Field(() => PlanForecast, { description: 'Cumulative DSG position at the financial year end.' })
  cumulative: PlanForecast;

  @Field(() => MoneyScalar, {
    nullable: true,
    description: 'DfE instalment paid after this report (null when withheld or not yet paid).',
  })
  instalmentThisPeriod: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      "The instalment's status as at this report: PAID, WITHHELD or DUE (a later late payment shows in later reports).",
  })
  instalmentStatus: string | null;

  @Field(() => MoneyScalar, { description: 'DfE instalments paid after reports up to and including this one.' })
  instalmentsToDate: string;

  @ListSize((b) => b.kpisPerPeriod)
  @Field(() => [MonitoringKpi], {
    description: 'KPIs: EHCP total, assessment requests, new and ceased plans, placement mix, unit costs.',
  })
  kpis: MonitoringKpi[];

  @ListSize((b) => b.financialYears + 1)
  @Field(() => [TrajectoryPoint], {
    description: "Deficit trajectory: the starting deficit, then each financial year end up to this report's year.",
  })
  trajectory: TrajectoryPoint[];
}

export const REPORT_COLUMNS = `period_code AS "periodCode", financial_year_code AS "financialYearCode", quarter, report_date::text AS "reportDate",
  in_year_plan AS "inYearPlan", in_year_forecast AS "inYearForecast", cumulative_plan AS "cumulativePlan",
  cumulative_forecast AS "cumulativeForecast", dfe_instalment AS "dfeInstalment"`;

export interface DerivedReports {
  reports: SafetyValveReport[];
  income: IncomeOfRecord;
}

/**
 * Every monitoring report with its DSG figures derived from the block and its income as known at the
 * report's date (block forecast snapshots, income, the agreement's plans): the report is the block's
 * position, never a second set of figures. A report whose drivers are missing keeps what was filed.
 */
export async function derivedReports(db: EntityManager): Promise<DerivedReports> {
  const [stored, snapshots, income, versions] = await readAll(db, [
    () =>
      db.query(`SELECT ${REPORT_COLUMNS} FROM safety_valve_report ORDER BY report_date, period_code`) as Promise<
        SafetyValveReport[]
      >,
    () =>
      db.query(
        `SELECT period_code AS p, sum(forecast)::text AS spend FROM block_forecast_snapshot GROUP BY period_code`,
      ) as Promise<{ p: string; spend: string }[]>,
    () => loadIncome(db),
    () => parameterVersions(db),
  ] as const);
  const spend = new Map(snapshots.map((x) => [x.p, x.spend]));
  const paramsOn = recordOn(versions);
  const reports = stored.map((r) => {
    const pos: ReportedPosition | null = income.broughtForward
      ? dsgAsReported(r, stored, (p) => spend.get(p) ?? null, income, income.plans, income.broughtForward, paramsOn)
      : null;
    return pos ? { ...r, ...pos } : r;
  });
  return { reports, income };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const monthLabel = (iso: string) => `${MONTHS[Number(iso.slice(5, 7)) - 1]} ${iso.slice(0, 4)}`;

const planForecast = (plan: string, forecast: string): PlanForecast => ({
  plan: new Decimal(plan).toFixed(2),
  forecast: new Decimal(forecast).toFixed(2),
  variance: new Decimal(forecast).minus(plan).toFixed(2),
});

/**
 * The instalment after a report as it stood then, and every instalment received by the report's date:
 * paid on time (after its own report), or paid late once paid. With no instalments recorded, the filed column.
 */
function instalmentsAsAt(report: SafetyValveReport, known: SafetyValveReport[], income: IncomeOfRecord) {
  if (income.instalments.length === 0) {
    return {
      instalmentThisPeriod: report.dfeInstalment === null ? null : new Decimal(report.dfeInstalment).toFixed(2),
      instalmentStatus: null,
      instalmentsToDate: known.reduce((s, r) => s.plus(r.dfeInstalment ?? 0), new Decimal(0)).toFixed(2),
    };
  }
  const asAt = report.reportDate;
  const own = income.instalments.find((i) => i.periodCode === report.periodCode);
  const received = income.instalments.filter(
    (i) =>
      (i.status === 'PAID' && i.dueOn <= asAt) || (i.status === 'PAID_LATE' && i.paidOn !== null && i.paidOn <= asAt),
  );
  const ownStatus = !own ? null : own.status === 'PAID' ? 'PAID' : own.status === 'DUE' ? 'DUE' : 'WITHHELD';
  return {
    instalmentThisPeriod: own && own.status === 'PAID' ? new Decimal(own.amount).toFixed(2) : null,
    instalmentStatus: ownStatus,
    instalmentsToDate: received.reduce((s, i) => s.plus(i.amount), new Decimal(0)).toFixed(2),
  };
}

/**
 * Builds the report from what was known at the period: later reports never leak into an earlier return,
 * so regenerating the Q2 return in Q4 gives the Q2 figures the DfE received.
 */
export async function monitoringReport(db: EntityManager, periodCode: string): Promise<SafetyValveMonitoringReport> {
  const { reports, income } = await derivedReports(db);
  const report = reports.find((r) => r.periodCode === periodCode);
  if (!report) {
    throw new BadInput(
      `Unknown Safety Valve reporting period "${periodCode}". Valid periods: ${reports.map((r) => r.periodCode).join(', ')}.`,
      'period',
      {
        validValues: reports.map((r) => r.periodCode),
      },
    );
  }
  // The version of the agreement in effect when the report was made: a later revision never rewrites a return as sent.
  const agreement = await agreementOn(db, report.reportDate);
  if (!agreement) throw new NotFound('No Safety Valve agreement is recorded.');
  const kpiRows: SafetyValveKpi[] = await db.query(
    `SELECT period_code AS "periodCode", kpi_code AS "kpiCode", name, unit, plan, actual FROM safety_valve_kpi WHERE period_code = $1 ORDER BY kpi_code`,
    [periodCode],
  );

  const known = reports.filter((r) => r.reportDate <= report.reportDate);
  const latestByYear = new Map<string, SafetyValveReport>();
  for (const r of known) latestByYear.set(r.financialYearCode, r);
  const yearEnds: { code: string; endDate: string }[] = await db.query(
    `SELECT code, end_date AS "endDate" FROM financial_year WHERE code = ANY($1::text[]) ORDER BY start_date`,
    [[...latestByYear.keys()]],
  );
  const start = new Decimal(agreement.deficitAtStart).negated().toFixed(2);
  const trajectory: TrajectoryPoint[] = [
    {
      label: `Start (${monthLabel(agreement.deficitAtStartDate)})`,
      date: agreement.deficitAtStartDate,
      periodCode: null,
      cumulativePlan: start,
      cumulativeForecast: start,
    },
    ...yearEnds.map((fy) => {
      const r = latestByYear.get(fy.code)!;
      return {
        label: monthLabel(fy.endDate),
        date: fy.endDate,
        periodCode: r.periodCode,
        cumulativePlan: new Decimal(r.cumulativePlan).toFixed(2),
        cumulativeForecast: new Decimal(r.cumulativeForecast).toFixed(2),
      };
    }),
  ];

  const la = localAuthority();
  return {
    localAuthority: `${la.code} ${la.name}`,
    agreement,
    periodCode: report.periodCode,
    financialYear: report.financialYearCode,
    quarter: report.quarter,
    reportDate: report.reportDate,
    inYear: planForecast(report.inYearPlan, report.inYearForecast),
    cumulative: planForecast(report.cumulativePlan, report.cumulativeForecast),
    ...instalmentsAsAt(report, known, income),
    kpis: kpiRows.map((k) => ({
      kpiCode: k.kpiCode,
      name: k.name,
      unit: k.unit,
      plan: k.plan,
      actual: k.actual,
      variance: k.plan === null ? null : new Decimal(k.actual).minus(k.plan).toString(),
    })),
    trajectory,
  };
}
