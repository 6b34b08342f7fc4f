import pino from 'pino';
import type { JWTVerifyGetKey } from 'jose';
import type { OidcConfig } from '../../server/config';
import { createHub, Hub, HubLimits, HUB_LIMIT_KEYS } from '../../server/server';
import type { Clock } from '../../server/auth/tokens';
import { createDemoTokens, DemoTokens } from '../../server/bootstrap';
import { startTestDatabase, TestDatabase } from './db';

/** Test hubs guard /metrics with this token (as METRICS_TOKEN would); pass as fetch's init. */
export const TEST_METRICS_TOKEN = 'test-metrics-token-0123456789';
export const METRICS_AUTH = { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } };

export interface TestHub {
  url: string;
  db: TestDatabase;
  hub: Hub;
  tokens: DemoTokens;
  /** POST a GraphQL operation; returns the parsed body and status. */
  gql(
    query: string,
    variables?: Record<string, unknown>,
    token?: string | null,
  ): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

/** A real hub (HTTP + Apollo + database with demo data) on a free port, for integration tests. */
export async function startTestHub(
  opts: {
    oidc?: OidcConfig;
    jwtKeys?: JWTVerifyGetKey;
    bodyLimitBytes?: number;
    db?: TestDatabase;
    compiledReads?: boolean;
    fastReads?: boolean;
    clock?: Clock;
    /** The demo data as a REAL-mode fixture, for tests that import (a DEMO database refuses imports). */
    realData?: boolean;
  } & Partial<HubLimits> = {},
): Promise<TestHub> {
  const db = opts.db ?? (await startTestDatabase({ realData: opts.realData }));
  const hub = await createHub({
    dataSource: db.dataSource,
    config: {
      bodyLimitBytes: opts.bodyLimitBytes ?? 5 * 1024 * 1024,
      oidc: opts.oidc ?? null,
      compiledReads: opts.compiledReads,
      fastReads: opts.fastReads,
      // Tests send bursts from one address and one token: the limits under test are set per test.
      ...{
        rateLimitPerToken: 100000,
        rateLimitPerAddress: 100000,
        authFailuresPerAddress: 100000,
        costBudgetPerToken: 0,
        maxConcurrentExpensivePerToken: 1000,
        metricsToken: TEST_METRICS_TOKEN,
      },
      ...Object.fromEntries(Object.entries(opts).filter(([k]) => HUB_LIMIT_KEYS.includes(k as keyof HubLimits))),
    },
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    jwtKeys: opts.jwtKeys,
    clock: opts.clock,
  });
  const url = await hub.listen(0);
  // An empty database (seed: false) has no community to scope the demo Chair token to: no demo tokens then.
  const [community] = await db.dataSource.query(`SELECT 1 FROM community LIMIT 1`);
  const tokens = community ? await createDemoTokens(db.dataSource) : ({} as DemoTokens);
  return {
    url,
    db,
    hub,
    tokens,
    async gql(query, variables, token = tokens.FINANCE) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, body: await res.json() };
    },
    async stop() {
      await hub.stop();
      if (!opts.db) await db.stop();
    },
  };
}

/** A clock that moves only when a test says so. */
export function manualClock(start = Date.UTC(2026, 8, 1)): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}
