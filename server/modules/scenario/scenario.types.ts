import { KeptFigureType } from '../../common/provenance';
import { Field, Int, ObjectType } from 'type-graphql';
import { DecimalScalar, MoneyScalar } from '../../common/scalars';
import { ListSize } from '../../http/cost';
import { BlockIncome, MissingDriver } from '../funding/funding.types';

@ObjectType({ description: "A school's funding for a term under a scenario." })
export class ScenarioSchoolResult {
  @Field(() => Int, { description: 'School URN.' })
  schoolUrn: number;
  @Field(() => String, { nullable: true, description: 'Community on the first day of the term.' })
  communityCode: string | null;
  @Field(() => String, { description: 'Funding term code.' })
  term: string;
  @Field(() => MoneyScalar, { description: 'Baseline individual funding.' })
  baseline: string;
  @Field(() => MoneyScalar, { description: 'Protected amount.' })
  protectedAmount: string;
  @Field(() => MoneyScalar, { description: 'Share of the community pot.' })
  communityShare: string;
  @Field(() => MoneyScalar, { description: 'Banded EHCP top-up.' })
  bandedTopUp: string;
  @Field(() => MoneyScalar, { description: 'Protected + community share + banded top-up.' })
  total: string;
}

@ObjectType({ description: "A community's pot for a term under a scenario." })
export class ScenarioCommunityResult {
  @Field(() => String, { description: 'Community code.' })
  communityCode: string;
  @Field(() => String, { description: 'Funding term code.' })
  term: string;
  @Field(() => MoneyScalar, { description: 'Pot.' })
  pot: string;
  @Field(() => MoneyScalar, { description: 'Indicative shares allocated to member schools (equals the pot).' })
  allocated: string;
}

@ObjectType({ description: 'A High Needs block line under a scenario.' })
export class ScenarioBlockLine {
  @Field(() => String, { description: 'Financial year.' })
  financialYear: string;
  @Field(() => String, { description: 'Line code.' })
  lineCode: string;
  @Field(() => String, { description: 'Line name.' })
  name: string;
  @Field(() => MoneyScalar, { description: 'Budget (funding-model lines recomputed; other lines as of record).' })
  budget: string;
  @Field(() => MoneyScalar, {
    description:
      'What the line pays in the year: computed from the drivers where the line is computed, else the forecast of record (a closed year: its outturn).',
  })
  amount: string;
  @Field(() => Boolean, {
    description: 'True when this figure is computed under the scenario (from the funding model or the drivers).',
  })
  modelled: boolean;
  @Field(() => Boolean, { description: 'Memorandum line, not spent from the block.' })
  memo: boolean;
}

@ObjectType({ description: "A school's places and top-up in a specialist setting for a term under a scenario." })
export class ScenarioProviderResult {
  @Field(() => Int, { description: 'School URN.' })
  schoolUrn: number;
  @Field(() => String, { description: 'Funding term.' })
  termCode: string;
  @Field(() => String, { description: 'SPECIAL, SRP or AP.' })
  setting: string;
  @Field(() => DecimalScalar, {
    description: 'Places funded (after any change in place numbers; may be fractional in a scenario).',
  })
  places: string;
  @Field(() => MoneyScalar, { description: 'Place funding for the term: places x rate x months / 12.' })
  placeFunding: string;
  @Field(() => DecimalScalar, { description: 'Pupils on top-up (after growth).' })
  pupils: string;
  @Field(() => MoneyScalar, {
    description:
      'Top-up for the term: pupils per band x band value (legacy rate before the banding start) x months / 12.',
  })
  topUp: string;
}

