import DataLoader from 'dataloader';
import { Arg, Ctx, Field, FieldResolver, Int, ObjectType, Resolver, Root } from 'type-graphql';
import type { EntityManager } from 'typeorm';
import type { Context } from '../../context';
import { BadInput } from '../../errors';
import { ListSize } from '../../http/cost';
import { FigureSource, SOURCE_JSON, toFigureSource } from '../../common/provenance';
import { School } from '../school/school.entity';
import { PLACE_TYPES } from './model';

@ObjectType({
  description:
    "A school's commissioned high needs places of one type in an academic year (the DfE's place numbers), as the block model funds them.",
})
export class PlaceNumberView {
  @Field(() => Int, { description: 'School URN.' })
  schoolUrn: number;

  @Field(() => String, { description: 'Academic year code, e.g. "2025/26".' })
  academicYear: string;

  @Field(() => String, { description: `Place type: ${PLACE_TYPES.join(', ')}.` })
  placeType: string;

  @Field(() => Int, { description: 'Places.' })
  places: number;

  @Field(() => FigureSource, {
    description: 'Where the figure came from (IMPORTED from a place-numbers file, which, who, when).',
  })
  source: FigureSource;
}

type Row = Omit<PlaceNumberView, 'source'> & { key: string; src: Parameters<typeof toFigureSource>[0] };

function placesLoader(db: EntityManager): DataLoader<string, PlaceNumberView[]> {
  return new DataLoader(async (keys) => {
    const pairs = keys.map((k) => k.split('|'));
    const rows: Row[] = await db.query(
      `SELECT p.school_urn || '|' || p.academic_year_code AS key, p.school_urn AS "schoolUrn", p.academic_year_code AS "academicYear",
              p.place_type AS "placeType", p.places, ${SOURCE_JSON('p')} AS src
         FROM unnest($1::int[], $2::text[]) AS x(urn, ay)
         JOIN place_number p ON p.school_urn = x.urn AND p.academic_year_code = x.ay
        ORDER BY p.place_type`,
      [pairs.map((p) => Number(p[0])), pairs.map((p) => p[1])],
    );
    const by = new Map<string, PlaceNumberView[]>(keys.map((k) => [k, []]));
    for (const { key, src, ...r } of rows) by.get(key)!.push({ ...r, source: toFigureSource(src) });
    return keys.map((k) => by.get(k)!);
  });
}

const perRequest = new WeakMap<object, DataLoader<string, PlaceNumberView[]>>();

@Resolver(() => School)
export class SchoolPlaceNumbersResolver {
  @ListSize(PLACE_TYPES.length)
  @FieldResolver(() => [PlaceNumberView], {
    description:
      "The school's high needs places in an academic year, one entry per place type held (empty when none are held): what the block model funds.",
  })
  async placeNumbers(
    @Root() s: School,
    @Arg('academicYear', () => String, { description: 'Academic year code, e.g. "2025/26".' }) academicYear: string,
    @Ctx() ctx: Context,
  ): Promise<PlaceNumberView[]> {
    const cat = await ctx.loaders.periods();
    if (!cat.academicYears.some((a) => a.code === academicYear))
      throw new BadInput(
        `Unknown academic year "${academicYear}". Valid years: ${cat.academicYears.map((a) => a.code).join(', ')}.`,
        'academicYear',
        { validValues: cat.academicYears.map((a) => a.code) },
      );
    let l = perRequest.get(ctx);
    if (!l) perRequest.set(ctx, (l = placesLoader(ctx.db)));
    return l.load(`${s.urn}|${academicYear}`);
  }
}
