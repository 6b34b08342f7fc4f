import {
  ASTNode,
  DocumentNode,
  GraphQLError,
  GraphQLSchema,
  isNonNullType,
  Kind,
  OperationDefinitionNode,
  TypeInfo,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import { getVariableValues } from 'graphql/execution/values';

const badInput = (message: string, extra: Record<string, unknown> = {}, nodes?: ASTNode | readonly ASTNode[]) =>
  new GraphQLError(message, { nodes, extensions: { code: 'BAD_USER_INPUT', ...extra, http: { status: 400 } } });

/**
 * A variable of nullable type passed as null where a non-null argument or input field takes it (allowed by
 * validation when that position has a default): BAD_USER_INPUT naming the argument, before anything runs.
 */
export function nullsInNonNullPositions(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown>,
): GraphQLError[] {
  const errors: GraphQLError[] = [];
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Variable(node, _key, parent) {
        // Skip the variable's own definition ($f: Int): only its uses have an input type to check.
        if ((parent as { kind?: string } | undefined)?.kind === Kind.VARIABLE_DEFINITION) return;
        const type = typeInfo.getInputType();
        const name = node.name.value;
        if (!type || !isNonNullType(type) || !(name in variables) || variables[name] !== null) return;
        const argument = typeInfo.getArgument()?.name ?? name;
        errors.push(
          badInput(
            `Argument "${argument}" (${type.toString()}) must not be null, but variable $${name} is null.`,
            { argument },
            node,
          ),
        );
      },
    }),
  );
  return errors;
}

type Coerced = { variables: Record<string, unknown> } | { errors: GraphQLError[] };

/** Per request (keyed by its context object): the complexity limit coerces first, the executor reuses it. */
const byRequest = new WeakMap<object, Coerced>();

/**
 * The operation's variables coerced as graphql-js executes them, or BAD_USER_INPUT errors (HTTP 400) naming
 * each bad variable and each null passed where a non-null argument takes it. Done once per request context.
 */
export function coerceVariables(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  raw: Record<string, unknown> | undefined,
  context: object,
): Coerced {
  const known = byRequest.get(context);
  if (known) return known;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], raw ?? {}, { maxErrors: 50 });
  let result: Coerced;
  if (coerced.errors) result = { errors: coerced.errors.map((e) => badInput(e.message, {}, e.nodes)) };
  else {
    // Only a null value can be misplaced: most requests have none and skip the walk over the document.
    const anyNull = Object.values(coerced.coerced).some((v) => v === null);
    const nulls = anyNull ? nullsInNonNullPositions(schema, document, coerced.coerced) : [];
    result = nulls.length ? { errors: nulls } : { variables: coerced.coerced };
  }
  byRequest.set(context, result);
  return result;
}
