import { Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../../context';
import { Area, District } from './geography.entity';
import { ListSize } from '../../http/cost';

@Resolver(() => District)
export class DistrictResolver {
  @ListSize((b) => b.districts)
  @Query(() => [District], { description: "The local authority's districts, by name." })
  async districts(@Ctx() ctx: Context): Promise<District[]> {
    return [...(await ctx.loaders.districts()).values()];
  }

  @FieldResolver(() => Area, {
    nullable: true,
    description: "The district's area; null until the areas import places it.",
  })
  async area(@Root() d: District, @Ctx() ctx: Context) {
    return d.areaCode === null ? null : ((await ctx.loaders.areas()).get(d.areaCode) ?? null);
  }
}

@Resolver(() => Area)
export class AreaResolver {
  @ListSize((b) => b.areas)
  @Query(() => [Area], { description: "The local authority's areas (each with an Area Board)." })
  async areas(@Ctx() ctx: Context): Promise<Area[]> {
    return [...(await ctx.loaders.areas()).values()];
  }

  @ListSize((b) => b.districts)
  @FieldResolver(() => [District], { description: 'Districts in the area, by name.' })
  async districts(@Root() a: Area, @Ctx() ctx: Context): Promise<District[]> {
    return [...(await ctx.loaders.districts()).values()].filter((d) => d.areaCode === a.code);
  }
}
