import { enumCheck } from '../../common/columns';
import { School } from '../school/school.entity';
import { FinancialYear, FundingTerm } from '../period/period.entity';
import { Community } from '../community/community.entity';
import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Check, Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { MoneyColumn } from '../../common/columns';
import { DecimalScalar, MoneyScalar } from '../../common/scalars';
import { SOURCE_KIND_CHECK, WithProvenance } from '../../common/provenance';

export enum NotionalSenFactorCode {
  BASIC_ENTITLEMENT = 'BASIC_ENTITLEMENT',
  FSM_EVER6 = 'FSM_EVER6',
  DEPRIVATION = 'DEPRIVATION',
  MOBILITY = 'MOBILITY',
  LOW_PRIOR_ATTAINMENT = 'LOW_PRIOR_ATTAINMENT',
  MINIMUM_PER_PUPIL_MFG = 'MINIMUM_PER_PUPIL_MFG',
}
registerEnumType(NotionalSenFactorCode, {
  name: 'NotionalSenFactorCode',
  description: 'A school funding formula factor that contributes to the notional SEN budget.',
});

/** One factor line of a school's notional SEN budget for a financial year. The budget is the sum of its lines. */
@ObjectType({
  description: "One factor line of a school's notional SEN budget: the formula amount times the SEN percentage.",
})
@Entity()
@Check(enumCheck('factor', NotionalSenFactorCode))
@Check(SOURCE_KIND_CHECK)
export class NotionalSenFactor extends WithProvenance {
  @Field(() => Int, { description: 'School URN.' })
  @PrimaryColumn({ type: 'integer' })
  @ForeignKey(() => School, { onDelete: 'RESTRICT' })
  schoolUrn: number;

  @Field(() => String, { description: 'Financial year code.' })
  @PrimaryColumn({ type: 'varchar', length: 7 })
  @ForeignKey(() => FinancialYear, { onDelete: 'RESTRICT' })
  financialYearCode: string;

  @Field(() => NotionalSenFactorCode, { description: 'Formula factor.' })
  @PrimaryColumn({ type: 'varchar', length: 32 })
  factor: NotionalSenFactorCode;

  @Field(() => MoneyScalar, { description: "The school's allocation through this formula factor." })
  @MoneyColumn()
  formulaAmount: string;

  @Field(() => DecimalScalar, { description: 'Share of the factor counted as notional SEN, e.g. "0.70".' })
  @Column({ type: 'numeric', precision: 6, scale: 4 })
  senPercentage: string;

  @Field(() => MoneyScalar, {
    description: 'Notional SEN amount from this factor (formula amount x percentage, rounded to the penny).',
  })
  @MoneyColumn()
  senAmount: string;
}

/** A school's individual high-needs funding for one funding term. */
@Entity()
@Index(['termCode'])
@Check(SOURCE_KIND_CHECK)
export class SchoolTermFunding extends WithProvenance {
  @PrimaryColumn({ type: 'integer' })
  @ForeignKey(() => School, { onDelete: 'RESTRICT' })
  schoolUrn: number;

  @PrimaryColumn({ type: 'varchar', length: 16 })
  @ForeignKey(() => FundingTerm, { onDelete: 'RESTRICT' })
  termCode: string;

  /** The school's previous individual high-needs funding for a term of this length (the baseline). */
  @MoneyColumn()
  baseline: string;

  /** Protection rate for the term: 0.75 for the protected terms, 0 after. */
  @Column({ type: 'numeric', precision: 6, scale: 4 })
  protectionRate: string;

  @MoneyColumn()
  protectedAmount: string;

  /** The school's share of its community's pot for the term (sum of approved allocations, or the indicative share). */
  @MoneyColumn()
  communityShare: string;

  /** EHCP banded top-up from September 2026 (band counts x band values). */
  @MoneyColumn({ default: 0 })
  bandedTopUp: string;
}

@Entity()
@Check(SOURCE_KIND_CHECK)
export class CommunityPot extends WithProvenance {
  @PrimaryColumn({ type: 'varchar', length: 16 })
  @ForeignKey(() => Community, { onDelete: 'RESTRICT' })
  communityCode: string;

  @PrimaryColumn({ type: 'varchar', length: 16 })
  @ForeignKey(() => FundingTerm, { onDelete: 'RESTRICT' })
  termCode: string;

  @MoneyColumn()
  amount: string;
}

@ObjectType({
  description: 'A line of the High Needs block budget for a financial year: budget, forecast and outturn.',
})
@Entity()
@Check(SOURCE_KIND_CHECK)
export class HighNeedsBlockLine extends WithProvenance {
  @Field(() => String, { description: 'Financial year code.' })
  @PrimaryColumn({ type: 'varchar', length: 7 })
  @ForeignKey(() => FinancialYear, { onDelete: 'RESTRICT' })
  financialYearCode: string;

  @Field(() => String, { description: 'Line code, e.g. "COMMUNITY_POTS".' })
  @PrimaryColumn({ type: 'varchar', length: 40 })
  lineCode: string;

  @Field(() => String, { description: 'Line name.' })
  @Column({ type: 'varchar', length: 120 })
  name: string;

  @Field(() => Int, { description: 'Display order.' })
  @Column({ type: 'integer' })
  sortOrder: number;

  @Field(() => MoneyScalar, { description: 'Budget set for the year.' })
  @MoneyColumn()
  budget: string;

  @Field(() => MoneyScalar, { description: 'Latest forecast for the year.' })
  @MoneyColumn()
  forecast: string;

  @Field(() => MoneyScalar, { nullable: true, description: 'Outturn, once the year has closed.' })
  @MoneyColumn({ nullable: true })
  outturn: string | null;

  @Field(() => Boolean, {
    description:
      'True for memorandum lines that are not spent from the High Needs block (e.g. notional SEN budgets, funded in the Schools block).',
  })
  @Column({ type: 'boolean', default: false })
  memo: boolean;
}

/** Number of EHCPs at a school in each funding band, per term (drives banded top-up from September 2026). */
@Entity()
export class EhcpBandCount {
  @PrimaryColumn({ type: 'integer' })
  @ForeignKey(() => School, { onDelete: 'RESTRICT' })
  schoolUrn: number;

  @PrimaryColumn({ type: 'varchar', length: 16 })
  @ForeignKey(() => FundingTerm, { onDelete: 'RESTRICT' })
  termCode: string;

  @PrimaryColumn({ type: 'varchar', length: 8 })
  band: string;

  @Column({ type: 'integer' })
  plans: number;
}
