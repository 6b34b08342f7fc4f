import type http from 'node:http';
import { GraphQLError, GraphQLFormattedError, GraphQLSchema, type ExecutionResult } from 'graphql';
import type { Context } from '../context';
import type { Viewer } from '../auth/roles';
import { planCompiledRead } from '../modules/school/school.compiled';
import { withSqlTally, type SqlTally } from '../db/sql-counter';
import type { AcceptedRead } from './jit';
import { coerceVariables } from './variables';
import type { costChecker } from './complexity';
import { budgetKeyOf, type CostBudget } from './cost-budget';
import { rateLimitedResponse, RateLimited, safeRequestId } from './limits';
import { BudgetExceeded, withinBudget } from './budget';
import { settleRequestStatus, unstorableInput } from './guard';

/** Documents kept, and the longest kept: the add-in's and an analyst's handful, never an unbounded set. */
const MAX_KNOWN = 256;
const MAX_QUERY_LENGTH = 20_000;
/**
 * The largest body the hot path reads. It reads and parses a body before the rate limits are asked (Express asks
 * them first), so a caller over its limit must not make it parse megabytes: a larger body is Express's from the start.
 */
const MAX_HOT_BODY = 64 * 1024;

/** A request body the hot path read, for Express when the hot path leaves the request to it (server.ts). */
export type PreRead = { body: unknown } | { error: Error & { type: string; status: number } };

export interface FastReadDeps {
  schema: GraphQLSchema;
  bodyLimitBytes: number;
  /** The viewer of an Authorization header the hub already trusts (its token cache); undefined: not known yet. */
  viewerOf(header: string | undefined): Viewer | undefined;
  /** The rate limits (limits.ts): null when the request may go on. */
  admit(address: string, header: string | undefined): Promise<RateLimited | null>;
  costBudget: CostBudget;
  checkCost: ReturnType<typeof costChecker>;
  /** A request's context, exactly as Apollo's context function builds it (server.ts). */
  contextFor(viewer: Viewer, requestId: string, tally: SqlTally): Context;
  budgetMs: number;
  formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError;
  /** Starts the request's log line and metrics and sets its id (server.ts), as Express's first middleware does. */
  observe(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    started: bigint,
    requestId: string,
    tally: SqlTally,
  ): void;
  /** After an operation ran (by its resolved name, as Apollo reports it): the executor's and the SQL-per-operation metrics. */
  onExecuted(operationName: string | null, tally: SqlTally): void;
  /** True once the hub is stopping: Apollo then answers (and refuses) every request. */
  stopping(): boolean;
}

/** The one content type the hot path reads (body-parser's default charset); anything else goes to Express. */
const JSON_TYPES = new Set(['application/json', 'application/json; charset=utf-8', 'application/json;charset=utf-8']);

/** Accept headers whose answer is Apollo's application/json; anything else is negotiated by Apollo. */
function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined || accept === '*/*' || accept === 'application/json') return true;
  return /^application\/json\s*(,\s*\*\/\*(;q=[\d.]+)?)?$/i.test(accept.trim());
}

/**
 * The hot read path. A POST /graphql whose document Apollo's pipeline has accepted before (parsed, validated,
 * every plugin's check passed) and which the SQL compiler runs as one statement is answered here, straight from
 * Node's HTTP server: the same checks and the same answer as Apollo's pipeline, without Express, body-parser and
 * Apollo's per-request machinery (over half the CPU of a single-school lookup). Per request it still applies
 * every rule that depends on the request: the caller's token (only one the hub already trusts), the rate limits,
 * the cost budget and size limit, the role matrix, unstorable strings, variable coercion, the time budget, the
 * request id, log line and metrics; each of those is the function Apollo's path calls, not a copy.
 *
 * Anything else (a new document, a token not yet checked, an Origin, another content type, a check that fails
 * before any work is done) is left to Express and Apollo, with the body already read (server.ts's jsonBody).
 */