@ObjectType({
  description:
    'A financial year under a scenario: block lines, income and the DSG position beside the plan and the record.',
})
export class ScenarioYear {
  @Field(() => String, { description: 'Financial year.' })
  financialYear: string;
  @ListSize((b) => b.blockLinesPerYear)
  @Field(() => [ScenarioBlockLine], { description: 'Every block line of the year.' })
  lines: ScenarioBlockLine[];
  @Field(() => MoneyScalar, { description: 'Spend (memorandum lines excluded).' })
  spend: string;
  @Field(() => BlockIncome, { description: 'Income.' })
  income: BlockIncome;
  @Field(() => MoneyScalar, { description: 'In-year DSG position: income minus spend (negative is a deficit).' })
  inYear: string;
  @Field(() => MoneyScalar, { description: 'Cumulative DSG position at the year end.' })
  cumulative: string;
  @Field(() => MoneyScalar, { nullable: true, description: 'The Safety Valve plan for the year.' })
  planInYear: string | null;
  @Field(() => MoneyScalar, { nullable: true, description: 'The planned cumulative position.' })
  planCumulative: string | null;
  @Field(() => MoneyScalar, { nullable: true, description: 'In-year position of record.' })
  recordInYear: string | null;
  @Field(() => MoneyScalar, { nullable: true, description: 'Cumulative position of record.' })
  recordCumulative: string | null;
  @Field(() => MoneyScalar, {
    nullable: true,
    description: 'Cumulative position minus the planned one (negative: behind the plan).',
  })
  cumulativeAgainstPlan: string | null;
}

@ObjectType({
  description:
    'One point of the deficit trajectory: the cumulative DSG position at a date under the plan, the record and the scenario.',
})
export class ScenarioTrajectoryPoint {
  @Field(() => String, { description: 'Label, e.g. "Mar 2028".' })
  label: string;
  @Field(() => String, { description: 'Date (ISO).' })
  date: string;
  @Field(() => MoneyScalar, { nullable: true, description: 'Planned cumulative position.' })
  plan: string | null;
  @Field(() => MoneyScalar, { nullable: true, description: 'Cumulative position of record.' })
  record: string | null;
  @Field(() => MoneyScalar, { description: 'Cumulative position under the scenario.' })
  scenario: string;
}

@ObjectType({ description: "County totals of a scenario's results (for the terms asked)." })
export class ScenarioTotals {
  @Field(() => MoneyScalar, { description: 'Protected amounts.' })
  protectedAmount: string;
  @Field(() => MoneyScalar, { description: 'Community shares (= pots).' })
  communityShare: string;
  @Field(() => MoneyScalar, { description: 'Banded top-ups.' })
  bandedTopUp: string;
  @Field(() => MoneyScalar, { description: 'All school funding.' })
  total: string;
}

@ObjectType({
  description: 'Results of a scenario: per school and term, per community and term, per block line, and totals.',
})
export class ScenarioResults {
  @ListSize((b) => b.schools * b.fundingTerms)
  @Field(() => [ScenarioSchoolResult], { description: 'Per school and term.' })
  schools: ScenarioSchoolResult[];
  @ListSize((b) => b.communities * b.fundingTerms)
  @Field(() => [ScenarioCommunityResult], { description: 'Per community and term.' })
  communities: ScenarioCommunityResult[];
  @ListSize((b) => b.schools * b.fundingTerms * 3)
  @Field(() => [ScenarioProviderResult], {
    description: 'Special schools, AP and resourced provision: places and top-ups per school, term and setting.',
  })
  specialistSchools: ScenarioProviderResult[];
  @ListSize((b) => b.blockLines)
  @Field(() => [ScenarioBlockLine], { description: 'High Needs block lines per financial year.' })
  blockLines: ScenarioBlockLine[];
  @ListSize((b) => b.financialYears)
  @Field(() => [ScenarioYear], {
    description:
      'Per financial year to the end of the Safety Valve agreement: block lines, income, in-year and cumulative DSG position.',
  })
  years: ScenarioYear[];
  @ListSize((b) => b.financialYears)
  @Field(() => [ScenarioTrajectoryPoint], {
    description: 'The deficit trajectory: the scenario beside the plan and the record.',
  })
  trajectory: ScenarioTrajectoryPoint[];
  @ListSize((b) => b.schools * b.fundingTerms * 3)
  @Field(() => [MissingDriver], {
    description:
      'Drivers the computation did not find (places, counts, placements, bands outside a set): reported, never taken as 0 silently.',
  })
  missingDrivers: MissingDriver[];
  @Field(() => ScenarioTotals, { description: 'Totals.' })
  totals: ScenarioTotals;
  @Field(() => Int, { description: 'Milliseconds the model took to compute (all schools and terms).' })
  computeMs: number;
}

