import crypto from 'node:crypto';
import http from 'node:http';
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
import { makeFormatError } from './errors';
import { getSchema } from './schema';
import { withSqlTally, SqlTally } from './db/sql-counter';
import { authenticate } from './http/authenticate';
import { graphiqlRouter, GRAPHIQL_HTML } from './http/graphiql';
import { authConfigRouter } from './http/auth-config';
import { createMetrics, Metrics } from './http/metrics';
import { complexityLimitPlugin } from './http/complexity';
import { jitExecutor } from './http/jit';
import { mountFileRoutes } from './modules/exports/routes';
import { createJwtVerifier, JwtVerifier } from './auth/jwt';
import type { Viewer } from './auth/roles';
import type { JWTVerifyGetKey } from 'jose';
import { addinRouter } from './http/addin-static';

export interface HubDeps {
  dataSource: DataSource;
  config: Pick<Config, 'bodyLimitBytes' | 'oidc'> & Partial<Pick<Config, 'compiledReads' | 'addinDir' | 'corsOrigins'>>;
  logger: Logger;
  /** Tests pass keys they made; production fetches the JWKS from OIDC_JWKS_URL. */
  jwtKeys?: JWTVerifyGetKey;
}

export interface Hub {
  app: express.Express;
  httpServer: http.Server;
  apollo: ApolloServer<Context>;
  metrics: Metrics;
  /** Listens on the port (0 for any free one) and resolves to the base URL. */
  listen(port: number, host?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Query limits applied at validation, before any resolver (and so any SQL) runs. */
export const QUERY_LIMITS = { maxDepth: 12, maxAliases: 600, maxTokens: 25000, maxDirectives: 50, maxComplexity: 250000 };

const TOKEN_CACHE_MS = 5000;

/** Builds the HTTP app and Apollo Server without listening, so tests and the bench drive it in-process. */
export async function createHub(deps: HubDeps): Promise<Hub> {
  const { dataSource, logger } = deps;
  const metrics = createMetrics();
  const jwt: JwtVerifier | null = deps.config.oidc ? createJwtVerifier(deps.config.oidc, deps.jwtKeys) : null;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const httpServer = http.createServer(app);

  const armor = new ApolloArmor({
    maxDepth: { n: QUERY_LIMITS.maxDepth },
    maxAliases: { n: QUERY_LIMITS.maxAliases },
    maxTokens: { n: QUERY_LIMITS.maxTokens },
    maxDirectives: { n: QUERY_LIMITS.maxDirectives },
    // Armor's static cost ignores list sizes (it refused the 600-school query and let 60 aliases of every
    // community through); complexityLimitPlugin estimates rows x fields instead.
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: false },
  });
  const protection = armor.protect();
  const schema = await getSchema();
  const apollo = new ApolloServer<Context>({
    gateway: jitExecutor(schema, { compiledReads: deps.config.compiledReads, onExecute: (path) => metrics.executions.inc({ path }) }),
    ...protection,
    plugins: [
      ...protection.plugins,
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: 5000 }),
      ApolloServerPluginCacheControlDisabled(),
      complexityLimitPlugin(schema, QUERY_LIMITS.maxComplexity),
      ApolloServerPluginLandingPageDisabled(),
      {
        async requestDidStart() {
          return {
            async willSendResponse({ contextValue, operationName }) {
              if (contextValue?.sql) metrics.sqlPerOperation.observe({ operation: operationName ?? 'anonymous' }, contextValue.sql.statements);
            },
          };
        },
      },
    ],
    formatError: makeFormatError((err) => logger.error({ err }, 'unhandled error')),
    includeStacktraceInErrorResponses: false,
    // main.ts owns SIGINT/SIGTERM: Apollo's own handlers re-raise the signal and swallowed the shutdown.
    stopOnTerminationSignals: false,
    introspection: true,
    csrfPrevention: true,
  });
  await apollo.start();

  // Request id, timing, SQL tally and one structured log line per request.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const requestId = (req.headers['x-request-id'] as string) || crypto.randomUUID();
    const tally: SqlTally = { statements: 0 };
    const started = process.hrtime.bigint();
    res.setHeader('x-request-id', requestId);
    (req as Request & { hub?: { requestId: string; tally: SqlTally } }).hub = { requestId, tally };
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const path = req.originalUrl.split('?')[0];
      const route = path.startsWith('/graphql') ? '/graphql' : path.startsWith('/export') ? '/export' : path.startsWith('/graphiql') ? '/graphiql' : path;
      metrics.requests.inc({ route, status: String(res.statusCode) });
      metrics.latency.observe({ route }, seconds);
      if (route !== '/metrics' && route !== '/healthz' && route !== '/graphiql') {
        logger.info(
          { requestId, method: req.method, path, status: res.statusCode, ms: Math.round(seconds * 1000), sql: tally.statements },
          'request',
        );
      }
    });
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

  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });

  app.use(addinRouter(deps.config));
  app.use(authConfigRouter(deps.config.oidc));
  app.use(graphiqlRouter());
  app.get('/graphql', (req, res, next) => {
    if (req.accepts(['text/html', 'application/json']) === 'text/html' && !req.query.query) {
      res.type('html').send(GRAPHIQL_HTML);
      return;
    }
    next();
  });

  const tokenCache = new Map<string, { viewer: Viewer; until: number }>();
  const viewerFor = async (header: string | undefined): Promise<Viewer> => {
    const hit = header ? tokenCache.get(header) : undefined;
    if (hit && hit.until > Date.now()) return hit.viewer;
    const viewer = await authenticate(header, { dataSource, jwt });
    if (tokenCache.size > 10000) tokenCache.clear();
    tokenCache.set(header!, { viewer, until: Date.now() + TOKEN_CACHE_MS });
    return viewer;
  };

  app.use(
    '/graphql',
    express.json({ limit: deps.config.bodyLimitBytes }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const hub = (req as Request & { hub: { requestId: string; tally: SqlTally } }).hub;
        const viewer = await viewerFor(req.headers.authorization);
        // Count the operation's own statements: authentication is cached and would make counts jitter.
        hub.tally.statements = 0;
        const source = String(req.headers['x-hub-source'] ?? '').toUpperCase() === 'ADDIN' ? 'ADDIN' : 'API';
        return createContext({ viewer, db: dataSource.manager, requestId: hub.requestId, sql: hub.tally, source });
      },
    }),
  );

  mountFileRoutes(app, { dataSource, viewerFor, logger });

  // Body parser errors (too large, bad JSON) as GraphQL-shaped JSON with a clear message.
  app.use((err: Error & { type?: string; status?: number; limit?: number }, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    if (err.type === 'entity.too.large') {
      res.status(413).json({
        errors: [{ message: `Request body too large: the maximum is ${err.limit} bytes (BODY_LIMIT_BYTES). Split the batch.`, extensions: { code: 'BAD_USER_INPUT', maxBytes: err.limit } }],
      });
      return;
    }
    if (err.type === 'entity.parse.failed') {
      res.status(400).json({ errors: [{ message: 'The request body is not valid JSON.', extensions: { code: 'BAD_USER_INPUT' } }] });
      return;
    }
    logger.error({ err, path: req.path }, 'unhandled http error');
    res.status(err.status ?? 500).json({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
  });

  return {
    app,
    httpServer,
    apollo,
    metrics,
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          const addr = httpServer.address() as { port: number };
          resolve(`http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${addr.port}`);
        });
      });
    },
    async stop() {
      await apollo.stop();
      if (httpServer.listening) await new Promise<void>((r) => httpServer.close(() => r()));
    },
  };
}
