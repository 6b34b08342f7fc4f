import { FinancialYear } from '../period/period.entity';
import { Field, Int, ObjectType } from 'type-graphql';
import { Check, Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { DateColumn, MoneyColumn } from '../../common/columns';
import { SOURCE_KIND_CHECK, WithTextProvenance } from '../../common/provenance';
import { DateScalar, DecimalScalar, MoneyScalar } from '../../common/scalars';

@ObjectType({
  description:
    "A version of the local authority's Safety Valve agreement with the DfE to eliminate the DSG deficit. The DfE revises an " +
    'agreement (years, totals, reporting cadence); each revision is a new version, effective from a date. The agreement of record is ' +
    'the latest version in effect.',
})
@Entity()
@Index(['code', 'effectiveFrom'], { unique: true })
@Check(SOURCE_KIND_CHECK)
@Check('"reports_per_year" BETWEEN 1 AND 12')
@Check('"first_financial_year" <= "last_financial_year"')
export class SafetyValveAgreement extends WithTextProvenance {
  @Field(() => String, { description: 'Agreement reference.' })
  @PrimaryColumn({ type: 'varchar', length: 32 })
  code: string;

  @Field(() => Int, { description: 'Version of the agreement: 1 as first signed, then one more per DfE revision.' })
  @PrimaryColumn({ type: 'integer' })
  version: number;

  @Field(() => DateScalar, { description: 'The day this version takes effect (until a later version does).' })
  @DateColumn()
  effectiveFrom: string;

  @Field(() => Int, {
    description:
      'Monitoring reports a year the agreement asks for (e.g. 3 for three a year; 4 for quarterly reporting).',
  })
  @Column({ type: 'integer' })
  reportsPerYear: number;

  @Field(() => String, { nullable: true, description: 'What this version changed, as the DfE put it.' })
  @Column({ type: 'varchar', length: 200, nullable: true })
  note: string | null;

  @Field(() => String, { description: 'First financial year covered.' })
  @Column({ type: 'varchar', length: 7 })
  firstFinancialYear: string;

  @Field(() => String, { description: 'Last financial year covered.' })
  @Column({ type: 'varchar', length: 7 })
  lastFinancialYear: string;

  @Field(() => MoneyScalar, { description: 'Total DfE contribution over the agreement.' })
  @MoneyColumn()
  dfeContribution: string;

  @Field(() => MoneyScalar, { description: 'Total local authority contribution over the agreement.' })
  @MoneyColumn()
  laContribution: string;

  @Field(() => MoneyScalar, { description: 'Cumulative DSG deficit at the start of the agreement.' })
  @MoneyColumn()
  deficitAtStart: string;

  @Field(() => DateScalar, { description: 'Date the starting deficit was measured.' })
  @DateColumn()
  deficitAtStartDate: string;

  @Field(() => DateScalar, {
    nullable: true,
    description:
      'Date of the position brought forward into the first year the hub holds (the DSG positions run from here).',
  })
  @DateColumn({ nullable: true })
  broughtForwardDate: string | null;

  @Field(() => MoneyScalar, {
    nullable: true,
    description: 'Planned cumulative DSG position on broughtForwardDate (negative is a deficit).',
  })
  @MoneyColumn({ nullable: true })
  broughtForwardPlan: string | null;

  @Field(() => MoneyScalar, {
    nullable: true,
    description: 'Outturn cumulative DSG position on broughtForwardDate (negative is a deficit).',
  })
  @MoneyColumn({ nullable: true })
  broughtForwardOutturn: string | null;
}

@ObjectType({ description: 'A Safety Valve monitoring report to the DfE: the DSG position for a reporting period.' })
@Entity()
@Check(SOURCE_KIND_CHECK)
@Check('"quarter" BETWEEN 1 AND 12')
export class SafetyValveReport extends WithTextProvenance {
  @Field(() => String, { description: 'Reporting period code, e.g. "2025-26-Q2".' })
  @PrimaryColumn({ type: 'varchar', length: 12 })
  periodCode: string;

  @Field(() => String, { description: 'Financial year.' })
  @Column({ type: 'varchar', length: 7 })
  @ForeignKey(() => FinancialYear, { onDelete: 'RESTRICT' })
  financialYearCode: string;

  @Field(() => Int, {
    description:
      "The report's number within the financial year, 1 to the agreement's reportsPerYear (the quarter when it reports four times a year).",
  })
  @Column({ type: 'integer' })
  quarter: number;

  @Field(() => DateScalar, { description: 'Date the report was submitted.' })
  @DateColumn()
  reportDate: string;

  @Field(() => MoneyScalar, { description: 'Planned in-year DSG position (negative is a deficit).' })
  @MoneyColumn()
  inYearPlan: string;

  @Field(() => MoneyScalar, { description: 'Forecast in-year DSG position (negative is a deficit).' })
  @MoneyColumn()
  inYearForecast: string;

  @Field(() => MoneyScalar, { description: 'Planned cumulative DSG position at year end (negative is a deficit).' })
  @MoneyColumn()
  cumulativePlan: string;

  @Field(() => MoneyScalar, { description: 'Forecast cumulative DSG position at year end (negative is a deficit).' })
  @MoneyColumn()
  cumulativeForecast: string;

  @Field(() => MoneyScalar, { nullable: true, description: 'DfE instalment paid after this report, if any.' })
  @MoneyColumn({ nullable: true })
  dfeInstalment: string | null;
}

@ObjectType({ description: 'A key performance indicator reported with a Safety Valve monitoring report.' })
@Entity()
@Check(SOURCE_KIND_CHECK)
@Check(`"unit" IN ('COUNT', 'PERCENT', 'GBP')`)
export class SafetyValveKpi extends WithTextProvenance {
  @Field(() => String, { description: 'Reporting period code.' })
  @PrimaryColumn({ type: 'varchar', length: 12 })
  @ForeignKey(() => SafetyValveReport, { onDelete: 'RESTRICT' })
  periodCode: string;

  @Field(() => String, { description: 'KPI code, e.g. "EHCP_TOTAL".' })
  @PrimaryColumn({ type: 'varchar', length: 40 })
  kpiCode: string;

  @Field(() => String, { description: 'KPI name.' })
  @Column({ type: 'varchar', length: 120 })
  name: string;

  @Field(() => String, { description: 'Unit: COUNT, PERCENT or GBP.' })
  @Column({ type: 'varchar', length: 8 })
  unit: string;

  @Field(() => DecimalScalar, { nullable: true, description: 'Planned value.' })
  @Column({ type: 'numeric', precision: 16, scale: 2, nullable: true })
  plan: string | null;

  @Field(() => DecimalScalar, { description: 'Actual value.' })
  @Column({ type: 'numeric', precision: 16, scale: 2 })
  actual: string;
}

/** The agreement's planned in-year DSG position for a financial year (the trajectory the DfE monitors). */
@Entity()
@Check(SOURCE_KIND_CHECK)
export class SafetyValvePlanYear extends WithTextProvenance {
  @PrimaryColumn({ type: 'varchar', length: 7 })
  @ForeignKey(() => FinancialYear, { onDelete: 'RESTRICT' })
  financialYearCode: string;

  @MoneyColumn()
  inYearPlan: string;
}

/** A DfE Safety Valve instalment: due after a monitoring report, then paid, withheld or paid late. */
@Entity()
@Check(`"status" IN ('PAID', 'PAID_LATE', 'WITHHELD', 'DUE')`)
@Check(`("status" IN ('PAID', 'PAID_LATE')) = ("paid_on" IS NOT NULL)`)
@Check(SOURCE_KIND_CHECK)
export class SafetyValveInstalment extends WithTextProvenance {
  /** The reporting period it follows, e.g. "2025-26-Q2" (future periods too: instalments still due). */
  @PrimaryColumn({ type: 'varchar', length: 12 })
  periodCode: string;

  @Column({ type: 'varchar', length: 7 })
  @ForeignKey(() => FinancialYear, { onDelete: 'RESTRICT' })
  financialYearCode: string;

  @DateColumn()
  dueOn: string;

  @MoneyColumn()
  amount: string;

  @Column({ type: 'varchar', length: 12 })
  status: string;

  @DateColumn({ nullable: true })
  paidOn: string | null;
}

/** What each block line's forecast was when a monitoring report was made, so a return can be regenerated as sent. */
@Entity()
export class BlockForecastSnapshot {
  @PrimaryColumn({ type: 'varchar', length: 12 })
  @ForeignKey(() => SafetyValveReport, { onDelete: 'RESTRICT' })
  periodCode: string;

  @PrimaryColumn({ type: 'varchar', length: 40 })
  lineCode: string;

  @MoneyColumn()
  forecast: string;
}
