import { Arg, Ctx, Extensions, Field, Int, ObjectType, Query, Resolver } from 'type-graphql';
import type { EntityManager } from 'typeorm';
import type { Context } from '../../context';
import { Role } from '../../auth/roles';
import { BadInput } from '../../errors';
import type { CostExtension } from '../../http/cost';
import { ListSize } from '../../http/cost';
import { loadPeriodCatalogue } from '../period/period.service';
import { DATASETS, Dataset, MAX_SOURCES, periodsOf, Scope, SourceRow } from './registry';

/** At most this many missing messages per dataset (the rest are summed up in the last one). */
export const MAX_MISSING = 20;

@ObjectType({
  description: 'Where some of a dataset’s rows came from: one file (or hand entry, or the model), who, when.',
})
export class DatasetSource {
  @Field(() => String, { description: 'IMPORTED, MANUAL or COMPUTED (made by the funding model).' })
  kind: string;

  @Field(() => String, { nullable: true, description: 'The file they were imported from.' })
  file: string | null;

  @Field(() => String, { nullable: true, description: 'Who imported or entered them.' })
  by: string | null;

  @Field(() => Date, { nullable: true, description: 'When (the latest of them).' })
  at: Date | null;

  @Field(() => Int, { description: 'Rows of the period from this source.' })
  rows: number;
}

@ObjectType({
  description: 'One dataset the hub holds: rows loaded for the period, from which files, and what is missing.',
})
export class DatasetStatus {
  @Field(() => String, { description: 'Dataset key, e.g. "pots".' })
  key: string;

  @Field(() => String, { description: 'What it is, in words.' })
  title: string;

  @Field(() => String, {
    nullable: true,
    description:
      'The kind of period it is held by (fundingTerm, financialYear, academicYear, schoolTerm); null when not held by period.',
  })
  periodKind: string | null;

  @Field(() => Int, { description: 'Rows held for the period (all rows when it is not held by period).' })
  rows: number;

  @ListSize(MAX_SOURCES)
  @Field(() => [DatasetSource], {
    description: `Where the rows came from, latest first (at most ${MAX_SOURCES}); empty when the dataset records no source.`,
  })
  sources: DatasetSource[];

  @Field(() => DatasetSource, { nullable: true, description: 'The latest load: the first of sources.' })
  latest: DatasetSource | null;

  @ListSize(MAX_MISSING)
  @Field(() => [String], { description: `What is missing, in plain words (at most ${MAX_MISSING}).` })
  missing: string[];
}

@ObjectType({ description: 'What the hub holds for a period, dataset by dataset, and what is missing.' })
export class DataStatus {
  @Field(() => String, { description: 'The period asked about: a funding term or a financial year.' })
  period: string;

  @Field(() => String, {
    nullable: true,
    description: "A Chair's community: datasets held per community are counted for it only.",
  })
  communityCode: string | null;

  @ListSize(DATASETS.length)
  @Field(() => [DatasetStatus], { description: 'Every dataset, in the order a first load fills them.' })
  datasets: DatasetStatus[];

  @ListSize(DATASETS.length * MAX_MISSING)
  @Field(() => [String], { description: "Everything missing, every dataset's list in one, in dataset order." })
  missing: string[];
}

export async function resolveScope(
  db: EntityManager,
  term: string | null,
  financialYear: string | null,
  communityCode: string | null,
): Promise<Scope> {
  const periods = await loadPeriodCatalogue(db);
  if (!term && !financialYear)
    throw new BadInput('Give a funding term (term) or a financial year (financialYear) to report on.', 'term');
  const t = term ? periods.fundingTermByCode.get(term) : undefined;
  if (term && !t)
    throw new BadInput(
      `"${term}" is not a funding term (${periods.fundingTerms.map((x) => x.code).join(', ')}).`,
      'term',
      { validValues: periods.fundingTerms.map((x) => x.code) },
    );
  const fy = financialYear ? periods.financialYearByCode.get(financialYear) : undefined;
  if (financialYear && !fy)
    throw new BadInput(
      `"${financialYear}" is not a financial year (${periods.financialYears.map((x) => x.code).join(', ')}).`,
      'financialYear',
      { validValues: periods.financialYears.map((x) => x.code) },
    );
  if (t && fy && t.financialYearCode !== fy.code)
    throw new BadInput(`${t.code} is in the financial year ${t.financialYearCode}, not ${fy.code}.`, 'financialYear');
  const terms = t ? [t] : periods.fundingTerms.filter((x) => x.financialYearCode === fy!.code);
  const codes = new Set(terms.map((x) => x.code));
  const iso = (d: unknown) => (d instanceof Date ? d.toISOString().slice(0, 10) : String(d).slice(0, 10));
  return {
    label: t ? t.code : fy!.code,
    fundingTerms: [...codes],
    financialYears: [t ? t.financialYearCode : fy!.code],
    academicYears: [...new Set(terms.map((x) => x.academicYearCode))],
    schoolTerms: periods.schoolTerms.filter((s) => codes.has(s.fundingTermCode)).map((s) => s.code),
    start: t ? iso(t.startDate) : iso(fy!.startDate),
    end: t ? iso(t.endDate) : iso(fy!.endDate),
    communityCode,
    cache: new Map(),
  };
}

