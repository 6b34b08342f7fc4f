import { DocumentNode, ExecutionResult, GraphQLError, GraphQLSchema, printSchema } from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { compileQuery, CompiledQuery, isCompiledQuery } from 'graphql-jit';
import type { GatewayInterface } from '@apollo/server-gateway-interface';

const MAX_CACHED = 1000;

/**
 * graphql-jit puts a thrown non-Error value (pg throws plain socket error objects) in the error's message;
 * give every error a string message and an Error cause carrying the original fields (code, errno), as
 * graphql-js does, so formatError can map it.
 */
function withErrorObjects(result: ExecutionResult): ExecutionResult {
  if (!result.errors) return result;
  const errors = result.errors.map((e) => {
    const orig = (e as { originalError?: unknown }).originalError;
    if (typeof e.message === 'string' && (orig === undefined || orig instanceof Error)) return e;
    const raw = (orig ?? e.message) as { message?: unknown } | null;
    const cause = Object.assign(new Error(typeof raw?.message === 'string' ? raw.message : 'Unexpected error value'), raw);
    return new GraphQLError(cause.message, { path: e.path, originalError: cause });
  });
  return { ...result, errors };
}

/**
 * Executes operations with graphql-jit instead of graphql-js: each distinct operation is compiled once into
 * a function, which walks large results (the county's 600 schools with their relations) several times faster.
 * It plugs into Apollo Server through its executor interface, so parsing, validation, the query limits,
 * plugins and error formatting stay Apollo's.
 */
export function jitExecutor(schema: GraphQLSchema): GatewayInterface {
  const compiled = new Map<string, CompiledQuery | ExecutionResult>();
  const compile = (key: string, document: DocumentNode, operationName: string | null) => {
    let c = compiled.get(key);
    if (!c) {
      c = compileQuery(schema, document, operationName ?? undefined, { disableLeafSerialization: false });
      if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value!);
      compiled.set(key, c);
    }
    return c;
  };
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => undefined;
    },
    async load() {
      return {
        executor: async (rc) => {
          const c = compile(`${rc.queryHash}|${rc.operationName ?? ''}`, rc.document, rc.operationName);
          if (!isCompiledQuery(c)) return c as ExecutionResult;
          // graphql-jit skips the default values of input object fields; graphql-js's own coercion applies them
          // (and reports bad variables exactly as graphql-js would), then the compiled query runs on the result.
          const coerced = getVariableValues(schema, rc.operation.variableDefinitions ?? [], rc.request.variables ?? {}, { maxErrors: 50 });
          if (coerced.errors) {
            return { errors: coerced.errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'BAD_USER_INPUT' } })) };
          }
          return withErrorObjects((await c.query(undefined, rc.context, coerced.coerced)) as ExecutionResult);
        },
      };
    },
    async stop() {},
  };
}
