import { Arg, Ctx, Field, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import type { Context } from '../../context';
import { generatePeriods } from './period.calendar';
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

@ObjectType({ description: 'What generating the periods for a range of financial years did.' })
class PeriodsGenerated {
  @Field(() => Int, { description: 'Financial years created.' })
  financialYearsCreated: number;
  @Field(() => Int, { description: 'Academic years created.' })
  academicYearsCreated: number;
  @Field(() => Int, { description: 'Funding terms created.' })
  fundingTermsCreated: number;
  @Field(() => Int, { description: 'Periods of the range the hub already held (kept as they are).' })
  alreadyHeld: number;
  @Field(() => String, { description: 'What was done, in words.' })
  message: string;
}

@Resolver()
export class PeriodResolver {
  @Mutation(() => PeriodsGenerated, {
    description:
      'Finance: generates the financial years first to last (e.g. "2024-25" to "2027-28"), the academic years they touch and their ' +
      'funding terms (Summer 5/12, Autumn 4/12, Spring 3/12), as `npm run periods` does. Periods already held are kept; one that ' +
      'differs is refused. Refused in a demo database. Audited.',
  })
  async generatePeriods(
    @Arg('first', () => String, { description: 'First financial year, e.g. "2024-25".' }) first: string,
    @Arg('last', () => String, { description: 'Last financial year, e.g. "2027-28".' }) last: string,
    @Ctx() ctx: Context,
  ): Promise<PeriodsGenerated> {
    // Finance only: the policy table's rule (auth/policy.ts), put in front of every mutation.
    const r = await generatePeriods(ctx.db, first, last, { viewer: ctx.viewer, source: ctx.source });
    return {
      financialYearsCreated: r.created.financialYears,
      academicYearsCreated: r.created.academicYears,
      fundingTermsCreated: r.created.fundingTerms,
      alreadyHeld: r.unchanged,
      message: r.message,
    };
  }

  @Query(() => Periods, { description: 'Financial years, academic years, funding terms and school terms.' })
  async periods(@Ctx() ctx: Context): Promise<Periods> {
    return ctx.loaders.periods();
  }
}
