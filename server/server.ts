import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Kind, parse } from 'graphql';
import express, { NextFunction, Request, Response } from 'express';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { Config } from './config';
import { Context, createContext } from './context';
import { HubError, makeFormatError, mapDatabaseError } from './errors';
import { getSchema } from './schema';
import { withSqlTally, SqlTally } from './db/sql-counter';
import { authenticate } from './http/authenticate';
import { graphiqlRouter, GRAPHIQL_HTML } from './http/graphiql';
import { authConfigRouter } from './http/auth-config';
import { createMetrics, Metrics, operationLabeller, routeLabel } from './http/metrics';
import { complexityLimitPlugin, costChecker } from './http/complexity';
import { createFastRead, PreRead } from './http/fast-read';
import { trackBounds } from './http/cost';
import { createCostCache } from './http/cost-cache';
import { budgetKeyOf, createCostBudget } from './http/cost-budget';
import { guardPlugin, nodeLimit } from './http/guard';
import { addressOf, createRateLimits, limitConnections, RateLimitConfig, safeRequestId } from './http/limits';
import { ROUTES } from './auth/policy';
import { projectRoot } from './common/paths';
import { budgeted } from './http/budget';
import { jitExecutor } from './http/jit';
import { mountFileRoutes } from './modules/exports/file-routes';
import { createJwtVerifier, JwtVerifier } from './auth/jwt';
import { Clock, createViewerCache } from './auth/tokens';
import { referenceCache } from './modules/period/reference-data';
import type { Viewer } from './auth/roles';
import { auditSourceOf } from './auth/source';
import { localAdminRouter } from './scripts/local/routes';
import type { JWTVerifyGetKey } from 'jose';
import { addinRouter } from './http/addin-static';
import { startPrecompute } from './modules/caseload/disclosure.store';
import { settlePendingRecomputes } from './modules/school/pending-recompute';

/** What the hub's own middleware hangs on a request: its id and SQL tally, and a body the hot read path read. */
type HubRequest = http.IncomingMessage & { hub?: { requestId: string; tally: SqlTally }; hubPreRead?: PreRead };

/**
 * Express's JSON body parser, except for a request whose body the hot read path already read (fast-read.ts): that
 * body, or body-parser's own parse error (so the error handler answers it as it answers any bad JSON).
 */
function jsonBody(parser: express.RequestHandler): express.RequestHandler {
  return (req, res, next) => {
    const pre = (req as HubRequest).hubPreRead;
    if (!pre) return parser(req, res, next);
    if ('error' in pre) return next(pre.error);
    req.body = pre.body;
    next();
  };
}

/** Per-hub limits (config.ts reads them from the environment; tests set them directly). */
export interface HubLimits {
  metricsToken: string | null;
  rateLimitPerToken: number;
  rateLimitPerAddress: number;
  authFailuresPerAddress: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnectionsPerAddress: number;
  requestBudgetMs: number;
  /** Loopback-only listener for /metrics without a token (0: none). */
  metricsPort: number;
  rateLimitStore: RateLimitConfig['store'];
  /** Operation names beyond the add-in's given their own metric series. */
  operationLabels: number;
  /** Estimated query cost (rows x fields) one caller may spend per `costBudgetWindowSeconds` (0: no budget). */
  costBudgetPerToken: number;
  costBudgetWindowSeconds: number;
  /** A query estimated at this cost or more is expensive: a caller may run `maxConcurrentExpensivePerToken` at once. */
  expensiveQueryCost: number;
  maxConcurrentExpensivePerToken: number;
  /** Compute disclosure patterns ahead in the background, at start and every so many ms (0: off; reads compute them). */
  disclosurePrecomputeMs: number;
}
export const HUB_LIMIT_KEYS: (keyof HubLimits)[] = [
  'metricsToken',
  'rateLimitPerToken',
  'rateLimitPerAddress',
  'authFailuresPerAddress',
  'headersTimeoutMs',
  'requestTimeoutMs',
  'maxConnectionsPerAddress',
  'requestBudgetMs',
  'metricsPort',
  'rateLimitStore',
  'operationLabels',
  'costBudgetPerToken',
  'costBudgetWindowSeconds',
  'expensiveQueryCost',
  'maxConcurrentExpensivePerToken',
  'disclosurePrecomputeMs',
];

