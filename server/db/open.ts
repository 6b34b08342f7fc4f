import type { DataSource } from 'typeorm';
import { ConfigError, type Config } from '../config';
import { createDataSource } from './datasource';
import { EmbeddedDatabase, startEmbedded } from './embedded';

export interface OpenDatabase {
  dataSource: DataSource;
  engine: 'pglite' | 'postgres';
  /** The embedded server when running on PGlite. */
  embedded: EmbeddedDatabase | null;
  close(): Promise<void>;
}

function describe(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'the configured server';
  }
}

/** Opens the configured database: PostgreSQL at DATABASE_URL, else PGlite in the data folder. */
export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'poolSize' | 'statementTimeoutMs'> &
    Partial<Pick<Config, 'preparedStatements'>>,
  logger?: ConstructorParameters<typeof import('./sql-counter').CountingLogger>[0],
  opts: { inMemory?: boolean } = {},
): Promise<OpenDatabase> {
  const embedded = config.databaseUrl ? null : await startEmbedded(opts.inMemory ? null : config.dataDir);
  const dataSource = createDataSource({
    url: config.databaseUrl ?? embedded!.url,
    // PGlite is one session: more than one connection would interleave transactions.
    poolSize: embedded ? 1 : config.poolSize,
    statementTimeoutMs: embedded ? undefined : config.statementTimeoutMs,
    preparedStatements: !embedded && (config.preparedStatements ?? true),
    logger,
  });
  try {
    await dataSource.initialize();
  } catch (err) {
    await embedded?.stop();
    const e = err as NodeJS.ErrnoException & { code?: string };
    const why = e.code ? `${e.code}: ${e.message}` : e.message;
    throw new ConfigError(
      `Cannot connect to PostgreSQL at ${describe(config.databaseUrl ?? '')} (${why}). Check DATABASE_URL (host, port, database, user, password) and that the server is running.`,
    );
  }
  return {
    dataSource,
    engine: embedded ? 'pglite' : 'postgres',
    embedded,
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded?.stop();
    },
  };
}
