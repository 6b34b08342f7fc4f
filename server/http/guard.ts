import type { ApolloServerPlugin } from '@apollo/server';
import { DocumentNode, FormattedExecutionResult, GraphQLError, Kind, parse, visit } from 'graphql';
import type { NextFunction, Request, Response } from 'express';
import { nameBadLiterals } from '../errors';
import { countFieldNodes } from './complexity';
import { memoByDocument } from './memo';

/**
 * Why a string cannot go to PostgreSQL, or null: text columns refuse NUL (22021), and a lone UTF-16 surrogate
 * would be stored as U+FFFD, silently changing the value. One pass over the characters.
 */
export function unstorableText(s: string): string | null {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return 'contains a NUL character (\\u0000)';
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return 'contains a lone UTF-16 surrogate';
    } else if (c >= 0xdc00 && c <= 0xdfff) return 'contains a lone UTF-16 surrogate';
  }
  return null;
}

/** The first unstorable string anywhere in a JSON value (iterative: nesting depth cannot overflow the stack). */
export function firstUnstorable(value: unknown): { path: string; reason: string } | null {
  const stack: { v: unknown; path: string }[] = [{ v: value, path: '' }];
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'string') {
      const reason = unstorableText(v);
      if (reason) return { path, reason };
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push({ v: v[i], path: `${path}[${i}]` });
    } else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        const reason = unstorableText(k);
        if (reason) return { path: path ? `${path}.${k.slice(0, 40)}` : k.slice(0, 40), reason };
        stack.push({ v: child, path: path ? `${path}.${k}` : k });
      }
    }
  }
  return null;
}

const badInput = (message: string, argument?: string) =>
  new GraphQLError(message, {
    extensions: { code: 'BAD_USER_INPUT', ...(argument ? { argument } : {}), http: { status: 400 } },
  });

/**
 * The first string literal in the document that PostgreSQL cannot take, named by its argument or input field. Once
 * per document: the literals are the document's own.
 */
const unstorableLiteral = memoByDocument((document): { message: string; argument?: string } | null => {
  const names: string[] = [];
  let found: { message: string; argument?: string } | null = null;
  visit(document, {
    Argument: { enter: (n) => void names.push(n.name.value), leave: () => void names.pop() },
    ObjectField: { enter: (n) => void names.push(n.name.value), leave: () => void names.pop() },
    [Kind.STRING](node) {
      const reason = found ? null : unstorableText(node.value);
      if (reason) {
        const argument = names[names.length - 1];
        found = {
          message: `${argument ? `Argument "${argument}"` : 'A string'} ${reason}, which the database cannot store.`,
          argument,
        };
      }
    },
  });
  return found;
});

/**
 * The first string in the document's literals or the request's variables that PostgreSQL cannot take, as the
 * BAD_USER_INPUT error naming it; null when every string can be stored. Apollo's pipeline (guardPlugin) and the
 * hot read path (fast-read.ts) both ask it.
 */
export function unstorableInput(
  document: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
): GraphQLError | null {
  const literal = unstorableLiteral(document);
  if (literal) return badInput(literal.message, literal.argument);
  const variable = firstUnstorable(variables ?? {});
  return variable
    ? badInput(
        `Variable $${variable.path} ${variable.reason}, which the database cannot store.`,
        variable.path.split(/[.[]/, 1)[0],
      )
    : null;
}

const CLIENT_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'QUERY_TOO_COMPLEX',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

/**
 * An HTTP status that says who was wrong when the whole request failed (no data): 400 for the client's mistake,
 * 503 with Retry-After when the database could not serve it; a request-level 4xx never reports an internal error.
 * Changes `http` and the errors' codes in place. Apollo's pipeline (guardPlugin) and the hot read path both apply it.
 */
export function settleRequestStatus(
  result: FormattedExecutionResult,
  http: { status?: number; headers: Map<string, string> },
): void {
  if (!result.errors?.length || 'data' in result) return;
  const codes = result.errors.map((e) => String(e.extensions?.code ?? ''));
  if (codes.includes('SERVICE_UNAVAILABLE')) {
    http.status = 503;
    http.headers.set('retry-after', '5');
    return;
  }
  const status = http.status;
  if (status === undefined || status >= 500 || status === 200) {
    if (codes.every((c) => CLIENT_CODES.has(c))) http.status = 400;
  }
  // A request-level 4xx is always the client's mistake: never reported as an internal error.
  if ((http.status ?? 500) < 500) {
    for (const e of result.errors) {
      if (!e.extensions?.code || e.extensions.code === 'INTERNAL_SERVER_ERROR')
        (e.extensions as Record<string, unknown>) = { ...e.extensions, code: 'BAD_USER_INPUT' };
    }
  }
}

/**
 * The request-level rules of the GraphQL door: bad literals named from the AST, unstorable strings refused
 * before any SQL, and an HTTP status that says who was wrong when the whole request failed (400 for the
 * client's mistake, 503 with Retry-After when the database could not serve it).
 */
export function guardPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async validationDidStart({ document }) {
          return async (errors) => {
            if (errors?.length) nameBadLiterals(document, errors);
          };
        },
        async didResolveOperation({ document, request }) {
          const refused = unstorableInput(document, request.variables);
          if (refused) throw refused;
        },
        async willSendResponse({ response }) {
          if (response.body.kind === 'single') settleRequestStatus(response.body.singleResult, response.http);
        },
      };
    },
  };
}

/**
 * Refuses a document with more field selections than `maxNodes` before Apollo parses and validates it:
 * validation (overlapping fields) is quadratic in the number of same-named fields, so a 12,000-field query
 * spent over a second of CPU there. One linear parse, bounded by the token limit.
 */
export function nodeLimit(maxNodes: number, maxTokens: number) {
  return (req: Request, res: Response, next: NextFunction) => {
    const query =
      (req.body as { query?: unknown } | undefined)?.query ?? (req.method === 'GET' ? req.query.query : undefined);
    if (typeof query !== 'string' || query.length < maxNodes) return next();
    let nodes: number;
    try {
      nodes = countFieldNodes(parse(query, { maxTokens, noLocation: true }));
    } catch {
      return next(); // Apollo reports the syntax error itself
    }
    if (nodes <= maxNodes) return next();
    res.status(400).json({
      errors: [
        {
          message: `Query too large: it selects ${nodes} fields, above the limit of ${maxNodes}. Split it into several requests.`,
          extensions: { code: 'QUERY_TOO_COMPLEX', nodes, maxNodes },
        },
      ],
    });
  };
}
