import { Field, InputType } from 'type-graphql';
import { DateScalar, DecimalScalar, MoneyScalar } from '../../common/scalars';
import { NotionalSenFactorCode } from '../funding/funding.entity';

@InputType({ description: 'The communities pot for one financial year.' })
export class FinancialYearAmountInput {
  @Field(() => String, { description: 'Financial year code, e.g. "2026-27".' })
  financialYear: string;
  @Field(() => MoneyScalar, { description: "Pot for the year (shared among the year's terms by months)." })
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

@InputType({
  description: 'Funding model parameters to change. Only the fields given change; the rest keep their values.',
})
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

  @Field(() => DecimalScalar, {
    nullable: true,
    description: 'Growth in EHCP numbers, e.g. "0.08" for 8%, from -0.5 to 1.',
  })
  ehcpGrowth?: string | null;

  @Field(() => CommunityWeightsInput, { nullable: true, description: 'Pot sharing weights.' })
  communityWeights?: CommunityWeightsInput | null;

  @Field(() => DateScalar, { nullable: true, description: 'First day of EHCP banding (record: 2026-09-01).' })
  bandingStartDate?: string | null;

  @Field(() => [TermRateInput], {
    nullable: true,
    description: 'Protection rate per funding term (a taper); a term named here is protected at its rate.',
  })
  protectionRateByTerm?: TermRateInput[] | null;

  @Field(() => [PlaceRateInput], { nullable: true, description: 'Annual funding per place by place type.' })
  placeRates?: PlaceRateInput[] | null;

  @Field(() => [SettingAmountInput], {
    nullable: true,
    description: 'Top-up per pupil before the banding start (the old mechanisms), per specialist setting.',
  })
  legacyTopUpRates?: SettingAmountInput[] | null;

  @Field(() => [BandSetInput], {
    nullable: true,
    description: "Band sets of specialist settings (each replaces the setting's whole set).",
  })
  bandSets?: BandSetInput[] | null;

  @Field(() => [SettingBandValueInput], {
    nullable: true,
    description: "Values of bands of specialist settings (the band must be in the setting's set).",
  })
  settingBandValues?: SettingBandValueInput[] | null;

  @Field(() => DecimalScalar, {
    nullable: true,
    description: 'Annual uplift on every rate, band value and unit cost after 2025-26, from -0.1 to 0.2 (e.g. "0.03").',
  })
  rateUplift?: string | null;

  @Field(() => [SettingShareInput], {
    nullable: true,
    description: 'EHCP growth by setting (replaces ehcpGrowth for that setting).',
  })
  growthBySetting?: SettingShareInput[] | null;

  @Field(() => [SettingShareInput], {
    nullable: true,
    description: 'Change in commissioned place numbers by specialist setting, from -0.5 to 1.',
  })
  placeChange?: SettingShareInput[] | null;

  @Field(() => [PlacementShiftInput], {
    nullable: true,
    description: 'Placements moved between settings (replaces the list).',
  })
  placementShifts?: PlacementShiftInput[] | null;

  @Field(() => DecimalScalar, {
    nullable: true,
    description: 'Share of the Schools Block moved into High Needs, from 0 to 0.05 (record: "0.012").',
  })
  schoolsBlockTransferRate?: string | null;

  @Field(() => DecimalScalar, {
    nullable: true,
    description:
      'Annual growth of the high-needs allocation after 2025-26, from -0.2 to 0.3 (replaces the given later allocations).',
  })
  allocationGrowth?: string | null;

  @Field(() => DecimalScalar, {
    nullable: true,
    description:
      'The import/export adjustment per pupil, from 0 to 20000 (record: "6000.00"): the allocation gains it per pupil imported and loses it per pupil exported.',
  })
  importExportRate?: string | null;

  @Field(() => DecimalScalar, {
    nullable: true,
    description:
      'Change in the pupils imported (other authorities\' children in the LA\'s schools), from -0.5 to 1 (e.g. "-0.10": 10% fewer).',
  })
  importChange?: string | null;

  @Field(() => DecimalScalar, {
    nullable: true,
    description:
      "Change in the pupils exported (the LA's children in other authorities' schools), from -0.5 to 1; OTHER_LA growth and moves change them besides.",
  })
  exportChange?: string | null;
}

@InputType({ description: 'A rate for one funding term (a protection taper).' })
export class TermRateInput {
  @Field(() => String, { description: 'Funding term code, e.g. "AUTUMN-2026".' })
  term: string;
  @Field(() => DecimalScalar, { description: 'Rate from 0 to 1.' })
  rate: string;
}

@InputType({ description: 'The annual funding per place of one place type.' })
export class PlaceRateInput {
  @Field(() => String, { description: 'SPECIAL_PRE16, SPECIAL_POST16, AP or SRP.' })
  placeType: string;
  @Field(() => MoneyScalar, { description: 'Annual funding per place (DfE: 10000 special and AP, 6000 SRP).' })
  rate: string;
}

@InputType({ description: 'An amount for one specialist setting.' })
export class SettingAmountInput {
  @Field(() => String, { description: 'SRP, SPECIAL or AP.' })
  setting: string;
  @Field(() => MoneyScalar, { description: 'Annual amount per pupil.' })
  amount: string;
}

@InputType({ description: 'A share for one setting (EHCP growth or a change in place numbers).' })
export class SettingShareInput {
  @Field(() => String, {
    description: 'MAINSTREAM, SRP, SPECIAL, AP, INDEPENDENT_NMSS or POST_16_FE (places: SRP, SPECIAL or AP).',
  })
  setting: string;
  @Field(() => DecimalScalar, { description: 'e.g. "0.08" for 8%, from -0.5 to 1.' })
  share: string;
}

@InputType({ description: 'The band set of one specialist setting from the banding start: replaces the whole set.' })
export class BandSetInput {
  @Field(() => String, { description: 'SRP, SPECIAL or AP.' })
  setting: string;
  @Field(() => [BandValueInput], { description: 'Every band of the set with its annual value.' })
  bands: BandValueInput[];
}

@InputType({ description: "The value of one band of a specialist setting's band set." })
export class SettingBandValueInput {
  @Field(() => String, { description: 'SRP, SPECIAL or AP.' })
  setting: string;
  @Field(() => String, { description: "A band of that setting's set (e.g. S3)." })
  band: string;
  @Field(() => MoneyScalar, { description: 'Annual top-up per pupil.' })
  value: string;
}

@InputType({ description: 'A share of one kind of placement moved into a setting with places.' })
export class PlacementShiftInput {
  @Field(() => String, {
    description: "INDEPENDENT_NMSS, POST_16_FE or OTHER_LA (the LA's children in other authorities' schools).",
  })
  from: string;
  @Field(() => String, { description: 'SPECIAL, AP or SRP.' })
  to: string;
  @Field(() => DecimalScalar, { description: 'Share moved, from 0 to 1 (e.g. "0.05").' })
  share: string;
  @Field(() => String, {
    description:
      'Band of the receiving setting each moved placement is funded at from the banding start (before it: the legacy rate).',
  })
  band: string;
}
