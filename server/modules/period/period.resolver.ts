import { Ctx, Field, ObjectType, Query, Resolver } from 'type-graphql';
import type { Context } from '../../context';
import { AcademicYear, FinancialYear, FundingTerm, SchoolTerm } from './period.entity';

@ObjectType({ description: 'The hub\'s calendars, each in date order.' })
class Periods {
  @Field(() => [FinancialYear], { description: 'Financial years (April-March).' })
  financialYears: FinancialYear[];

  @Field(() => [AcademicYear], { description: 'Academic years (September-August).' })
  academicYears: AcademicYear[];

  @Field(() => [FundingTerm], { description: 'Funding terms (Summer, Autumn, Spring).' })
  fundingTerms: FundingTerm[];

  @Field(() => [SchoolTerm], { description: 'Kent\'s six school terms a year.' })
  schoolTerms: SchoolTerm[];
}

@Resolver()
export class PeriodResolver {
  @Query(() => Periods, { description: 'Financial years, academic years, funding terms and school terms.' })
  async periods(@Ctx() ctx: Context): Promise<Periods> {
    return ctx.loaders.periods();
  }
}