async function sourcesOf(
  db: EntityManager,
  d: Dataset,
  scope: Scope,
  from: string,
  where: string,
  params: unknown[],
): Promise<SourceRow[]> {
  if (d.provenance === 'columns') {
    const rows: SourceRow[] = await db.query(
      `SELECT t.source_kind AS kind, t.source_file AS file, t.source_by AS by, max(t.source_at) AS at, count(*)::int AS rows
         FROM ${from} t WHERE ${where} GROUP BY t.source_kind, t.source_file, t.source_by
        ORDER BY max(t.source_at) DESC NULLS LAST, count(*) DESC LIMIT ${MAX_SOURCES}`,
      params,
    );
    return rows.map((r) => ({ ...r, at: r.at ? new Date(r.at) : null }));
  }
  if (typeof d.provenance === 'function') return d.provenance(db, scope);
  return [];
}

/** The status of every dataset for the scope: rows, sources, what is missing. */
export async function dataStatus(db: EntityManager, scope: Scope): Promise<DataStatus> {
  const datasets: DatasetStatus[] = [];
  // One after another: a PGlite database (and a transaction) answers one statement at a time anyway.
  for (const d of DATASETS) {
    const from = d.from ?? d.table;
    // Each statement is given only the parameters its conditions use.
    const params: unknown[] = [];
    const conditions: string[] = [];
    if (d.period) {
      params.push(periodsOf(scope, d.period.kind));
      conditions.push(`t.${d.period.column} = ANY($${params.length}::text[])`);
    }
    if (d.where) conditions.push(d.where);
    if (d.community && scope.communityCode !== null) {
      params.push(scope.communityCode);
      conditions.push(d.community(`$${params.length}::text`));
    }
    const where = conditions.length ? conditions.map((c) => `(${c})`).join(' AND ') : 'true';
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM ${from} t WHERE ${where}`, params);
    const sources = await sourcesOf(db, d, scope, from, where, params);
    let missing = d.missing ? await d.missing(db, scope) : [];
    if (missing.length > MAX_MISSING)
      missing = [...missing.slice(0, MAX_MISSING - 1), `and ${missing.length - MAX_MISSING + 1} more`];
    datasets.push({
      key: d.key,
      title: d.title,
      periodKind: d.period?.kind ?? null,
      rows: n,
      sources,
      latest: sources[0] ?? null,
      missing,
    });
  }
  return {
    period: scope.label,
    communityCode: scope.communityCode,
    datasets,
    missing: datasets.flatMap((d) => d.missing),
  };
}

@Resolver()
export class DataStatusResolver {
  // A list and a whole-county computation (the block's missing drivers run the model): one extension for both.
  @Extensions({ cost: { computation: true } satisfies CostExtension })
  @Query(() => DataStatus, {
    description:
      'What the hub holds for a funding term or a financial year and what is missing, dataset by dataset: rows loaded, from which ' +
      'file, when and by whom, and the gaps in plain words ("AUTUMN-2026: baselines missing for 12 open schools; no pot for TON-04"). ' +
      "A Chair sees their own community's rows and gaps.",
  })
  async dataStatus(
    @Arg('term', () => String, { nullable: true, description: 'Funding term code, e.g. AUTUMN-2026.' })
    term: string | null,
    @Arg('financialYear', () => String, { nullable: true, description: 'Financial year code, e.g. 2026-27.' })
    financialYear: string | null,
    @Ctx() ctx: Context,
  ): Promise<DataStatus> {
    const community = ctx.viewer.role === Role.CHAIR ? (ctx.viewer.communityCode ?? null) : null;
    const scope = await resolveScope(ctx.db, term ?? null, financialYear ?? null, community);
    return dataStatus(ctx.db, scope);
  }
}
