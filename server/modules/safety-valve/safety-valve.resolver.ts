import { Arg, Ctx, Field, FieldResolver, ObjectType, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../../context';
import { requireFinancialYear } from '../period/period.service';
import { SafetyValveAgreement, SafetyValveKpi, SafetyValveReport } from './safety-valve.entity';
import { derivedReports, monitoringReport, SafetyValveMonitoringReport } from './safety-valve.report';
import { ListSize } from '../../http/cost';
import { agreementOn, agreementVersions } from './agreement';
import { SafetyValveInstalmentType, SafetyValvePlanYearType } from './safety-valve.types';
import { SOURCE_JSON, toFigureSource } from '../../common/provenance';

@ObjectType({ description: 'The Safety Valve agreement and its monitoring reports.' })
class SafetyValve {
  @Field(() => SafetyValveAgreement, {
    nullable: true,
    description:
      'The agreement of record: the latest version in effect today (the first to come when none is in effect yet; null when none is held).',
  })
  agreement: SafetyValveAgreement | null;
}

@Resolver(() => SafetyValve)
export class SafetyValveResolver {
  @Query(() => SafetyValve, {
    description: 'The Safety Valve agreement with the DfE: the DSG position and KPIs per reporting period.',
  })
  async safetyValve(@Ctx() ctx: Context): Promise<SafetyValve> {
    return { agreement: await agreementOn(ctx.db) };
  }

  @ListSize((b) => b.safetyValveAgreementVersions)
  @FieldResolver(() => [SafetyValveAgreement], {
    description: "Every version of the agreement the hub holds, oldest first (the DfE's revisions).",
  })
  agreementVersions(@Root() _sv: SafetyValve, @Ctx() ctx: Context): Promise<SafetyValveAgreement[]> {
    return agreementVersions(ctx.db);
  }

  @ListSize((b) => b.financialYears)
  @FieldResolver(() => [SafetyValvePlanYearType], {
    description: "The agreement's planned in-year DSG position by financial year, to the agreement's end.",
  })
  async plan(@Root() _sv: SafetyValve, @Ctx() ctx: Context): Promise<SafetyValvePlanYearType[]> {
    return ctx.db
      .query(
        `SELECT financial_year_code AS "financialYear", in_year_plan AS "inYearPlan", ${SOURCE_JSON('p')} AS source
         FROM safety_valve_plan_year p ORDER BY financial_year_code`,
      )
      .then((rows: any[]) => rows.map((r) => ({ ...r, source: toFigureSource(r.source) })));
  }

  @ListSize((b) => b.safetyValveReports)
  @FieldResolver(() => [SafetyValveInstalmentType], {
    description: 'DfE instalments in due order, with their status (DUE, PAID, PAID_LATE, WITHHELD).',
  })
  async instalments(@Root() _sv: SafetyValve, @Ctx() ctx: Context): Promise<SafetyValveInstalmentType[]> {
    return ctx.db
      .query(
        `SELECT period_code AS "periodCode", financial_year_code AS "financialYear", due_on::text AS "dueOn", amount, status,
              paid_on::text AS "paidOn", ${SOURCE_JSON('i')} AS source
         FROM safety_valve_instalment i ORDER BY due_on, period_code`,
      )
      .then((rows: any[]) => rows.map((r) => ({ ...r, source: toFigureSource(r.source) })));
  }

  @Query(() => SafetyValveMonitoringReport, {
    description:
      'The Safety Valve monitoring report for a reporting period as returned to the DfE: the DSG position (in-year and cumulative, plan against ' +
      'forecast), instalments, KPIs and the deficit trajectory, from what was reported up to that period. Also as XLSX at ' +
      '/export/safety-valve-report.xlsx?period=<code>.',
  })
  safetyValveMonitoringReport(
    @Arg('period', () => String, { description: 'Reporting period code, e.g. "2025-26-Q2".' }) period: string,
    @Ctx() ctx: Context,
  ): Promise<SafetyValveMonitoringReport> {
    return monitoringReport(ctx.db, period);
  }

  @ListSize((b) => b.safetyValveReports)
  @FieldResolver(() => [SafetyValveReport], {
    description: 'Monitoring reports in date order, optionally for one financial year.',
  })
  async reports(
    @Root() _sv: SafetyValve,
    @Arg('financialYear', () => String, { nullable: true, description: 'Financial year code.' })
    financialYear: string | null,
    @Ctx() ctx: Context,
  ): Promise<SafetyValveReport[]> {
    if (financialYear) requireFinancialYear(await ctx.loaders.periods(), financialYear);
    // The same derived figures as the monitoring report: both are the block's DSG position.
    const { reports } = await derivedReports(ctx.db);
    return reports.filter((r) => !financialYear || r.financialYearCode === financialYear);
  }
}

@Resolver(() => SafetyValveReport)
export class SafetyValveReportResolver {
  @ListSize((b) => b.kpisPerPeriod)
  @FieldResolver(() => [SafetyValveKpi], { description: 'KPIs reported for the period.' })
  kpis(@Root() r: SafetyValveReport, @Ctx() ctx: Context): Promise<SafetyValveKpi[]> {
    return ctx.loaders.safetyValveKpis.load(r.periodCode);
  }
}
