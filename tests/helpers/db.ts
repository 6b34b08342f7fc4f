import crypto from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../server/db/datasource';
import { startEmbedded } from '../../server/db/embedded';
import { createDemoTokens, seedDemo, writeDemoTokens } from '../../server/bootstrap';

export interface TestDatabase {
  engine: 'pglite' | 'postgres';
  url: string;
  dataSource: DataSource;
  /** Opens another, independent DataSource on the same database (a second hub process, say). */
  connectAnother(poolSize?: number): Promise<DataSource>;
  /** Makes the database unreachable, as a crashed or partitioned server would be. */
  outage(): Promise<void>;
  stop(): Promise<void>;
}

export const usingPostgres = () => Boolean(process.env.TEST_DATABASE_URL);

/**
 * A migrated database with the demo data for one test file (marked DEMO, so imports are refused; with
 * `realData` the same data marked REAL, the fixture for tests that import): an in-memory PGlite by default, or a fresh
 * database on the PostgreSQL server at TEST_DATABASE_URL, dropped at the end.
 */
export async function startTestDatabase(
  opts: { seed?: boolean; realData?: boolean; poolSize?: number; connectionTimeoutMs?: number } = {},
): Promise<TestDatabase> {
  const seed = opts.seed ?? true;
  const admin = process.env.TEST_DATABASE_URL;
  let url: string;
  let cleanup: () => Promise<void>;
  let poolSize: number;
  let engine: TestDatabase['engine'];
  let outage: () => Promise<void>;
  if (admin) {
    engine = 'postgres';
    const name = `hnh_test_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
    const client = new Client({ connectionString: admin });
    await client.connect();
    await client.query(`CREATE DATABASE ${name}`);
    await client.end();
    const u = new URL(admin);
    u.pathname = '/' + name;
    url = u.toString();
    poolSize = opts.poolSize ?? 10;
    const adminQuery = async (sql: string, params: unknown[] = []) => {
      const c = new Client({ connectionString: admin });
      await c.connect();
      await c.query(sql, params);
      await c.end();
    };
    outage = async () => {
      await adminQuery(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await adminQuery(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [name]);
    };
    cleanup = () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } else {
    engine = 'pglite';
    const embedded = await startEmbedded(null);
    url = embedded.url;
    poolSize = 1;
    let stopped = false;
    const stopOnce = async () => {
      if (!stopped) await embedded.stop();
      stopped = true;
    };
    outage = stopOnce;
    cleanup = stopOnce;
  }
  const others: DataSource[] = [];
  const dataSource = createDataSource({
    url,
    poolSize,
    statementTimeoutMs: engine === 'postgres' ? 30000 : undefined,
    connectionTimeoutMs: opts.connectionTimeoutMs,
    preparedStatements: engine === 'postgres',
  });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  if (seed) await seedDemo(dataSource, { asRealData: opts.realData });
  return {
    engine,
    url,
    dataSource,
    async connectAnother(size = poolSize) {
      const ds = createDataSource({
        url,
        poolSize: engine === 'pglite' ? 1 : size,
        applicationName: 'high-needs-hub-2',
        preparedStatements: engine === 'postgres',
      });
      await ds.initialize();
      others.push(ds);
      return ds;
    },
    outage: () => outage(),
    async stop() {
      for (const ds of others) if (ds.isInitialized) await ds.destroy().catch(() => undefined);
      if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
      await cleanup();
    },
  };
}

/**
 * An embedded data folder holding the demo data as a REAL-mode fixture (with demo-tokens.json), for tests that
 * run the built hub on a folder and import into it. Test helpers only: `npm start` never makes one.
 */
export async function prepareRealFixtureFolder(dataDir: string): Promise<void> {
  const embedded = await startEmbedded(dataDir);
  const ds = createDataSource({ url: embedded.url, poolSize: 1 });
  try {
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    await seedDemo(ds, { asRealData: true });
    writeDemoTokens(dataDir, await createDemoTokens(ds));
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await embedded.stop();
  }
}
