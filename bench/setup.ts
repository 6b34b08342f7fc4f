import crypto from 'node:crypto';
import { Client } from 'pg';
import pino, { type Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../server/db/datasource';
import { startEmbedded } from '../server/db/embedded';
import { createDemoTokens, DemoTokens, seedDemo } from '../server/bootstrap';
import { createHub, Hub, HubLimits } from '../server/server';

/** /metrics needs a token; the bench reads SQL counts from it. */
export const BENCH_METRICS_TOKEN = 'bench-metrics-token-0123456789';
export const BENCH_METRICS_AUTH = { headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` } };

export interface BenchHub {
  engine: 'pglite' | 'postgres';
  url: string;
  dbUrl: string;
  poolSize: number;
  dataSource: DataSource;
  hub: Hub;
  tokens: DemoTokens;
  stop(): Promise<void>;
}

/** A fresh database for a bench: embedded PGlite, or a new database on the PostgreSQL server at adminUrl (dropped by stop). */
export async function openBenchDatabase(
  adminUrl: string | null,
): Promise<{ engine: BenchHub['engine']; url: string; poolSize: number; stop(): Promise<void> }> {
  if (!adminUrl) {
    const embedded = await startEmbedded(null);
    // PGlite is one session: a pool of one.
    return { engine: 'pglite', url: embedded.url, poolSize: 1, stop: () => embedded.stop() };
  }
  const name = `hnh_bench_${crypto.randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const u = new URL(adminUrl);
  u.pathname = '/' + name;
  return {
    engine: 'postgres',
    url: u.toString(),
    poolSize: 10,
    stop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/**
 * A hub with the demo data on PGlite, or on a fresh database of the PostgreSQL server at adminUrl. The demo data
 * is loaded as a REAL fixture unless `demo` says otherwise; `logger` sees the hub's request log.
 */
export async function startBenchHub(
  adminUrl: string | null,
  opts: { demo?: boolean; logger?: Logger } = {},
): Promise<BenchHub> {
  const db = await openBenchDatabase(adminUrl);
  const dataSource = createDataSource({
    url: db.url,
    poolSize: db.poolSize,
    preparedStatements: db.engine === 'postgres' && process.env.HUB_PREPARED_STATEMENTS !== '0',
  });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  // The benches import (GIAS, baselines): the demo data as a REAL fixture, as the test helpers load it.
  await seedDemo(dataSource, { asRealData: !opts.demo });
  const tokens = await createDemoTokens(dataSource);
  const hub = await benchHubOn(dataSource, {}, opts.logger);
  const url = await hub.listen(0);
  return {
    engine: db.engine,
    url,
    dbUrl: db.url,
    poolSize: db.poolSize,
    dataSource,
    hub,
    tokens,
    async stop() {
      await hub.stop();
      await dataSource.destroy();
      await db.stop();
    },
  };
}

/**
 * A hub on a bench database. A load test sends thousands of requests a second from one token: far past the real
 * limits (requests and query cost per token), by design; `limits` puts some back for the figures that measure them.
 */
export function benchHubOn(
  dataSource: DataSource,
  limits: Partial<HubLimits> = {},
  logger: Logger = pino({ level: 'silent' }),
): Promise<Hub> {
  return createHub({
    dataSource,
    config: {
      bodyLimitBytes: 20 * 1024 * 1024,
      oidc: null,
      rateLimitPerToken: 10_000_000,
      rateLimitPerAddress: 10_000_000,
      costBudgetPerToken: 0,
      maxConcurrentExpensivePerToken: 1_000_000,
      metricsToken: BENCH_METRICS_TOKEN,
      ...limits,
    },
    logger,
  });
}
