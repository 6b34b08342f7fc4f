import { ASTNode, BREAK, DocumentNode, getNamedType, getNullableType, GraphQLError, GraphQLSchema, isListType, Kind, visit } from 'graphql';
import { getComplexity, ComplexityEstimator } from 'graphql-query-complexity';
import type { ApolloServerPlugin } from '@apollo/server';
import { coerceVariables } from './variables';

/**
 * Expected sizes of lists without a size argument, so the estimate reflects the rows a query would really
 * produce (a static per-field cost lets 60 aliases of "all communities with all schools" through).
 * Connection wrappers count 1 because their parent's `first` already multiplies them.
 */
const LIST_SIZES: Record<string, number> = {
  'Query.communities': 53,
  'Query.districts': 12,
  'Query.areas': 4,
  'Area.districts': 3,
  'Community.schools': 14,
  'SchoolConnection.nodes': 1,
  'SchoolConnection.edges': 1,
  'AllocationList.nodes': 1,
  'AuditPage.nodes': 1,
  'CaseloadTable.rows': 700,
};

export const rowAwareEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  let n = 1;
  if (typeof args.first === 'number') n = Math.max(1, args.first);
  else if (Array.isArray(args.urns)) n = Math.max(1, args.urns.length);
  else if (isListType(getNullableType(field.type))) n = LIST_SIZES[`${type.name}.${field.name}`] ?? 10;
  const leaf = getNamedType(field.type) && childComplexity === 0;
  return leaf ? 1 : 1 + n * childComplexity;
};

/**
 * True when the estimate of an operation cannot depend on its variables: no variable is used in an argument
 * the estimator reads (`first`, `urns`) nor in a directive (@skip/@include change what is counted).
 */
function estimateIgnoresVariables(document: DocumentNode): boolean {
  let ignores = true;
  visit(document, {
    Argument(node, _key, _parent, _path, ancestors) {
      const inDirective = ancestors.some((a) => (a as ASTNode).kind === Kind.DIRECTIVE);
      if ((inDirective || node.name.value === 'first' || node.name.value === 'urns') && usesVariable(node)) {
        ignores = false;
        return BREAK;
      }
      return undefined;
    },
  });
  return ignores;
}

function usesVariable(node: ASTNode): boolean {
  let found = false;
  visit(node, {
    Variable() {
      found = true;
      return BREAK;
    },
  });
  return found;
}

/** Rejects an operation whose estimated result size is above the limit, after validation and before execution. */
export function complexityLimitPlugin(schema: GraphQLSchema, maxComplexity: number): ApolloServerPlugin {
  // Apollo hands the same parsed document to every request with the same text: an estimate that cannot
  // depend on the variables is computed once per document and operation, not on every request.
  const fixed = new WeakMap<DocumentNode, Map<string, number>>();
  const ignoresVariables = new WeakMap<DocumentNode, boolean>();
  const estimate = (document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown>) => {
    const run = () => getComplexity({ schema, query: document, operationName: operationName ?? undefined, variables, estimators: [rowAwareEstimator] });
    let ignores = ignoresVariables.get(document);
    if (ignores === undefined) ignoresVariables.set(document, (ignores = estimateIgnoresVariables(document)));
    if (!ignores) return run();
    let byOperation = fixed.get(document);
    if (!byOperation) fixed.set(document, (byOperation = new Map()));
    const key = operationName ?? '';
    let n = byOperation.get(key);
    if (n === undefined) byOperation.set(key, (n = run()));
    return n;
  };
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, operation, contextValue }) {
          // Bad variables are the caller's mistake: say which, before estimating anything with them.
          const coerced = operation ? coerceVariables(schema, document, operation, request.variables, contextValue as object) : null;
          if (coerced && 'errors' in coerced) {
            const [first, ...rest] = coerced.errors;
            if (rest.length) first.message += ` (and ${rest.length} more: ${rest.map((e) => e.message).join('; ')})`;
            throw first;
          }
          const complexity = estimate(document, request.operationName, request.variables ?? {});
          if (complexity > maxComplexity) {
            throw new GraphQLError(
              `Query too large: its estimated size is ${complexity} (rows x fields), above the limit of ${maxComplexity}. Ask for fewer rows or fields, or page with first/after.`,
              { extensions: { code: 'QUERY_TOO_COMPLEX', complexity, maxComplexity, http: { status: 400 } } },
            );
          }
        },
      };
    },
  };
}