/** Safe defaults for whatever the caller leaves out (config.ts gives every one from the environment). */
export const DEFAULT_HUB_LIMITS: HubLimits = {
  metricsToken: null,
  rateLimitPerToken: 1200,
  rateLimitPerAddress: 6000,
  authFailuresPerAddress: 50,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 120_000,
  maxConnectionsPerAddress: 512,
  requestBudgetMs: 30_000,
  metricsPort: 0,
  rateLimitStore: 'memory',
  operationLabels: 100,
  // Twelve queries of the largest accepted size a minute (one every 5 s); the add-in's refresh of every dataset costs
  // a small part of it (tests/integration/cost-budget.test.ts).
  costBudgetPerToken: 3_000_000,
  costBudgetWindowSeconds: 60,
  expensiveQueryCost: 50_000,
  maxConcurrentExpensivePerToken: 2,
  disclosurePrecomputeMs: 0,
};

export interface HubDeps {
  dataSource: DataSource;
  config: Pick<Config, 'bodyLimitBytes' | 'oidc'> &
    Partial<Pick<Config, 'compiledReads' | 'fastReads' | 'addinDir' | 'corsOrigins'>> &
    Partial<HubLimits>;
  logger: Logger;
  /** Tests pass keys they made; production fetches the JWKS from OIDC_JWKS_URL. */
  jwtKeys?: JWTVerifyGetKey;
  /** On an embedded data folder: the secret of the command line's door (/local/run/<command>). */
  localAdmin?: { secret: string };
  /** How long an authentication is trusted (default TOKEN_CACHE_MS) and by which clock: tests move time by hand. */
  tokenCacheMs?: number;
  clock?: Clock;
}

export interface Hub {
  app: express.Express;
  httpServer: http.Server;
  apollo: ApolloServer<Context>;
  metrics: Metrics;
  /** Listens on the port (0 for any free one) and resolves to the base URL (and starts the loopback metrics listener). */
  listen(port: number, host?: string): Promise<string>;
  /** The loopback metrics listener's URL, once listening (null when METRICS_PORT is 0). */
  metricsUrl(): string | null;
  /** Reads the data's bounds for the cost estimate now, as the minute's refresh does. */
  refreshBounds(): Promise<void>;
  /** Resolves when the background computation of disclosure patterns has nothing in hand (at once when off). */
  precomputeIdle(): Promise<void>;
  stop(): Promise<void>;
}

/** Query limits applied at validation, before any resolver (and so any SQL) runs. */
export const QUERY_LIMITS = {
  maxDepth: 12,
  maxAliases: 600,
  maxTokens: 25000,
  maxDirectives: 50,
  /** Estimated rows x fields: a bound on the response's size. */
  maxComplexity: 250000,
  /** Field selections in the document. */
  maxNodes: 2000,
  /** Whole-county scenario computations (results, comparison) per request. */
  maxComputations: 8,
};

/** The add-in's operations by name (schema/operations): metric labels for anything else are "other". */
function knownOperationNames(): Set<string> {
  const names = new Set<string>();
  try {
    const dir = path.join(projectRoot(), 'schema', 'operations');
    for (const f of fs.readdirSync(dir)) {
      if (!f.endsWith('.graphql')) continue;
      for (const d of parse(fs.readFileSync(path.join(dir, f), 'utf8')).definitions) {
        if (d.kind === Kind.OPERATION_DEFINITION && d.name) names.add(d.name.value);
      }
    }
  } catch {
    // Without the folder (an unusual install) every named operation is "other": still bounded.
  }
  return names;
}

const ROUTE_KEYS = Object.keys(ROUTES);

