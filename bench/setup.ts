import crypto from 'node:crypto';
import { Client } from 'pg';
import pino from 'pino';
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

/** A hub with the demo data on PGlite, or on a fresh database of the PostgreSQL server at adminUrl. */
export async function startBenchHub(adminUrl: string | null): Promise<BenchHub> {
  let dbUrl: string;
  let cleanup: () => Promise<void>;
  if (adminUrl) {
    const name = `hnh_bench_${crypto.randomBytes(4).toString('hex')}`;
    const c = new Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`CREATE DATABASE ${name}`);
    await c.end();
    const u = new URL(adminUrl);
    u.pathname = '/' + name;
    dbUrl = u.toString();
    cleanup = async () => {
      const d = new Client({ connectionString: adminUrl });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await d.end();
    };
  } else {
    const embedded = await startEmbedded(null);
    dbUrl = embedded.url;
    cleanup = () => embedded.stop();
  }
  const poolSize = adminUrl ? 10 : 1;
  const dataSource = createDataSource({ url: dbUrl, poolSize });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  // The benches import (GIAS, baselines): the demo data as a REAL fixture, as the test helpers load it.
  await seedDemo(dataSource, { asRealData: true });
  const tokens = await createDemoTokens(dataSource);
  const hub = await benchHubOn(dataSource);
  const url = await hub.listen(0);
  return {
    engine: adminUrl ? 'postgres' : 'pglite',
    url,
    dbUrl,
    poolSize,
    dataSource,
    hub,
    tokens,
    async stop() {
      await hub.stop();
      await dataSource.destroy();
      await cleanup();
    },
  };
}

/**
 * A hub on a bench database. A load test sends thousands of requests a second from one token: far past the real
 * limits (requests and query cost per token), by design; `limits` puts some back for the figures that measure them.
 */
export function benchHubOn(dataSource: DataSource, limits: Partial<HubLimits> = {}): Promise<Hub> {
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
    logger: pino({ level: 'silent' }),
  });
}
