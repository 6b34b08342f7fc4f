import { FieldNode, GraphQLObjectType, GraphQLResolveInfo } from 'graphql';
import { collectSubfields } from 'graphql/execution/collectFields';
import { getArgumentValues } from 'graphql/execution/values';
import type { Context } from '../../context';
import { todayIso } from '../period/period.service';
import type { School } from './school.entity';

/**
 * Every (field, arguments) pair asked of the schools under a connection field (`nodes { … }` and
 * `edges { node { … } }`), through aliases and fragments, as graphql-js's executor collects them: with
 * `@skip` and `@include` applied, so what the query does not ask is not loaded.
 */
function schoolSelections(info: GraphQLResolveInfo): Map<string, Record<string, unknown>[]> {
  const { schema, fragments, variableValues } = info;
  const collect = (type: string, nodes: readonly FieldNode[]) =>
    collectSubfields(schema, fragments, variableValues, schema.getType(type) as GraphQLObjectType, nodes);
  // Each School selection on its own: `nodes` and `edges { node }` may use one alias with different arguments.
  const schoolSets: (readonly FieldNode[])[] = [];
  for (const [, nodes] of collect('SchoolConnection', info.fieldNodes)) {
    if (nodes[0].name.value === 'nodes') schoolSets.push(nodes);
    else if (nodes[0].name.value === 'edges')
      for (const [, edge] of collect('SchoolEdge', nodes)) if (edge[0].name.value === 'node') schoolSets.push(edge);
  }
  const out = new Map<string, Record<string, unknown>[]>();
  const fields = (schema.getType('School') as GraphQLObjectType).getFields();
  for (const set of schoolSets)
    for (const [, nodes] of collect('School', set)) {
      const name = nodes[0].name.value;
      const def = fields[name];
      if (!def) continue; // __typename
      out.set(name, [...(out.get(name) ?? []), getArgumentValues(def, nodes[0], variableValues)]);
    }
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
