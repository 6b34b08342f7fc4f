import {
  DocumentNode,
  execute,
  ExecutionResult,
  FragmentDefinitionNode,
  GraphQLError,
  GraphQLSchema,
  Kind,
  OperationDefinitionNode,
  printSchema,
} from 'graphql';
import { coerceVariables } from './variables';
import { hasSkipOrInclude } from '../common/conditions';
import { compileQuery, CompiledQuery, isCompiledQuery } from 'graphql-jit';
import type { GatewayInterface } from '@apollo/server-gateway-interface';

type GatewayRequestContext = Parameters<NonNullable<Awaited<ReturnType<GatewayInterface['load']>>['executor']>>[0];
import type { Context } from '../context';
import { planCompiledRead } from '../modules/school/school.compiled';
import { BudgetExceeded, withinBudget } from './budget';

const MAX_CACHED = 1000;

/** A document Apollo parsed, validated and accepted (every plugin's check passed), as the request sent it. */
export interface AcceptedRead {
  query: string;
  operationName: string | null;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  fragments: Record<string, FragmentDefinitionNode>;
}

/**
 * Rebuilds graphql-jit's errors as graphql-js GraphQLErrors whose originalError is what the resolver threw,
 * as graphql-js execution reports them, so formatError recognises the hub's own errors and masks or maps the
 * rest (a database error must never reach a client as its raw message). graphql-jit also puts a thrown
 * non-Error value (pg throws plain socket error objects) in the message; it becomes an Error cause.
 */
function withErrorObjects(result: ExecutionResult): ExecutionResult {
  if (!result.errors) return result;
  const errors = result.errors.map((e) => {
    const orig = (e as { originalError?: unknown }).originalError;
    if (orig === undefined && typeof e.message === 'string') return e;
    const raw = (orig ?? e.message) as { message?: unknown } | null;
    const cause =
      raw instanceof Error
        ? raw
        : Object.assign(new Error(typeof raw?.message === 'string' ? raw.message : 'Unexpected error value'), raw);
    const err = new GraphQLError(cause.message, { path: e.path, originalError: cause });
    if (e.locations) (err as { locations?: unknown }).locations = e.locations;
    return err;
  });
  return { ...result, errors };
}

/**
 * Apollo's executor: queries the SQL compiler covers (the school list, see school.compiled.ts) run as one
 * statement; everything else runs through the resolvers, compiled by graphql-jit. Documents with @skip or
 * @include run on graphql-js instead: graphql-jit merges a field or fragment that is skipped in one place
 * and selected in another differently from the spec (it can drop the field), graphql-js does not.
 */
export function jitExecutor(
  schema: GraphQLSchema,
  opts: {
    compiledReads?: boolean;
    onExecute?: (path: 'compiled' | 'resolvers') => void;
    budgetMs?: number;
    /** Told of each document Apollo's pipeline accepted that ran as one compiled statement (fast-read.ts learns it). */
    onCompiled?: (accepted: AcceptedRead) => void;
  } = {},
): GatewayInterface {
  const compiledReads = opts.compiledReads ?? true;
  /** Per distinct operation: how it runs on the resolvers, and its fragments by name (for the SQL compiler). */
  type Prepared = {
    query: CompiledQuery | ExecutionResult | 'graphql-js';
    fragments: Record<string, FragmentDefinitionNode>;
  };
  const prepared = new Map<string, Prepared>();
  const prepare = (key: string, document: DocumentNode, operationName: string | null): Prepared => {
    let p = prepared.get(key);
    if (!p) {
      const fragments: Record<string, FragmentDefinitionNode> = {};
      for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
      const query = hasSkipOrInclude(document)
        ? 'graphql-js'
        : compileQuery(schema, document, operationName ?? undefined, { disableLeafSerialization: false });
      p = { query, fragments };
      if (prepared.size >= MAX_CACHED) prepared.delete(prepared.keys().next().value!);
      prepared.set(key, p);
    }
    return p;
  };
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => undefined;
    },
    async load() {
      return {
        executor: async (rc) => {
          const run = execute1(rc);
          if (!opts.budgetMs) return run;
          // The whole request past its budget: 503 now; its remaining SQL is refused by the budgeted handle.
          return withinBudget(run, opts.budgetMs, () => ({ errors: [new BudgetExceeded(opts.budgetMs!)] }));
        },
      };
    },
    async stop() {},
  };

  async function execute1(rc: GatewayRequestContext): Promise<ExecutionResult> {
    // No operation of that name (or several and none named): graphql-js says so, and Apollo answers 400 with it.
    if (!rc.operation)
      return execute({ schema, document: rc.document, operationName: rc.operationName ?? rc.request.operationName });
    const { query: c, fragments } = prepare(`${rc.queryHash}|${rc.operationName ?? ''}`, rc.document, rc.operationName);
    if (c !== 'graphql-js' && !isCompiledQuery(c)) return c as ExecutionResult;
    // graphql-jit skips the default values of input object fields; graphql-js's own coercion applies them
    // (and reports bad variables exactly as graphql-js would), then the compiled query runs on the result.
    const coerced = coerceVariables(schema, rc.document, rc.operation, rc.request.variables, rc.context);
    if ('errors' in coerced) return { errors: coerced.errors };
    // The compiled read asks the role matrix itself (planCompiledRead), as the root resolvers would.
    if (compiledReads && rc.operation.operation === 'query') {
      const plan = await planCompiledRead(
        schema,
        rc.operation,
        fragments,
        coerced.variables,
        rc.context as unknown as Context,
      );
      if (plan) {
        if (typeof rc.request.query === 'string')
          opts.onCompiled?.({
            query: rc.request.query,
            operationName: rc.request.operationName ?? null,
            document: rc.document,
            operation: rc.operation,
            fragments,
          });
        opts.onExecute?.('compiled');
        return plan.run();
      }
    }
    opts.onExecute?.('resolvers');
    if (c === 'graphql-js') {
      return execute({
        schema,
        document: rc.document,
        contextValue: rc.context,
        variableValues: rc.request.variables ?? {},
        operationName: rc.operationName ?? undefined,
      });
    }
    return withErrorObjects((await c.query(undefined, rc.context, coerced.variables)) as ExecutionResult);
  }
}
