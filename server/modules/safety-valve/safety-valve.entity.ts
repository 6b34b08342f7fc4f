import { FinancialYear } from '../period/period.entity';
import { Field, Int, ObjectType } from 'type-graphql';
import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import { DateColumn, MoneyColumn } from '../../common/columns';
import { DateScalar, DecimalScalar, MoneyScalar } from '../../common/scalars';

@ObjectType({ description: 'The Safety Valve agreement between Kent and the DfE to eliminate the DSG deficit.' })
@Entity()
export class SafetyValveAgreement {
  @Field(() => String, { description: 'Agreement reference.' })
  @PrimaryColumn({ type: 'varchar', length: 32 })
  code: string;

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
}

@ObjectType({ description: 'A Safety Valve monitoring report to the DfE: the DSG position for a reporting period.' })
@Entity()
export class SafetyValveReport {

  @Field(() => String, { description: 'Reporting period code, e.g. "2025-26-Q2".' })
  @PrimaryColumn({ type: 'varchar', length: 12 })
  periodCode: string;

  @Field(() => String, { description: 'Financial year.' })
  @Column({ type: 'varchar', length: 7 })
  @ForeignKey(() => FinancialYear, { onDelete: 'RESTRICT' })
  financialYearCode: string;

  @Field(() => Int, { description: 'Quarter of the financial year (1-4).' })
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
export class SafetyValveKpi {

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