/** Builds the HTTP app and Apollo Server without listening, so tests and the bench drive it in-process. */
export async function createHub(deps: HubDeps): Promise<Hub> {
  const { dataSource, logger } = deps;
  const limits: HubLimits = {
    ...DEFAULT_HUB_LIMITS,
    ...Object.fromEntries(
      Object.entries(deps.config).filter(([k, v]) => HUB_LIMIT_KEYS.includes(k as keyof HubLimits) && v !== undefined),
    ),
  };
  const metrics = createMetrics();
  const operationLabel = operationLabeller(knownOperationNames(), limits.operationLabels);
  const bounds = trackBounds(dataSource);
  await bounds.ready;
  const rateLimits = createRateLimits(dataSource, {
    perToken: limits.rateLimitPerToken,
    perAddress: limits.rateLimitPerAddress,
    authFailures: limits.authFailuresPerAddress,
    store: limits.rateLimitStore,
  });
  const costBudget = createCostBudget(dataSource, {
    points: limits.costBudgetPerToken,
    windowSeconds: limits.costBudgetWindowSeconds,
    expensiveCost: limits.expensiveQueryCost,
    maxConcurrentExpensive: limits.maxConcurrentExpensivePerToken,
    store: limits.rateLimitStore,
  });
  const jwt: JwtVerifier | null = deps.config.oidc
    ? createJwtVerifier(deps.config.oidc, deps.jwtKeys, {
        communityExists: async (code) =>
          (await dataSource.query('SELECT 1 FROM community WHERE code = $1', [code])).length > 0,
      })
    : null;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Node checks the header and request deadlines on this interval (default 30 s, too coarse for a 10 s deadline).
  // The hot read path (fast-read.ts) takes the requests it can answer; Express and Apollo answer the rest.
  let fast: ReturnType<typeof createFastRead> | null = null;
  let stopping = false;
  const httpServer = http.createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
    const handOver = (preRead: PreRead) => {
      (req as HubRequest).hubPreRead = preRead;
      app(req, res);
    };
    if (!fast?.take(req, res, handOver)) app(req, res);
  });
  limitConnections(httpServer, limits);

  const formatError = makeFormatError((err) => logger.error({ err }, 'unhandled error'));
  const armor = new ApolloArmor({
    maxDepth: { n: QUERY_LIMITS.maxDepth },
    maxAliases: { n: QUERY_LIMITS.maxAliases },
    // graphql-js's own token limit (parseOptions below): armor's re-parses and turns syntax errors into 500s.
    maxTokens: { enabled: false },
    maxDirectives: { n: QUERY_LIMITS.maxDirectives },
    // Armor's static cost ignores list sizes (it refused the 600-school query and let 60 aliases of every
    // community through); complexityLimitPlugin estimates rows x fields instead.
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: false },
  });
  const protection = armor.protect();
  const schema = await getSchema();
  const checkCost = costChecker(
    schema,
    QUERY_LIMITS,
    () => bounds.current(),
    createCostCache(schema, (result) => metrics.costEstimates.inc({ result })),
  );
  // Reference data is cached only while this process listens for its changes: listen before serving.
  await referenceCache(dataSource).ready();
  // Closures that a migration could not finish (their pots and shares: pending_recompute) are settled before serving.
  await settlePendingRecomputes(dataSource, logger);
  const apollo = new ApolloServer<Context>({
    gateway: jitExecutor(schema, {
      compiledReads: deps.config.compiledReads,
      onExecute: (path) => metrics.executions.inc({ path }),
      budgetMs: limits.requestBudgetMs,
      onCompiled: (accepted) => fast?.learn(accepted),
    }),
    ...protection,
    parseOptions: { maxTokens: QUERY_LIMITS.maxTokens },
    plugins: [
      guardPlugin(),
      ...protection.plugins,
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: 5000 }),
      ApolloServerPluginCacheControlDisabled(),
      complexityLimitPlugin(schema, checkCost, (ctx, complexity) =>
        costBudget.charge(budgetKeyOf((ctx as Context).viewer), complexity),
      ),
      ApolloServerPluginLandingPageDisabled(),
      {
        async requestDidStart() {
          return {
            async willSendResponse({ contextValue, operationName }) {
              if (contextValue?.sql)
                metrics.sqlPerOperation.observe(
                  { operation: operationLabel(operationName) },
                  contextValue.sql.statements,
                );
            },
          };
        },
      },
    ],
    formatError,
    includeStacktraceInErrorResponses: false,
    // main.ts owns SIGINT/SIGTERM: Apollo's own handlers re-raise the signal and swallowed the shutdown.
    stopOnTerminationSignals: false,
    introspection: true,
    csrfPrevention: true,
  });
  await apollo.start();

  /** Sets the request id and, once the response is sent, counts it in the metrics and writes its log line. */
  const observe = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    started: bigint,
    requestId: string,
    tally: SqlTally,
  ) => {
    res.setHeader('x-request-id', requestId);
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const path = ((req as Request).originalUrl ?? req.url ?? '/').split('?')[0];
      const method = req.method ?? 'GET';
      const route = routeLabel(ROUTE_KEYS, method, path);
      metrics.requests.inc({ route, status: String(res.statusCode) });
      metrics.latency.observe({ route }, seconds);
      if (route !== '/metrics' && route !== '/healthz' && route !== '/graphiql/*') {
        logger.info(
          {
            requestId,
            method,
            path: path.slice(0, 200),
            status: res.statusCode,
            ms: Math.round(seconds * 1000),
            sql: tally.statements,
          },
          'request',
        );
      }
    });
  };

  // Request id, timing, SQL tally and one structured log line per request.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const requestId = safeRequestId(req.headers['x-request-id']);
    const tally: SqlTally = { statements: 0 };
    observe(req, res, process.hrtime.bigint(), requestId, tally);
    (req as HubRequest).hub = { requestId, tally };
    withSqlTally(tally, () => next());
  });

  app.get('/healthz', async (_req, res) => {
    try {
      await Promise.race([
        dataSource.query('SELECT 1'),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout after 3 s')), 3000).unref()),
      ]);
      res.json({ status: 'ok', database: 'reachable' });
    } catch (err) {
      res.status(503).json({ status: 'unavailable', database: 'unreachable', error: (err as Error).message });
    }
  });

  const sendMetrics = async (_req: Request, res: Response) => {
    res.setHeader('content-type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  };
  const metricsToken = limits.metricsToken ? Buffer.from(`Bearer ${limits.metricsToken}`) : null;
  app.get('/metrics', (req, res) => {
    const given = Buffer.from(String(req.headers.authorization ?? ''));
    if (metricsToken && given.length === metricsToken.length && crypto.timingSafeEqual(given, metricsToken))
      return void sendMetrics(req, res);
    res.status(401).json({
      errors: [
        {
          message: metricsToken
            ? 'GET /metrics needs "Authorization: Bearer <METRICS_TOKEN>".'
            : 'Metrics are served on the loopback port METRICS_PORT, or here with METRICS_TOKEN set.',
          extensions: { code: 'UNAUTHENTICATED' },
        },
      ],
    });
  });

  // The built add-in and CORS answers come first: static files and preflights need no token.
  app.use(addinRouter(deps.config));

  // Every other route is rate limited (health and metrics stay reachable for the operator's probes).
  app.use(rateLimits.middleware);

  app.use(authConfigRouter(deps.config.oidc));
  app.use(graphiqlRouter());
  app.get('/graphql', (req, res, next) => {
    if (req.accepts(['text/html', 'application/json']) === 'text/html' && !req.query.query) {
      res.type('html').send(GRAPHIQL_HTML);
      return;
    }
    next();
  });

  const viewers = createViewerCache({ ttlMs: deps.tokenCacheMs, clock: deps.clock });
  /** A request's context, on either path: the viewer's audit source and a handle whose SQL stops at the time budget. */
  const contextFor = (viewer: Viewer, requestId: string, tally: SqlTally) => {
    const deadline = Date.now() + limits.requestBudgetMs;
    const ctx = createContext({
      viewer,
      db: budgeted(dataSource.manager, deadline),
      requestId,
      sql: tally,
      source: auditSourceOf(viewer),
    });
    return Object.assign(ctx, { deadline });
  };
  /**
   * The viewer for an Authorization header, cached for a few seconds (tokens.ts). An address that keeps failing is
   * refused (429) before its guesses are checked, and each failure is answered more slowly. A database that cannot
   * be reached (pool exhausted, timed out) is SERVICE_UNAVAILABLE (503), never an internal error.
   */
  const viewerFor = (header: string | undefined, req?: { socket: { remoteAddress?: string } }): Promise<Viewer> =>
    viewers.get(header, async () => {
      const address = req ? addressOf(req) : null;
      if (address && header) await rateLimits.beforeTokenCheck(address);
      try {
        return await authenticate(header, { dataSource, jwt });
      } catch (err) {
        if (err instanceof HubError) {
          if (address && header && err.extensions.code === 'UNAUTHENTICATED') await rateLimits.afterFailure(address);
          throw err;
        }
        const mapped = mapDatabaseError(err as Parameters<typeof mapDatabaseError>[0]);
        if (mapped?.code === 'SERVICE_UNAVAILABLE') {
          logger.warn({ err }, 'token check could not reach the database');
          throw new HubError('SERVICE_UNAVAILABLE', `${mapped.message} (checking your token)`, {
            http: { status: 503, headers: new Map([['retry-after', '5']]) },
          });
        }
        throw err;
      }
    });

  app.use(
    '/graphql',
    jsonBody(express.json({ limit: deps.config.bodyLimitBytes })),
    nodeLimit(QUERY_LIMITS.maxNodes, QUERY_LIMITS.maxTokens),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const hub = (req as HubRequest).hub!;
        const viewer = await viewerFor(req.headers.authorization, req);
        costBudget.refuseIfSpent(budgetKeyOf(viewer));
        // Count the operation's own statements: authentication is cached and would make counts jitter.
        hub.tally.statements = 0;
        return contextFor(viewer, hub.requestId, hub.tally);
      },
    }),
  );

  fast =
    (deps.config.fastReads ?? true) && (deps.config.compiledReads ?? true)
      ? createFastRead({
          schema,
          bodyLimitBytes: deps.config.bodyLimitBytes,
          viewerOf: (header) => viewers.peek(header),
          admit: rateLimits.admit,
          costBudget,
          checkCost,
          contextFor,
          budgetMs: limits.requestBudgetMs,
          formatError,
          observe,
          onExecuted(operationName, tally) {
            metrics.executions.inc({ path: 'compiled' });
            metrics.hotReads.inc();
            metrics.sqlPerOperation.observe({ operation: operationLabel(operationName) }, tally.statements);
          },
          stopping: () => stopping,
        })
      : null;

  // Exports run their GraphQL documents through this same Apollo pipeline (plugins, cost budget, executor).
  mountFileRoutes(app, {
    dataSource,
    viewerFor,
    logger,
    graphql: (request, contextValue) => apollo.executeOperation(request, { contextValue }),
  });
  if (deps.localAdmin) app.use('/local', localAdminRouter({ dataSource, secret: deps.localAdmin.secret, logger }));

  // Client errors (too large, bad JSON, a path that does not decode) as GraphQL-shaped JSON with a clear message.
  app.use(
    (
      err: Error & { type?: string; status?: number; limit?: number },
      req: Request,
      res: Response,
      next: NextFunction,
    ) => {
      if (res.headersSent) return next(err);
      if (err.type === 'entity.too.large') {
        res.status(413).json({
          errors: [
            {
              message: `Request body too large: the maximum is ${err.limit} bytes (BODY_LIMIT_BYTES). Split the batch.`,
              extensions: { code: 'BAD_USER_INPUT', maxBytes: err.limit },
            },
          ],
        });
        return;
      }
      if (err.type === 'entity.parse.failed') {
        res.status(400).json({
          errors: [{ message: 'The request body is not valid JSON.', extensions: { code: 'BAD_USER_INPUT' } }],
        });
        return;
      }
      if (err instanceof URIError || (typeof err.status === 'number' && err.status >= 400 && err.status < 500)) {
        const message =
          err instanceof URIError || err.message?.startsWith('Failed to decode')
            ? 'The address is not valid: a %-escape in it does not decode.'
            : 'The request is not valid.';
        res
          .status(err instanceof URIError ? 400 : err.status!)
          .json({ errors: [{ message, extensions: { code: 'BAD_USER_INPUT' } }] });
        return;
      }
      logger.error({ err, path: req.path.slice(0, 200) }, 'unhandled http error');
      res
        .status(500)
        .json({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    },
  );

  // /metrics without a token, on loopback only: for a Prometheus on the same host.
  const metricsServer =
    limits.metricsPort > 0
      ? http.createServer((req, res) => {
          if (req.method === 'GET' && req.url === '/metrics') {
            void metrics.registry
              .metrics()
              .then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text));
          } else res.writeHead(404).end();
        })
      : null;

  let precompute: ReturnType<typeof startPrecompute> | null = null;
  return {
    app,
    httpServer,
    apollo,
    metrics,
    async listen(port, host = '127.0.0.1') {
      const url = await new Promise<string>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          const addr = httpServer.address() as { port: number };
          resolve(`http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${addr.port}`);
        });
      });
      if (metricsServer) {
        // A second hub process on the same host finds the port taken: it serves without the loopback metrics.
        await new Promise<void>((resolve) => {
          metricsServer.once('error', (err) => {
            logger.warn(
              { err, port: limits.metricsPort },
              'metrics port unavailable: /metrics is not served on loopback by this process',
            );
            resolve();
          });
          metricsServer.listen(limits.metricsPort, '127.0.0.1', () => resolve());
        });
      }
      if (limits.disclosurePrecomputeMs > 0 && !precompute)
        precompute = startPrecompute(deps.dataSource.manager, {
          intervalMs: limits.disclosurePrecomputeMs,
          log: logger,
        });
      return url;
    },
    refreshBounds: () => bounds.refresh(),
    precomputeIdle() {
      return precompute?.idle() ?? Promise.resolve();
    },
    metricsUrl() {
      const addr = metricsServer?.address() as { port: number } | null | undefined;
      return addr ? `http://127.0.0.1:${addr.port}/metrics` : null;
    },
    async stop() {
      stopping = true;
      await precompute?.stop();
      bounds.stop();
      await apollo.stop();
      if (httpServer.listening) await new Promise<void>((r) => httpServer.close(() => r()));
      if (metricsServer?.listening) await new Promise<void>((r) => metricsServer.close(() => r()));
    },
  };
}
