import { Field, Int, ObjectType } from 'type-graphql';
import { DecimalScalar, MoneyScalar } from '../../common/scalars';
import { HighNeedsBlockLine, NotionalSenFactor } from './funding.entity';
import { ListSize } from '../../http/cost';

@ObjectType({
  description: "A school's notional SEN budget for a financial year (element 2): the sum of its factor lines.",
})
export class NotionalSenBudget {
  @Field(() => Int, { description: 'School URN.' })
  schoolUrn: number;

  @Field(() => String, { description: 'Financial year code.' })
  financialYear: string;

  @Field(() => MoneyScalar, { description: 'Total notional SEN budget.' })
  total: string;

  @ListSize((b) => b.senFactors)
  @Field(() => [NotionalSenFactor], { description: 'Factor breakdown.' })
  factors: NotionalSenFactor[];
}

@ObjectType({ description: "A school's individual high-needs funding for one funding term." })
export class SchoolFunding {
  @Field(() => Int, { description: 'School URN.' })
  schoolUrn: number;

  @Field(() => String, { description: 'Funding term code.' })
  term: string;

  @Field(() => MoneyScalar, {
    description: "Baseline: the school's previous individual high-needs funding for a term of this length.",
  })
  baseline: string;

  @Field(() => DecimalScalar, {
    description: 'Protection rate in force for the term ("0.75" for Summer 2025 to Summer 2026, "0" after).',
  })
  protectionRate: string;

  @Field(() => MoneyScalar, { description: 'Protected amount: baseline x protection rate.' })
  protectedAmount: string;

  @Field(() => MoneyScalar, { description: "The school's share of its community's pot for the term." })
  communityShare: string;

  @Field(() => MoneyScalar, {
    nullable: true,
    description:
      'EHCP banded top-up (from September 2026): plans per band x band value, so it encodes counts of children. Null when suppressed ' +
      '(see `bandedTopUpSuppressed`).',
  })
  bandedTopUp: string | null;

  @Field(() => MoneyScalar, {
    nullable: true,
    description: 'Protected amount + community share + banded top-up; null when the banded top-up is suppressed.',
  })
  total: string | null;

  @Field(() => Boolean, {
    description:
      'True when the banded top-up (and so the total) is hidden from your role: it would reveal a count of children from 1 to 4, or a ' +
      'suppressed EHCP caseload (disclosure control).',
  })
  bandedTopUpSuppressed: boolean;
}

@ObjectType({ description: "A community's pot for a funding term." })
export class CommunityPotView {
  @Field(() => String, { description: 'Community code.' })
  communityCode: string;

  @Field(() => String, { description: 'Funding term code.' })
  term: string;

  @Field(() => MoneyScalar, { description: "The pot: the community's high-needs resources for the term." })
  amount: string;

  @Field(() => MoneyScalar, { description: 'Total of APPROVED allocations from the pot.' })
  approved: string;

  @Field(() => MoneyScalar, { description: 'Total of PROPOSED allocations awaiting approval.' })
  proposed: string;

  @Field(() => MoneyScalar, { description: 'Pot minus approved allocations.' })
  remaining: string;
}

@ObjectType({
  description: 'A driver the computation needed and did not find: what it left out, never counted as 0 silently.',
})
export class MissingDriver {
  @Field(() => String, { description: 'PLACES, TOP_UP_COUNTS, BAND_NOT_IN_SET or PLACEMENTS.' })
  kind: string;
  @Field(() => String, { description: 'Setting or placement kind.' })
  setting: string;
  @Field(() => Int, { nullable: true, description: 'School URN, when it is about one school.' })
  schoolUrn: number | null;
  @Field(() => String, { description: 'Academic year, funding term or financial year.' })
  period: string;
  @Field(() => String, { description: 'What is missing and what was left out.' })
  message: string;
}

@ObjectType({ description: "The High Needs block's income for a financial year." })
export class BlockIncome {
  @Field(() => MoneyScalar, { description: 'DSG high-needs block allocation, before the import/export adjustment.' })
  highNeedsAllocation: string;
  @Field(() => DecimalScalar, {
    nullable: true,
    description: "Other authorities' children in the LA's schools (imports); null: not recorded.",
  })
  importedPupils: string | null;
  @Field(() => DecimalScalar, {
    nullable: true,
    description:
      "The LA's children in other authorities' schools (exports); a scenario's OTHER_LA growth and moves change them. Null: not recorded.",
  })
  exportedPupils: string | null;
  @Field(() => MoneyScalar, { description: 'The import/export adjustment per pupil (record: £6,000).' })
  importExportRate: string;
  @Field(() => MoneyScalar, {
    description:
      "The import/export adjustment: (imported - exported) x importExportRate. Exported pupils' place funding is the providing authority's.",
  })
  importExportAdjustment: string;
  @Field(() => MoneyScalar, {
    description: 'Moved from the Schools Block: the Schools Block x schoolsBlockTransferRate.',
  })
  schoolsBlockTransfer: string;
  @Field(() => DecimalScalar, { description: 'Share of the Schools Block transferred (e.g. "0.012").' })
  schoolsBlockTransferRate: string;
  @Field(() => MoneyScalar, {
    description:
      'DfE Safety Valve instalments counted in the year (paid on time: the year of the report; paid late: the year paid; withheld: none; due: expected).',
  })
  safetyValveDfe: string;
  @Field(() => MoneyScalar, { description: "The local authority's contribution." })
  laContribution: string;
  @Field(() => MoneyScalar, { description: 'All income.' })
  total: string;
}

@ObjectType({ description: "The DSG position a year's block and income give (negative is a deficit)." })
export class DsgPosition {
  @Field(() => MoneyScalar, {
    description: 'Spend: the outturn once every line has one, else the forecast (memorandum lines excluded).',
  })
  spend: string;
  @Field(() => MoneyScalar, { description: 'Income minus spend.' })
  inYear: string;
  @Field(() => MoneyScalar, { description: 'Cumulative position at the year end, from the position brought forward.' })
  cumulative: string;
  @Field(() => MoneyScalar, { nullable: true, description: 'The Safety Valve plan for the year.' })
  planInYear: string | null;
  @Field(() => MoneyScalar, { nullable: true, description: 'The planned cumulative position at the year end.' })
  planCumulative: string | null;
}

@ObjectType({ description: 'The High Needs block for a financial year.' })
export class HighNeedsBlock {
  @Field(() => String, { description: 'Financial year code.' })
  financialYear: string;

  @ListSize((b) => b.blockLinesPerYear)
  @Field(() => [HighNeedsBlockLine], { description: 'Budget lines, including memorandum lines.' })
  lines: HighNeedsBlockLine[];

  @Field(() => MoneyScalar, { description: 'Total budget of the block (memorandum lines excluded).' })
  totalBudget: string;

  @Field(() => MoneyScalar, { description: 'Total forecast of the block (memorandum lines excluded).' })
  totalForecast: string;

  @Field(() => MoneyScalar, { nullable: true, description: 'Total outturn, when every line has one.' })
  totalOutturn: string | null;

  @Field(() => MoneyScalar, { description: 'Forecast minus budget (positive is an overspend).' })
  variance: string;

  @Field(() => BlockIncome, {
    nullable: true,
    description:
      'Income: allocation, Schools Block transfer, Safety Valve DfE instalments, LA contribution (null when not recorded for the year).',
  })
  income: BlockIncome | null;

  @Field(() => DsgPosition, {
    nullable: true,
    description: 'In-year and cumulative DSG position (the figures the Safety Valve reports carry).',
  })
  dsg: DsgPosition | null;
}
