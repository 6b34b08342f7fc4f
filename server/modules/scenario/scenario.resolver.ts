import { Arg, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { GraphQLJSON } from 'graphql-scalars';
import type { Context } from '../../context';
import { NotFound } from '../../errors';
import type { ModelParameters } from '../funding/model';
import type { ParametersOn } from '../funding/engine';
import { requireFundingTerm, todayIso } from '../period/period.service';
import { ModelParametersInput } from './scenario.inputs';
import { ModelParameterSet, Scenario, ScenarioState } from './scenario.entity';
import { ParameterChangeResult, ScenarioComparison, ScenarioResults } from './scenario.types';
import { setModelParameters } from './parameters.service';
import { DateScalar } from '../../common/scalars';
import { compute, Computed, loadRecordContext, RecordContext } from '../funding/compute';
import { comparisonView, resultsView } from './scenario.views';
import {
  createScenario,
  findScenario,
  listScenarios,
  setScenarioState,
  updateScenarioParameters,
} from './scenario.service';
import { loadFundingInputs } from '../funding/funding-inputs';
import { parameterVersions, recordOn, recordParameters, scenarioOn } from '../funding/parameters-of-record';
import { requireModeller } from './scenario.access';
import { ListSize, Computation } from '../../http/cost';

type Inputs = Awaited<ReturnType<typeof loadFundingInputs>>;

/** Per-request memo: results and comparison in one query share the inputs and the base computation. */
function memo(ctx: Context) {
  const c = ctx as Context & {
    scenarioMemo?: {
      inputs?: Promise<Inputs>;
      record?: Promise<RecordContext>;
      computed: Map<string, Promise<Computed>>;
    };
  };
  c.scenarioMemo ??= { computed: new Map() };
  const m = c.scenarioMemo;
  // A request stopped by its time budget leaves these shared promises rejected with no one left to await them:
  // each is marked handled, so it never surfaces as an unhandled rejection (callers still see the error).
  const kept = <T>(p: Promise<T>) => (p.catch(() => undefined), p);
  const inputs = () => (m.inputs ??= kept(loadFundingInputs(ctx.db)));
  const record = () => (m.record ??= kept(loadRecordContext(ctx.db)));
  const computed = (key: string, params: () => Promise<ModelParameters | ParametersOn>) => {
    if (!m.computed.has(key))
      m.computed.set(key, kept(Promise.all([inputs(), params()]).then(([i, p]) => compute(i, p))));
    return m.computed.get(key)!;
  };
  const ofRecord = () => computed('record', async () => recordOn(await parameterVersions(ctx.db)));
  return { inputs, computed, record, ofRecord };
}

async function effectiveParameters(ctx: Context, s: Scenario): Promise<ModelParameters> {
  const record = await recordParameters(ctx.db);
  return { ...record.parameters, ...(s.overrides as Partial<ModelParameters>) };
}

/** Per term: the parameters of record on the term's first day, with the scenario's changes on top. */
async function scenarioTimeline(ctx: Context, s: Scenario): Promise<ParametersOn> {
  return scenarioOn(await parameterVersions(ctx.db), s.overrides as Partial<ModelParameters>);
}

@Resolver(() => Scenario)
export class ScenarioResolver {
  @Query(() => Scenario, {
    nullable: true,
    description: 'A scenario you can see (yours, shared with the Sub-Group, or any for Finance), or null.',
  })
  async scenario(
    @Arg('id', () => String, { description: 'Scenario id.' }) id: string,
    @Ctx() ctx: Context,
  ): Promise<Scenario | null> {
    requireModeller(ctx.viewer);
    return findScenario(ctx.db, ctx.viewer, id);
  }

  @ListSize((b) => b.scenarios)
  @Query(() => [Scenario], { description: 'Scenarios you can see, most recently changed first.' })
  scenarios(@Ctx() ctx: Context): Promise<Scenario[]> {
    return listScenarios(ctx.db, ctx.viewer);
  }

  @Mutation(() => Scenario, {
    description: 'Creates a private scenario on the current parameters of record, or as a copy of another scenario.',
  })
  createScenario(
    @Arg('name', () => String, { description: 'Name, e.g. "Protection at 60%".' }) name: string,
    @Arg('basedOn', () => String, { nullable: true, description: 'Scenario to copy (default: the figures of record).' })
    basedOn: string | null,
    @Ctx() ctx: Context,
  ): Promise<Scenario> {
    return createScenario(ctx.db, ctx.viewer, name, basedOn, ctx.source === 'IMPORT' ? 'API' : ctx.source);
  }

  @Mutation(() => Scenario, {
    description: "Changes a scenario's parameters (only those given). Never touches the figures of record.",
  })
  updateScenarioParameters(
    @Arg('id', () => String, { description: 'Scenario id.' }) id: string,
    @Arg('parameters', () => ModelParametersInput, { description: 'Parameters to change.' })
    parameters: ModelParametersInput,
    @Arg('baseVersion', () => Int, {
      nullable: true,
      description: 'The version you read; a stale one is refused (CONFLICT).',
    })
    baseVersion: number | null,
    @Ctx() ctx: Context,
  ): Promise<Scenario> {
    return updateScenarioParameters(
      ctx.db,
      ctx.viewer,
      id,
      parameters,
      baseVersion,
      ctx.source === 'IMPORT' ? 'API' : ctx.source,
    );
  }

  @Mutation(() => Scenario, {
    description: 'Shares a scenario with the Sub-Group, locks it, or makes it private again.',
  })
  setScenarioState(
    @Arg('id', () => String, { description: 'Scenario id.' }) id: string,
    @Arg('state', () => ScenarioState, { description: 'New state.' }) state: ScenarioState,
    @Ctx() ctx: Context,
  ): Promise<Scenario> {
    return setScenarioState(ctx.db, ctx.viewer, id, state, ctx.source === 'IMPORT' ? 'API' : ctx.source);
  }

  @FieldResolver(() => GraphQLJSON, {
    description: "The parameters in effect: those of record with this scenario's changes.",
  })
  parameters(@Root() s: Scenario, @Ctx() ctx: Context): Promise<ModelParameters> {
    return effectiveParameters(ctx, s);
  }

  @Computation()
  @FieldResolver(() => ScenarioResults, {
    description: "The model's results under this scenario for all schools and terms (or one term or community).",
  })
  async results(
    @Root() s: Scenario,
    @Arg('term', () => String, { nullable: true, description: 'Only this funding term.' }) term: string | null,
    @Arg('communityCode', () => String, { nullable: true, description: 'Only this community.' })
    communityCode: string | null,
    @Ctx() ctx: Context,
  ): Promise<ScenarioResults> {
    if (term) requireFundingTerm(await ctx.loaders.periods(), term);
    const m = memo(ctx);
    const mine = await m.computed(`scenario:${s.id}:${s.version}`, () => scenarioTimeline(ctx, s));
    return resultsView(await m.record(), await m.inputs(), mine, await m.ofRecord(), { term, communityCode });
  }

  @Computation()
  @FieldResolver(() => ScenarioComparison, {
    description: 'Differences from the figures of record (default) or from another scenario.',
  })
  async comparison(
    @Root() s: Scenario,
    @Arg('against', () => String, {
      nullable: true,
      description: "Another scenario's id (default: the figures of record).",
    })
    against: string | null,
    @Arg('term', () => String, { nullable: true, description: 'Only this funding term.' }) term: string | null,
    @Arg('includeUnchanged', () => Boolean, {
      defaultValue: false,
      description: 'Also list figures that do not change.',
    })
    includeUnchanged: boolean,
    @Ctx() ctx: Context,
  ): Promise<ScenarioComparison> {
    if (term) requireFundingTerm(await ctx.loaders.periods(), term);
    const m = memo(ctx);
    let base: Promise<Computed>;
    if (against) {
      const other = await findScenario(ctx.db, ctx.viewer, against);
      if (!other) throw new NotFound(`No scenario "${against}" that you can see.`);
      base = m.computed(`scenario:${other.id}:${other.version}`, () => scenarioTimeline(ctx, other));
    } else {
      base = m.ofRecord();
    }
    const mine = m.computed(`scenario:${s.id}:${s.version}`, () => scenarioTimeline(ctx, s));
    return comparisonView(await m.record(), against ?? 'RECORD', await base, await mine, { term, includeUnchanged });
  }
}

@Resolver(() => ModelParameterSet)
export class ModelParameterResolver {
  @Query(() => ModelParameterSet, {
    nullable: true,
    description: 'The funding model parameters of record in force today.',
  })
  async modelParameters(@Ctx() ctx: Context): Promise<ModelParameterSet | null> {
    const [row] = await ctx.db.query(
      `SELECT version, effective_from AS "effectiveFrom", author, note, parameters, created_at AS "createdAt" FROM model_parameter_set
        WHERE effective_from <= $1 ORDER BY effective_from DESC, version DESC LIMIT 1`,
      [todayIso()],
    );
    return row ?? null;
  }

  @Mutation(() => ParameterChangeResult, {
    description:
      'Finance: records a new version of the model parameters of record from the first day of a funding term and recomputes ' +
      'the figures of record from then on, in one audited transaction. Refused if a pot would fall below its approved allocations.',
  })
  setModelParameters(
    @Arg('effectiveFrom', () => DateScalar, { description: 'First day of an open funding term.' })
    effectiveFrom: string,
    @Arg('parameters', () => ModelParametersInput, { description: 'Parameters to change.' })
    parameters: ModelParametersInput,
    @Arg('note', () => String, { nullable: true, description: 'Why (decision reference, meeting).' })
    note: string | null,
    @Arg('replaceImported', () => Boolean, {
      defaultValue: false,
      description:
        'Also replace imported and hand-entered figures with computed ones (audited). By default they are kept and listed.',
    })
    replaceImported: boolean,
    @Ctx() ctx: Context,
  ): Promise<ParameterChangeResult> {
    return setModelParameters(
      ctx.db,
      ctx.viewer,
      { effectiveFrom, note, parameters, replaceImported },
      ctx.source === 'IMPORT' ? 'API' : ctx.source,
    );
  }

  @ListSize((b) => b.parameterVersions)
  @Query(() => [ModelParameterSet], { description: 'Every version of the model parameters of record, newest first.' })
  modelParameterVersions(@Ctx() ctx: Context): Promise<ModelParameterSet[]> {
    return ctx.db.query(
      `SELECT version, effective_from AS "effectiveFrom", author, note, parameters, created_at AS "createdAt" FROM model_parameter_set ORDER BY version DESC`,
    );
  }
}