export function createFastRead(deps: FastReadDeps) {
  const known = new Map<string, AcceptedRead>();
  // Length-prefixed, so no operation name and query text can spell another pair's key.
  const keyOf = (query: string, operationName: string | null | undefined) =>
    `${operationName?.length ?? 0}:${operationName ?? ''}${query}`;

  /**
   * Answers with Apollo's status, headers and body for a result: errors formatted by the hub's formatError and their
   * `extensions.http` merged into the response, as Apollo's own normalizeAndFormatErrors does (it is not exported).
   */
  function send(res: http.ServerResponse, result: ExecutionResult, status?: number): void {
    const head: { status?: number; headers: Map<string, string> } = { status, headers: new Map() };
    let errors: GraphQLFormattedError[] | undefined;
    if (result.errors?.length) {
      errors = result.errors.map((error) => {
        const extensions: Record<string, unknown> = {
          ...error.extensions,
          code: error.extensions?.code ?? 'INTERNAL_SERVER_ERROR',
        };
        const http = extensions.http as { status?: number; headers?: Map<string, string> } | undefined;
        if (http && typeof http === 'object') {
          if (typeof http.status === 'number') head.status = http.status;
          for (const [k, v] of http.headers ?? []) head.headers.set(k, v);
          delete extensions.http;
        }
        try {
          return deps.formatError({ ...error.toJSON(), extensions }, error);
        } catch {
          return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
        }
      });
    }
    const body = 'data' in result ? { errors, data: result.data } : { errors };
    settleRequestStatus(body, head);
    writeJson(res, head.status ?? 200, head.headers, `${JSON.stringify(body)}\n`);
  }

  /** Everything about the request that can be decided without doing any work: the plan, or null (Express). */
  function plan(body: Record<string, unknown>, viewerHeader: string | undefined) {
    const { query, operationName, variables } = body;
    if (typeof query !== 'string' || body.extensions !== undefined) return null;
    if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return null;
    if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables)))
      return null;
    const accepted = known.get(keyOf(query, operationName));
    if (!accepted) return null;
    const viewer = deps.viewerOf(viewerHeader);
    if (!viewer) return null;
    try {
      deps.costBudget.refuseIfSpent(budgetKeyOf(viewer));
    } catch {
      return null;
    }
    const raw = (variables ?? undefined) as Record<string, unknown> | undefined;
    if (unstorableInput(accepted.document, raw)) return null;
    const probe = {};
    const coerced = coerceVariables(deps.schema, accepted.document, accepted.operation, raw, probe);
    if ('errors' in coerced) return null;
    const cost = deps.checkCost(accepted.document, accepted.operationName, raw);
    if ('refused' in cost) return null;
    return { accepted, viewer, variables: coerced.variables, complexity: cost.complexity };
  }

  async function answer(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    started: bigint,
    body: Record<string, unknown>,
    fallback: (preRead: PreRead) => void,
  ): Promise<void> {
    const header = req.headers.authorization;
    const p = plan(body, header);
    if (!p || deps.stopping()) return fallback({ body });
    const requestId = safeRequestId(req.headers['x-request-id']);
    const tally: SqlTally = { statements: 0 };
    const ctx = deps.contextFor(p.viewer, requestId, tally);
    await withSqlTally(tally, async () => {
      const compiled = await planCompiledRead(
        deps.schema,
        p.accepted.operation,
        p.accepted.fragments,
        p.variables,
        ctx,
      );
      // Not one statement for these variables after all: nothing has been done yet, so Express and Apollo answer.
      if (!compiled) return fallback({ body });
      deps.observe(req, res, started, requestId, tally);
      const refused = await deps.admit(req.socket.remoteAddress ?? 'unknown', header);
      if (refused) {
        const r = rateLimitedResponse(refused);
        return writeJson(res, r.status, r.headers, JSON.stringify(r.body));
      }
      let release: () => void;
      try {
        release = await deps.costBudget.charge(budgetKeyOf(p.viewer), p.complexity);
      } catch (err) {
        return send(res, { errors: [asGraphQLError(err)] }, 500);
      }
      try {
        const result = await withinBudget(compiled.run(), deps.budgetMs, () => ({
          errors: [new BudgetExceeded(deps.budgetMs)],
        }));
        deps.onExecuted(p.accepted.operation.name?.value ?? null, tally);
        send(res, result);
      } catch (err) {
        send(res, { errors: [asGraphQLError(err)] }, 500);
      } finally {
        release();
      }
    });
  }

  return {
    /** Learns a document Apollo's pipeline accepted and ran as one compiled statement (jit.ts's onCompiled). */
    learn(accepted: AcceptedRead): void {
      if (accepted.query.length > MAX_QUERY_LENGTH) return;
      const key = keyOf(accepted.query, accepted.operationName);
      if (known.has(key)) return;
      if (known.size >= MAX_KNOWN) known.delete(known.keys().next().value!);
      known.set(key, accepted);
    },
    /** Documents learnt (tests and the bench). */
    size: () => known.size,
    /**
     * Takes the request (true) when it may be a hot read: then it answers it, or reads its body and hands it to
     * `fallback`. False: the request is Express's from the start.
     */
    take(req: http.IncomingMessage, res: http.ServerResponse, fallback: (preRead: PreRead) => void): boolean {
      if (req.method !== 'POST' || req.url !== '/graphql' || known.size === 0 || deps.stopping()) return false;
      const h = req.headers;
      if (h.origin !== undefined || h['content-encoding'] !== undefined || h['transfer-encoding'] !== undefined)
        return false;
      if (!JSON_TYPES.has(String(h['content-type']).toLowerCase()) || !acceptsJson(h.accept)) return false;
      const length = Number(h['content-length']);
      if (!Number.isInteger(length) || length <= 0 || length > Math.min(deps.bodyLimitBytes, MAX_HOT_BODY))
        return false;
      const started = process.hrtime.bigint();
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.once('error', () => res.destroy());
      req.once('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          // body-parser's strict mode: only an object or an array is a JSON body.
          if (!/^[\s]*[{[]/.test(text)) throw new SyntaxError('not an object or array');
          body = JSON.parse(text);
        } catch (err) {
          return fallback({
            error: Object.assign(err instanceof Error ? err : new Error(String(err)), {
              type: 'entity.parse.failed',
              status: 400,
            }),
          });
        }
        if (!body || typeof body !== 'object' || Array.isArray(body)) return fallback({ body });
        answer(req, res, started, body as Record<string, unknown>, fallback).catch((err) => {
          if (!res.headersSent) send(res, { errors: [asGraphQLError(err)] }, 500);
          else res.destroy();
        });
      });
      return true;
    },
  };
}

/** A JSON answer with its headers, spelled as Express writes them so a raw response reads the same on either path. */
function writeJson(res: http.ServerResponse, status: number, headers: Map<string, string>, text: string): void {
  for (const [k, v] of headers) res.setHeader(k, v);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.statusCode = status;
  res.end(text);
}

function asGraphQLError(err: unknown): GraphQLError {
  if (err instanceof GraphQLError) return err;
  const cause = err instanceof Error ? err : new Error(`Unexpected error value: ${String(err)}`);
  return new GraphQLError(cause.message, { originalError: cause });
}
