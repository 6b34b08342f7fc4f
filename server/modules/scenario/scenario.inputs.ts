import { Field, InputType } from 'type-graphql';
import { DateScalar, DecimalScalar, MoneyScalar } from '../../common/scalars';
import { NotionalSenFactorCode } from '../funding/funding.entity';

@InputType({ description: 'The communities pot for one financial year.' })
export class FinancialYearAmountInput {
  @Field(() => String, { description: 'Financial year code, e.g. "2026-27".' })
  financialYear: string;
  @Field(() => MoneyScalar, { description: 'Pot for the year (shared among the year\'s terms by months).' })
  amount: string;
}

@InputType({ description: 'The notional SEN percentage of one formula factor.' })
export class FactorPercentageInput {
  @Field(() => NotionalSenFactorCode, { description: 'Formula factor.' })
  factor: NotionalSenFactorCode;
  @Field(() => DecimalScalar, { description: 'Share from 0 to 1, e.g. "0.70".' })
  percentage: string;
}

@InputType({ description: 'The annual value of one EHCP band.' })
export class BandValueInput {
  @Field(() => String, { description: 'Band: A, B, C, D or E.' })
  band: string;
  @Field(() => MoneyScalar, { description: 'Annual top-up per plan.' })
  value: string;
}

@InputType({ description: 'How the pot is shared among communities; the two weights must sum to 1.' })
export class CommunityWeightsInput {
  @Field(() => DecimalScalar, { description: 'Weight of pupils on roll.' })
  pupils: string;
  @Field(() => DecimalScalar, { description: 'Weight of pupils eligible for free school meals.' })
  fsmPupils: string;
}

@InputType({ description: 'Funding model parameters to change. Only the fields given change; the rest keep their values.' })
export class ModelParametersInput {
  @Field(() => DecimalScalar, { nullable: true, description: 'Protection rate, from 0 to 1 (record: "0.75").' })
  protectionRate?: string | null;

  @Field(() => [String], { nullable: true, description: 'Funding terms in which the protection applies.' })
  protectedTerms?: string[] | null;

  @Field(() => [FinancialYearAmountInput], { nullable: true, description: 'Communities pot per financial year.' })
  communityPotAnnual?: FinancialYearAmountInput[] | null;

  @Field(() => [FactorPercentageInput], { nullable: true, description: 'Notional SEN percentages per factor.' })
  notionalSenPercentages?: FactorPercentageInput[] | null;

  @Field(() => [BandValueInput], { nullable: true, description: 'Annual EHCP band values.' })
  bandValues?: BandValueInput[] | null;

  @Field(() => DecimalScalar, { nullable: true, description: 'Growth in EHCP numbers, e.g. "0.08" for 8%, from -0.5 to 1.' })
  ehcpGrowth?: string | null;

  @Field(() => CommunityWeightsInput, { nullable: true, description: 'Pot sharing weights.' })
  communityWeights?: CommunityWeightsInput | null;

  @Field(() => DateScalar, { nullable: true, description: 'First day of EHCP banding (record: 2026-09-01).' })
  bandingStartDate?: string | null;
}
