import {
  DocumentNode,
  getNullableType,
  GraphQLError,
  GraphQLField,
  GraphQLSchema,
  isListType,
  Kind,
  visit,
} from 'graphql';
import { getComplexity, ComplexityEstimator } from 'graphql-query-complexity';
import type { ApolloServerPlugin } from '@apollo/server';
import { coerceVariables } from './variables';
import { CostExtension, DataBounds, DEFAULT_BOUNDS } from './cost';
import type { CostCache } from './cost-cache';

/** A list field without a declared size is costed as this many rows (a test keeps every list field declared). */
const UNDECLARED_LIST = 1000;

export function costOf(field: GraphQLField<unknown, unknown>): CostExtension | undefined {
  return (field.extensions as { cost?: CostExtension } | undefined)?.cost;
}

/** Rows a field yields per parent: its declared size (from the data's bounds and its arguments), else 1, or a large default for an undeclared list. */
export function rowsOf(field: GraphQLField<unknown, unknown>, args: Record<string, any>, bounds: DataBounds): number {
  const spec = costOf(field)?.listSize;
  if (spec !== undefined) {
    const n = typeof spec === 'number' ? spec : spec(bounds, args);
    return Number.isFinite(n) ? Math.max(1, Math.ceil(n)) : UNDECLARED_LIST;
  }
  return isListType(getNullableType(field.type)) ? UNDECLARED_LIST : 1;
}

/** rows x fields: each leaf value counts 1, a field with children counts 1 + rows x its children. */
export function rowAwareEstimator(bounds: () => DataBounds = () => DEFAULT_BOUNDS): ComplexityEstimator {
  return ({ field, args, childComplexity }) => {
    if (childComplexity === 0) return 1;
    return 1 + rowsOf(field, args, bounds()) * childComplexity;
  };
}

/** How many whole-county model computations the operation would run (scenario results and comparisons, times their rows). */
function computationEstimator(bounds: () => DataBounds): ComplexityEstimator {
  return ({ field, args, childComplexity }) =>
    (costOf(field)?.computation ? 1 : 0) + rowsOf(field, args, bounds()) * childComplexity;
}

const tooComplex = (message: string, extra: Record<string, unknown>) =>
  new GraphQLError(message, { extensions: { code: 'QUERY_TOO_COMPLEX', ...extra, http: { status: 400 } } });

/** Field selections in the document (fragments counted where they are written). Linear. */
export function countFieldNodes(document: DocumentNode): number {
  let n = 0;
  visit(document, {
    [Kind.FIELD]() {
      n++;
    },
  });
  return n;
}

/** The estimated size of an accepted operation, or why it is refused. */
export type CostVerdict = { complexity: number } | { refused: GraphQLError };

/**
 * The size rule on its own: an operation whose estimated result (rows x fields: the response's size) is above the
 * limit, or that would run more than `maxComputations` scenario computations, is refused. The Apollo plugin below
 * and the hot read path (fast-read.ts) both ask it, so a document costs the same whichever path answers it.
 */
export function costChecker(
  schema: GraphQLSchema,
  limits: { maxComplexity: number; maxComputations: number },
  bounds: () => DataBounds = () => DEFAULT_BOUNDS,
  /** Keeps each document's estimate (cost-cache.ts), so a query sent again is not walked again. */
  estimates?: CostCache,
) {
  const rows = rowAwareEstimator(bounds);
  const computations = computationEstimator(bounds);
  return (
    document: DocumentNode,
    operationName: string | null | undefined,
    variables: Record<string, unknown> | null | undefined,
  ): CostVerdict => {
    const common = { schema, query: document, operationName: operationName ?? undefined, variables: variables ?? {} };
    const estimate = () => ({
      complexity: getComplexity({ ...common, estimators: [rows] }),
      computations: getComplexity({ ...common, estimators: [computations] }),
    });
    const { complexity, computations: runs } = estimates
      ? estimates.get(document, operationName, variables ?? undefined, bounds(), estimate)
      : estimate();
    if (complexity > limits.maxComplexity) {
      return {
        refused: tooComplex(
          `Query too large: its estimated size is ${complexity} (rows x fields), above the limit of ${limits.maxComplexity}. Ask for fewer rows or fields, or page with first/after.`,
          { complexity, maxComplexity: limits.maxComplexity },
        ),
      };
    }
    if (runs > limits.maxComputations) {
      return {
        refused: tooComplex(
          `Query too large: it would run ${runs} scenario computations, above the limit of ${limits.maxComputations} per request. Ask for fewer scenarios' results or comparisons at once.`,
          { computations: runs, maxComputations: limits.maxComputations },
        ),
      };
    }
    return { complexity };
  };
}

/**
 * Rejects an operation the size rule (costChecker) refuses, after validation and before execution, and charges an
 * accepted one to its caller.
 */
export function complexityLimitPlugin(
  schema: GraphQLSchema,
  check: ReturnType<typeof costChecker>,
  /**
   * Charges an accepted operation's estimated size to its caller (cost-budget.ts); may throw to refuse it. The
   * function it resolves to is called once the response is sent.
   */
  charge?: (contextValue: unknown, complexity: number) => Promise<() => void>,
): ApolloServerPlugin {
  return {
    async requestDidStart() {
      let release: (() => void) | undefined;
      return {
        async willSendResponse() {
          release?.();
        },
        async didResolveOperation({ request, document, operation, contextValue }) {
          // No operation of that name (or several and no name): Apollo itself refuses it, as the caller's mistake.
          if (!operation) return;
          // Bad variables are the caller's mistake: say which, before estimating anything with them.
          const coerced = coerceVariables(schema, document, operation, request.variables, contextValue as object);
          if ('errors' in coerced) {
            const [first, ...rest] = coerced.errors;
            if (rest.length) first.message += ` (and ${rest.length} more: ${rest.map((e) => e.message).join('; ')})`;
            throw first;
          }
          const verdict = check(document, request.operationName, request.variables);
          if ('refused' in verdict) throw verdict.refused;
          if (charge) release = await charge(contextValue, verdict.complexity);
        },
      };
    },
  };
}
