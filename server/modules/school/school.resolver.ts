import Decimal from 'decimal.js';
import type { GraphQLResolveInfo } from 'graphql';
import {
  Arg,
  Args,
  ArgsType,
  Ctx,
  Field,
  FieldResolver,
  Info,
  Int,
  ObjectType,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import { then } from '../peekable';
import { prefetchSchoolFields } from './school.prefetch';
import type { Context } from '../../context';
import { BadInput } from '../../errors';
import { DateScalar } from '../../common/scalars';
import { PageInfo } from '../page-info.types';
import { District } from '../geography/geography.entity';
import { Community } from '../community/community.entity';
import { NotionalSenBudget, SchoolFunding } from '../funding/funding.types';
import { schoolTermTotal } from '../funding/engine';
import { CaseloadValue } from '../caseload/caseload.types';
import { CaseloadKind } from '../caseload/caseload.entity';
import { schoolCaseloads, scopeOf } from '../caseload/disclosure.store';
import { hiddenBandedTopUps } from '../caseload/disclosive-money';
import { requireFinancialYear, requireFundingTerm, requireSchoolTerm, todayIso } from '../period/period.service';
import { School } from './school.entity';
import { MAX_LINKS_PER_SCHOOL, SchoolLink } from './school-link.entity';
import { SchoolFilter, SchoolOrder } from './school.inputs';
import { countSchools, encodeCursor, findSchools, MAX_PAGE_SIZE, SchoolPage } from './school.service';
import { ListSize, pageOf } from '../../http/cost';

@ObjectType({ description: 'An edge in a school connection.' })
class SchoolEdge {
  @Field(() => String, { description: 'Opaque cursor of this row.' })
  cursor: string;

  @Field(() => School, { description: 'The school.' })
  node: School;
}

@ObjectType({ description: 'A page of schools (Relay connection).' })
export class SchoolConnection {
  page: SchoolPage;

  @ListSize(1) // the page: Query.schools' `first` sizes it
  @Field(() => [SchoolEdge], { description: 'Rows with cursors.' })
  edges: SchoolEdge[];

  @ListSize(1) // the page: Query.schools' `first` sizes it
  @Field(() => [School], { description: 'Rows without cursors (shorter to write when you do not page).' })
  nodes: School[];

  @Field(() => PageInfo, { description: 'Paging information.' })
  pageInfo: PageInfo;
}

@ArgsType()
class SchoolsArgs {
  @Field(() => Int, { defaultValue: 100, description: `Page size, at most ${MAX_PAGE_SIZE}.` })
  first: number;

  @Field(() => String, {
    nullable: true,
    description: 'Cursor after which the page starts (endCursor of the previous page).',
  })
  after?: string | null;

  @Field(() => SchoolFilter, { nullable: true, description: 'Filters.' })
  filter?: SchoolFilter | null;

  @Field(() => SchoolOrder, { nullable: true, description: 'Sort order (default URN ascending).' })
  orderBy?: SchoolOrder | null;
}

@Resolver(() => SchoolConnection)
export class SchoolConnectionResolver {
  @FieldResolver(() => Int, { description: 'Number of schools matching the filter, across all pages.' })
  totalCount(@Root() conn: SchoolConnection, @Ctx() ctx: Context): Promise<number> {
    return countSchools(ctx.db, conn.page.filter);
  }
}

@Resolver(() => School)
export class SchoolResolver {
  @ListSize(pageOf('schools'))
  @Query(() => SchoolConnection, {
    description: 'Schools, filtered, sorted and paged. Up to 1,000 per page, so the whole county fits in one.',
  })
  async schools(
    @Args(() => SchoolsArgs) args: SchoolsArgs,
    @Ctx() ctx: Context,
    @Info() info?: GraphQLResolveInfo,
  ): Promise<SchoolConnection> {
    const page = await findSchools(ctx.db, args);
    const edges = page.rows.map((node) => ({ node, cursor: encodeCursor(page.order, node) }));
    for (const s of page.rows) ctx.loaders.schoolByUrn.prime(s.urn, s);
    if (info) await prefetchSchoolFields(ctx, info, page.rows);
    return {
      page,
      edges,
      nodes: page.rows,
      pageInfo: {
        hasNextPage: page.hasNextPage,
        hasPreviousPage: page.hasPreviousPage,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges[edges.length - 1]?.cursor ?? null,
      },
    };
  }

  @Query(() => School, { nullable: true, description: 'One school by URN, or null when there is none.' })
  school(@Arg('urn', () => Int, { description: 'DfE URN.' }) urn: number, @Ctx() ctx: Context): Promise<School | null> {
    return ctx.loaders.schoolByUrn.load(urn);
  }

  @ListSize((_b, args) => (Array.isArray(args.urns) ? args.urns.length : 1))
  @Query(() => [School], {
    nullable: 'items',
    description:
      'Schools by URN in the order asked, null for unknown URNs. For spreadsheets that look up many schools at once.',
  })
  schoolsByUrn(
    @Arg('urns', () => [Int], { description: `URNs, at most ${MAX_PAGE_SIZE}.` }) urns: number[],
    @Ctx() ctx: Context,
  ) {
    if (urns.length > MAX_PAGE_SIZE)
      throw new BadInput(`urns takes at most ${MAX_PAGE_SIZE} values; got ${urns.length}.`, 'urns');
    return ctx.loaders.schoolByUrn.loadMany(urns);
  }

  @FieldResolver(() => District, { description: "The school's district." })
  district(@Root() s: School, @Ctx() ctx: Context) {
    return schoolFields.district(s, {}, ctx);
  }

  @FieldResolver(() => Community, {
    nullable: true,
    description:
      'The Community of Schools the school belongs to on `asOf` (default today); null for special schools, PRUs and closed schools.',
  })
  community(
    @Root() s: School,
    @Arg('asOf', () => DateScalar, { nullable: true, description: 'Date (default today).' }) asOf: string | null,
    @Ctx() ctx: Context,
  ) {
    return schoolFields.community(s, { asOf }, ctx);
  }

  @FieldResolver(() => NotionalSenBudget, {
    nullable: true,
    description: 'Notional SEN budget for a financial year; null when the school has none.',
  })
  notionalSenBudget(
    @Root() s: School,
    @Arg('financialYear', () => String, { description: 'Financial year code, e.g. "2025-26".' }) financialYear: string,
    @Ctx() ctx: Context,
  ) {
    return schoolFields.notionalSenBudget(s, { financialYear }, ctx);
  }

  @FieldResolver(() => SchoolFunding, {
    nullable: true,
    description: 'Individual high-needs funding for a funding term; null when the school has none.',
  })
  funding(
    @Root() s: School,
    @Arg('term', () => String, { description: 'Funding term code, e.g. "AUTUMN-2025".' }) term: string,
    @Ctx() ctx: Context,
  ) {
    return schoolFields.funding(s, { term }, ctx);
  }

  @ListSize(MAX_LINKS_PER_SCHOOL)
  @FieldResolver(() => [SchoolLink], {
    description:
      'The schools this one replaced, from the GIAS links file (a maintained school an academy converted from, schools amalgamated into it), by link date.',
  })
  predecessors(@Root() s: School, @Ctx() ctx: Context) {
    return schoolFields.predecessors(s, {}, ctx);
  }

  @ListSize(MAX_LINKS_PER_SCHOOL)
  @FieldResolver(() => [SchoolLink], {
    description: 'The schools that replaced this one, from the GIAS links file (the academy it became…), by link date.',
  })
  successors(@Root() s: School, @Ctx() ctx: Context) {
    return schoolFields.successors(s, {}, ctx);
  }

  @ListSize((b) => b.caseloadsPerSchoolTerm)
  @FieldResolver(() => [CaseloadValue], {
    description:
      'Caseload counts held against this school in a school term, by kind. Child counts follow the same suppression pattern as `caseloads` ' +
      '(hidden from 1 to 4, and where hidden as a complement) unless your role may see them.',
  })
  caseloads(
    @Root() s: School,
    @Arg('period', () => String, { description: 'School term code, e.g. "2025/26-T3".' }) period: string,
    @Ctx() ctx: Context,
  ) {
    return schoolFields.caseloads(s, { period }, ctx);
  }
}

@Resolver(() => SchoolLink)
export class SchoolLinkResolver {
  @FieldResolver(() => School, { description: 'The linked school.' })
  school(@Root() link: SchoolLink, @Ctx() ctx: Context) {
    return ctx.loaders.schoolByUrn.load(link.urn);
  }
}

type Maybe<T> = T | Promise<T>;

/**
 * The School relation fields as plain graphql-js resolvers. type-graphql validates every argument in an
 * async function, so each of these would return a promise even when the value is in memory; schema.ts
 * installs these directly on the School type (the methods above only declare the fields), and a page of
 * 600 schools then resolves without thousands of promises.
 */
export const schoolFields = {
  district(s: School, _args: object, ctx: Context): Maybe<District | undefined> {
    return then(ctx.loaders.districts(), (d) => d.get(s.districtCode));
  },

  community(s: School, args: { asOf?: string | null }, ctx: Context): Maybe<Community | null> {
    return ctx.loaders.communityOfSchool.get(`${s.urn}|${args.asOf ?? todayIso()}`);
  },

  notionalSenBudget(
    s: School,
    { financialYear }: { financialYear: string },
    ctx: Context,
  ): Maybe<NotionalSenBudget | null> {
    return then(ctx.loaders.periods(), (cat) => {
      requireFinancialYear(cat, financialYear);
      return then(ctx.loaders.notionalSenFactors.get(`${s.urn}|${financialYear}`), (factors) => {
        if (factors.length === 0) return null;
        const total = factors.reduce((sum, f) => sum.plus(f.senAmount), new Decimal(0)).toFixed(2);
        return { schoolUrn: s.urn, financialYear, total, factors };
      });
    });
  },

  funding(s: School, { term }: { term: string }, ctx: Context): Maybe<SchoolFunding | null> {
    return then(ctx.loaders.periods(), (cat) => {
      requireFundingTerm(cat, term);
      return then(ctx.loaders.schoolFunding.get(`${s.urn}|${term}`), (f) => {
        if (!f) return null;
        const total = schoolTermTotal(f);
        // The banded top-up encodes counts of children (caseload/disclosive-money.ts).
        return then(hiddenBandedTopUps(ctx, term), (hidden) =>
          hidden.has(s.urn)
            ? { ...f, term, bandedTopUp: null, total: null, bandedTopUpSuppressed: true }
            : { ...f, term, total, bandedTopUpSuppressed: false },
        );
      });
    });
  },

  predecessors(s: School, _args: object, ctx: Context): Promise<SchoolLink[]> {
    return ctx.loaders.schoolLinks.load(s.urn).then((l) => l.predecessors);
  },

  successors(s: School, _args: object, ctx: Context): Promise<SchoolLink[]> {
    return ctx.loaders.schoolLinks.load(s.urn).then((l) => l.successors);
  },

  caseloads(s: School, { period }: { period: string }, ctx: Context): Maybe<CaseloadValue[]> {
    return then(ctx.loaders.periods(), (cat) => {
      requireSchoolTerm(cat, period);
      return then(ctx.loaders.caseloadsAtSchool.get(`${s.urn}|${period}`), (counts) => {
        // Counts the viewer's scope sees whole (scopeOf: an exempt role, or not about children) are shown as they
        // are; the rest go through the suppression pattern (disclosure.store.ts).
        if (counts.every((c) => scopeOf(ctx.viewer, c.kind as CaseloadKind).kind === 'ALL'))
          return counts.map((c) => ({ kind: c.kind as CaseloadKind, count: c.count, suppressed: false }));
        return schoolCaseloads(ctx, s.urn, period, counts);
      });
    });
  },
};
