import 'reflect-metadata';
import { types } from 'pg';
import { DataSource } from 'typeorm';
import { entities } from '../modules';
import { allMigrations } from '../../migrations';
import { SnakeNamingStrategy } from './naming';
import { CountingLogger } from './sql-counter';

// Dates stay 'YYYY-MM-DD' strings (no time-zone shifts); bigint counts become numbers (counts here are small);
// numeric stays a string (exact money).
types.setTypeParser(1082, (v: string) => v);
types.setTypeParser(20, (v: string) => Number(v));

export interface DataSourceOptions {
  url: string;
  /** Pool size: always 1 for PGlite, which is a single session. */
  poolSize: number;
  statementTimeoutMs?: number;
  logger?: ConstructorParameters<typeof CountingLogger>[0];
  applicationName?: string;
  /** How long a request waits for a pooled connection before SERVICE_UNAVAILABLE (pg's default waits for ever). */
  connectionTimeoutMs?: number;
}

export function createDataSource(opts: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: opts.url,
    entities,
    migrations: allMigrations(),
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    namingStrategy: new SnakeNamingStrategy(),
    synchronize: false,
    // gen_random_uuid() is built into PostgreSQL 13+ and PGlite; no extension to install.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    logger: new CountingLogger(opts.logger),
    maxQueryExecutionTime: 2000,
    poolSize: opts.poolSize,
    extra: {
      max: opts.poolSize,
      application_name: opts.applicationName ?? 'high-needs-hub',
      statement_timeout: opts.statementTimeoutMs,
      connectionTimeoutMillis: opts.connectionTimeoutMs ?? 10000,
    },
  });
}
