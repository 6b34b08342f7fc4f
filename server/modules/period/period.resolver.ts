import { Ctx, Field, ObjectType, Query, Resolver } from 'type-graphql';
import type { Context } from '../../context';
import { AcademicYear, FinancialYear, FundingTerm, SchoolTerm } from './period.entity';
import { ListSize } from '../../http/cost';

@ObjectType({ description: "The hub's calendars, each in date order." })
class Periods {
  @ListSize((b) => b.financialYears)
  @Field(() => [FinancialYear], { description: 'Financial years (April-March).' })
  financialYears: FinancialYear[];

  @ListSize((b) => b.academicYears)
  @Field(() => [AcademicYear], { description: 'Academic years (September-August).' })
  academicYears: AcademicYear[];

  @ListSize((b) => b.fundingTerms)
  @Field(() => [FundingTerm], { description: 'Funding terms (Summer, Autumn, Spring).' })
  fundingTerms: FundingTerm[];

  @ListSize((b) => b.schoolTerms)
  @Field(() => [SchoolTerm], { description: "The local authority's six school terms a year." })
  schoolTerms: SchoolTerm[];
}

@Resolver()
export class PeriodResolver {
  @Query(() => Periods, { description: 'Financial years, academic years, funding terms and school terms.' })
  async periods(@Ctx() ctx: Context): Promise<Periods> {
    return ctx.loaders.periods();
  }
}
