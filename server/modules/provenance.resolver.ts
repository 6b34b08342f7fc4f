import DataLoader from 'dataloader';
import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { EntityManager } from 'typeorm';
import type { Context } from '../context';
import { FigureSource, SOURCE_JSON, toFigureSource } from '../common/provenance';
import { HighNeedsBlockLine, NotionalSenFactor } from './funding/funding.entity';
import { CommunityPotView, SchoolFunding } from './funding/funding.types';

/**
 * `source { kind file importedAt by parameterVersion }` on every money figure of record. One batched statement
 * per table and request (a DataLoader keyed by the figure's primary key), whatever the number of figures.
 */
type Keyed = { table: string; columns: string[]; types: string[] };
const TABLES = {
  pot: { table: 'community_pot', columns: ['community_code', 'term_code'], types: ['text', 'text'] },
  funding: { table: 'school_term_funding', columns: ['school_urn', 'term_code'], types: ['int', 'text'] },
  sen: {
    table: 'notional_sen_factor',
    columns: ['school_urn', 'financial_year_code', 'factor'],
    types: ['int', 'text', 'text'],
  },
  block: { table: 'high_needs_block_line', columns: ['financial_year_code', 'line_code'], types: ['text', 'text'] },
} satisfies Record<string, Keyed>;

function sourceLoader(db: EntityManager, t: Keyed): DataLoader<string, FigureSource> {
  return new DataLoader(async (keys) => {
    const parts = keys.map((k) => k.split('|'));
    const cols = t.columns.map((_, i) => `k${i}`);
    const rows: { key: string; src: Parameters<typeof toFigureSource>[0] }[] = await db.query(
      `SELECT ${t.columns.map((c) => `f.${c}::text`).join(` || '|' || `)} AS key, ${SOURCE_JSON('f')} AS src
         FROM unnest(${t.types.map((ty, i) => `$${i + 1}::${ty}[]`).join(', ')}) AS x(${cols.join(', ')})
         JOIN ${t.table} f ON ${t.columns.map((c, i) => `f.${c} = x.${cols[i]}`).join(' AND ')}`,
      t.columns.map((_, i) => parts.map((p) => (t.types[i] === 'int' ? Number(p[i]) : p[i]))),
    );
    const by = new Map(rows.map((r) => [r.key, toFigureSource(r.src)]));
    return keys.map((k) => by.get(k) ?? toFigureSource(null));
  });
}

const perRequest = new WeakMap<object, Map<string, DataLoader<string, FigureSource>>>();
function load(ctx: Context, which: keyof typeof TABLES, key: string): Promise<FigureSource> {
  let m = perRequest.get(ctx);
  if (!m) perRequest.set(ctx, (m = new Map()));
  let l = m.get(which);
  if (!l) m.set(which, (l = sourceLoader(ctx.db, TABLES[which])));
  return l.load(key);
}

const DESCRIPTION =
  'Where this figure came from: computed by the model (parameter version), imported from a file (which, who, when), or entered by hand.';

@Resolver(() => CommunityPotView)
export class PotSourceResolver {
  @FieldResolver(() => FigureSource, { description: DESCRIPTION })
  source(@Root() p: CommunityPotView, @Ctx() ctx: Context): Promise<FigureSource> {
    return load(ctx, 'pot', `${p.communityCode}|${p.term}`);
  }
}

@Resolver(() => SchoolFunding)
export class SchoolFundingSourceResolver {
  @FieldResolver(() => FigureSource, {
    description: `${DESCRIPTION} For a school's funding: where its baseline came from; the protection, share and top-up are computed with parameterVersion.`,
  })
  source(@Root() f: SchoolFunding, @Ctx() ctx: Context): Promise<FigureSource> {
    return load(ctx, 'funding', `${f.schoolUrn}|${f.term}`);
  }
}

@Resolver(() => NotionalSenFactor)
export class NotionalSenSourceResolver {
  @FieldResolver(() => FigureSource, { description: DESCRIPTION })
  source(@Root() f: NotionalSenFactor, @Ctx() ctx: Context): Promise<FigureSource> {
    return load(ctx, 'sen', `${f.schoolUrn}|${f.financialYearCode}|${f.factor}`);
  }
}

@Resolver(() => HighNeedsBlockLine)
export class BlockLineSourceResolver {
  @FieldResolver(() => FigureSource, { description: DESCRIPTION })
  source(@Root() l: HighNeedsBlockLine, @Ctx() ctx: Context): Promise<FigureSource> {
    return load(ctx, 'block', `${l.financialYearCode}|${l.lineCode}`);
  }
}
