import pino from 'pino';
import type { JWTVerifyGetKey } from 'jose';
import type { OidcConfig } from '../../server/config';
import { createHub, Hub } from '../../server/server';
import { createDemoTokens, DemoTokens } from '../../server/bootstrap';
import { startTestDatabase, TestDatabase } from './db';

export interface TestHub {
  url: string;
  db: TestDatabase;
  hub: Hub;
  tokens: DemoTokens;
  /** POST a GraphQL operation; returns the parsed body and status. */
  gql(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

/** A real hub (HTTP + Apollo + database with demo data) on a free port, for integration tests. */
export async function startTestHub(
  opts: { oidc?: OidcConfig; jwtKeys?: JWTVerifyGetKey; bodyLimitBytes?: number; db?: TestDatabase; compiledReads?: boolean } = {},
): Promise<TestHub> {
  const db = opts.db ?? (await startTestDatabase());
  const hub = await createHub({
    dataSource: db.dataSource,
    config: { bodyLimitBytes: opts.bodyLimitBytes ?? 5 * 1024 * 1024, oidc: opts.oidc ?? null, compiledReads: opts.compiledReads },
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    jwtKeys: opts.jwtKeys,
  });
  const url = await hub.listen(0);
  const tokens = await createDemoTokens(db.dataSource);
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