@ObjectType({ description: 'One figure in two versions and their difference (scenario minus base).' })
export class Difference {
  @Field(() => String, { description: 'What the figure is about: a URN, a community code or a line code.' })
  key: string;
  @Field(() => String, { description: 'Funding term or financial year.' })
  period: string;
  @Field(() => MoneyScalar, { description: 'Base value (the figures of record, or the other scenario).' })
  baseline: string;
  @Field(() => MoneyScalar, { description: 'Scenario value.' })
  scenario: string;
  @Field(() => MoneyScalar, { description: 'Scenario minus base.' })
  difference: string;
}

@ObjectType({ description: 'A school-term figure compared.' })
export class SchoolDifference {
  @Field(() => Int, { description: 'School URN.' })
  schoolUrn: number;
  @Field(() => String, { description: 'Funding term.' })
  term: string;
  @Field(() => MoneyScalar, { description: 'Base total.' })
  baseline: string;
  @Field(() => MoneyScalar, { description: 'Scenario total.' })
  scenario: string;
  @Field(() => MoneyScalar, { description: 'Scenario minus base.' })
  difference: string;
}

@ObjectType({ description: 'A scenario compared with the figures of record or with another scenario.' })
export class ScenarioComparison {
  @Field(() => String, { description: '"RECORD" or the id of the scenario compared against.' })
  against: string;
  @ListSize((b) => b.schools * b.fundingTerms)
  @Field(() => [SchoolDifference], {
    description: 'Mainstream school totals per term that differ (all when includeUnchanged).',
  })
  schools: SchoolDifference[];
  @ListSize((b) => b.schools * b.fundingTerms)
  @Field(() => [SchoolDifference], {
    description:
      'Special schools, AP and resourced provision: places plus specialist top-ups per school and term that differ (all when includeUnchanged).',
  })
  specialistSchools: SchoolDifference[];
  @ListSize((b) => b.communities * b.fundingTerms)
  @Field(() => [Difference], { description: 'Community pots per term.' })
  communities: Difference[];
  @ListSize((b) => b.blockLines)
  @Field(() => [Difference], { description: 'Block lines per financial year: what each pays.' })
  blockLines: Difference[];
  @ListSize((b) => b.financialYears * 4)
  @Field(() => [Difference], {
    description: 'DSG position per financial year: keys INCOME, SPEND, IN_YEAR and CUMULATIVE.',
  })
  dsg: Difference[];
  @Field(() => Difference, { description: 'Total school funding over the terms compared.' })
  total: Difference;
}

@ObjectType({ description: 'What a change of the model parameters of record did.' })
export class ParameterChangeResult {
  @Field(() => Int, { description: 'The new version.' })
  version: number;
  @ListSize((b) => b.fundingTerms)
  @Field(() => [String], { description: 'Funding terms whose figures of record were recomputed.' })
  termsRecomputed: string[];
  @ListSize((b) => b.financialYears)
  @Field(() => [String], { description: 'Financial years whose notional SEN budgets were recomputed.' })
  financialYearsRecomputed: string[];
  @Field(() => Int, { description: 'School-term funding rows whose figures changed.' })
  schoolTermRowsChanged: number;
  @Field(() => Int, { description: 'Community pots whose amount changed.' })
  potsChanged: number;
  @ListSize((b) => (b.schools + b.communities) * b.fundingTerms + b.blockLines)
  @Field(() => [KeptFigureType], {
    description: 'Imported or hand-entered figures left as they were (send replaceImported: true to replace them).',
  })
  importedKept: KeptFigureType[];
  @ListSize((b) => (b.schools + b.communities) * b.fundingTerms + b.blockLines)
  @Field(() => [KeptFigureType], {
    description: 'Imported or hand-entered figures replaced by computed ones (replaceImported: true).',
  })
  importedReplaced: KeptFigureType[];
}
