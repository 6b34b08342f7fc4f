import { FieldNode, GraphQLObjectType, GraphQLResolveInfo, Kind, SelectionSetNode } from 'graphql';
import { getArgumentValues } from 'graphql/execution/values';
import type { Context } from '../../context';
import { todayIso } from '../period/period.service';
import type { School } from './school.entity';

/** Every (field, arguments) pair asked of the schools in a selection, through aliases and fragments. */
function schoolFieldArgs(
  info: GraphQLResolveInfo,
  selection: SelectionSetNode | undefined,
  type: GraphQLObjectType,
  out: Map<string, Record<string, unknown>[]>,
) {
  if (!selection) return;
  for (const sel of selection.selections) {
    if (sel.kind === Kind.INLINE_FRAGMENT) schoolFieldArgs(info, sel.selectionSet, type, out);
    else if (sel.kind === Kind.FRAGMENT_SPREAD)
      schoolFieldArgs(info, info.fragments[sel.name.value]?.selectionSet, type, out);
    else {
      const def = type.getFields()[sel.name.value];
      if (!def) continue;
      out.set(sel.name.value, [
        ...(out.get(sel.name.value) ?? []),
        getArgumentValues(def, sel as FieldNode, info.variableValues),
      ]);
    }
  }
}

/** The School selection under a connection field: `nodes { … }` and `edges { node { … } }`. */
function schoolSelections(info: GraphQLResolveInfo): Map<string, Record<string, unknown>[]> {
  const out = new Map<string, Record<string, unknown>[]>();
  const schoolType = info.schema.getType('School') as GraphQLObjectType;
  const visit = (set: SelectionSetNode | undefined, under: string[]) => {
    if (!set) return;
    for (const sel of set.selections) {
      if (sel.kind === Kind.INLINE_FRAGMENT) visit(sel.selectionSet, under);
      else if (sel.kind === Kind.FRAGMENT_SPREAD) visit(info.fragments[sel.name.value]?.selectionSet, under);
      else if (sel.name.value === 'nodes' || (sel.name.value === 'node' && under.at(-1) === 'edges'))
        schoolFieldArgs(info, sel.selectionSet, schoolType, out);
      else if (sel.name.value === 'edges') visit(sel.selectionSet, [...under, 'edges']);
    }
  };
  for (const node of info.fieldNodes) visit(node.selectionSet, []);
  return out;
}

/**
 * Loads, in bulk and before the rows are resolved, the relations the query asks of a page of schools, so
 * that the field resolvers find them in memory and answer synchronously. The statements are the ones the
 * DataLoaders would send anyway (one per relation and argument value); only the promise traffic goes away.
 * Arguments the field resolvers would reject are skipped here and rejected there.
 */
export async function prefetchSchoolFields(ctx: Context, info: GraphQLResolveInfo, rows: School[]): Promise<void> {
  if (rows.length === 0) return;
  const asked = schoolSelections(info);
  const cat = await ctx.loaders.periods();
  const urns = rows.map((r) => r.urn);
  const values = (field: string, arg: string) =>
    new Set((asked.get(field) ?? []).map((a) => a[arg] as string | null | undefined));
  const jobs: Promise<unknown>[] = [];
  if (asked.has('district')) jobs.push(Promise.resolve(ctx.loaders.districts()));
  for (const asOf of values('community', 'asOf'))
    jobs.push(ctx.loaders.communityOfSchool.loadMany(urns.map((u) => `${u}|${asOf ?? todayIso()}`)));
  for (const fy of values('notionalSenBudget', 'financialYear')) {
    if (fy && cat.financialYearByCode.has(fy))
      jobs.push(ctx.loaders.notionalSenFactors.loadMany(urns.map((u) => `${u}|${fy}`)));
  }
  for (const term of values('funding', 'term')) {
    if (term && cat.fundingTermByCode.has(term))
      jobs.push(ctx.loaders.schoolFunding.loadMany(urns.map((u) => `${u}|${term}`)));
  }
  for (const period of values('caseloads', 'period')) {
    const st = period ? cat.schoolTermByCode.get(period) : undefined;
    if (!st) continue;
    jobs.push(ctx.loaders.caseloadsAtSchool.loadMany(urns.map((u) => `${u}|${period}`)));
    if (ctx.viewer.role === 'CHAIR')
      jobs.push(ctx.loaders.communityOfSchool.loadMany(urns.map((u) => `${u}|${st.startDate}`)));
  }
  await Promise.all(jobs);
}
