import { Arg, Ctx, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../../context';
import Decimal from 'decimal.js';
import { DateScalar, toMoneyString } from '../../common/scalars';
import { Area, District } from '../geography/geography.entity';
import { School } from '../school/school.entity';
import { CommunityPotView } from '../funding/funding.types';
import { requireFundingTerm, todayIso } from '../period/period.service';
import { COMMUNITY_COLUMNS } from '../school/school.sql';
import { then } from '../peekable';
import { Community } from './community.entity';
import { ListSize } from '../../http/cost';

@Resolver(() => Community)
export class CommunityResolver {
  @Query(() => Community, {
    nullable: true,
    description: 'One Community of Schools by code, or null when there is none.',
  })
  community(
    @Arg('code', () => String, { description: 'Community code, e.g. "ASH-01".' }) code: string,
    @Ctx() ctx: Context,
  ) {
    return ctx.loaders.communityByCode.load(code);
  }

  @ListSize((b) => b.communities)
  @Query(() => [Community], {
    description: 'Communities of Schools, optionally in one district or area, ordered by code.',
  })
  async communities(
    @Arg('districtCode', () => String, { nullable: true, description: 'Primary district (ONS code).' })
    districtCode: string | null,
    @Arg('areaCode', () => String, { nullable: true, description: 'Area code.' }) areaCode: string | null,
    @Ctx() ctx: Context,
  ): Promise<Community[]> {
    const rows: Community[] = await ctx.db.query(
      `SELECT ${COMMUNITY_COLUMNS} FROM community c
        WHERE ($1::text IS NULL OR c.primary_district_code = $1) AND ($2::text IS NULL OR c.area_code = $2)
        ORDER BY c.code`,
      [districtCode, areaCode],
    );
    for (const c of rows) ctx.loaders.communityByCode.prime(c.code, c);
    return rows;
  }

  @ListSize((b) => b.largestCommunity)
  @FieldResolver(() => [School], { description: 'Member schools on `asOf` (default today), by name.' })
  schools(
    @Root() c: Community,
    @Arg('asOf', () => DateScalar, { nullable: true, description: 'Date (default today).' }) asOf: string | null,
    @Ctx() ctx: Context,
  ): Promise<School[]> {
    return ctx.loaders.schoolsOfCommunity.load(`${c.code}|${asOf ?? todayIso()}`);
  }

  @FieldResolver(() => Int, { description: 'Number of member schools on `asOf` (default today).' })
  async memberCount(
    @Root() c: Community,
    @Arg('asOf', () => DateScalar, { nullable: true, description: 'Date (default today).' }) asOf: string | null,
    @Ctx() ctx: Context,
  ): Promise<number> {
    return (await ctx.loaders.schoolsOfCommunity.load(`${c.code}|${asOf ?? todayIso()}`)).length;
  }

  @FieldResolver(() => CommunityPotView, {
    nullable: true,
    description: "The community's pot for a funding term; null when none was set.",
  })
  pot(
    @Root() c: Community,
    @Arg('term', () => String, { description: 'Funding term code, e.g. "AUTUMN-2025".' }) term: string,
    @Ctx() ctx: Context,
  ) {
    return communityFields.pot(c, { term }, ctx);
  }

  @FieldResolver(() => District, { description: 'Primary district.' })
  async primaryDistrict(@Root() c: Community, @Ctx() ctx: Context) {
    return (await ctx.loaders.districts()).get(c.primaryDistrictCode);
  }

  @FieldResolver(() => Area, { description: 'Area.' })
  async area(@Root() c: Community, @Ctx() ctx: Context) {
    return (await ctx.loaders.areas()).get(c.areaCode);
  }
}

/** Community.pot as a plain resolver (see schoolFields in school.resolver.ts for why). */
export const communityFields = {
  pot(
    c: Community,
    { term }: { term: string },
    ctx: Context,
  ): CommunityPotView | null | Promise<CommunityPotView | null> {
    return then(ctx.loaders.periods(), (cat) => {
      requireFundingTerm(cat, term);
      const key = `${c.code}|${term}`;
      return then(ctx.loaders.communityPot.get(key), (pot) =>
        !pot
          ? null
          : then(ctx.loaders.allocationTotals.get(key), (totals) => ({
              communityCode: c.code,
              term,
              amount: pot.amount,
              approved: toMoneyString(totals.approved),
              proposed: toMoneyString(totals.proposed),
              remaining: new Decimal(pot.amount).minus(totals.approved).toFixed(2),
            })),
      );
    });
  },
};
