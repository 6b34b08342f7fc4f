import { Arg, Ctx, Field, FieldResolver, ObjectType, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../../context';
import { requireFinancialYear } from '../period/period.service';
import { SafetyValveAgreement, SafetyValveKpi, SafetyValveReport } from './safety-valve.entity';
import { derivedReports, monitoringReport, SafetyValveMonitoringReport } from './safety-valve.report';
import { ListSize } from '../../http/cost';

@ObjectType({ description: 'The Safety Valve agreement and its monitoring reports.' })
class SafetyValve {
  @Field(() => SafetyValveAgreement, { nullable: true, description: 'The agreement.' })
  agreement: SafetyValveAgreement | null;
}

@Resolver(() => SafetyValve)
export class SafetyValveResolver {
  @Query(() => SafetyValve, {
    description: 'The Safety Valve agreement with the DfE: the DSG position and KPIs per reporting period.',
  })
  async safetyValve(@Ctx() ctx: Context): Promise<SafetyValve> {
    const [agreement] = await ctx.db.query(
      `SELECT code, first_financial_year AS "firstFinancialYear", last_financial_year AS "lastFinancialYear",
              dfe_contribution AS "dfeContribution", la_contribution AS "laContribution", deficit_at_start AS "deficitAtStart",
              deficit_at_start_date AS "deficitAtStartDate"
         FROM safety_valve_agreement ORDER BY code LIMIT 1`,
    );
    return { agreement: agreement ?? null };
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
