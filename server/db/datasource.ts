import 'reflect-metadata';
import { types, type ClientBase } from 'pg';
import { DataSource, type DataSourceOptions as OrmOptions } from 'typeorm';
import { DatabaseNotifications } from './notifications';
import { entities } from '../modules';
import { allMigrations } from '../../migrations';
import { SnakeNamingStrategy } from './naming';
import { CountingLogger } from './sql-counter';
import { allowPreparedStatements } from './prepared';

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
  /** May connections prepare the compiled reads' statements (db/prepared.ts)? Never on PGlite (one shared session). */
  preparedStatements?: boolean;
}

/** The channel the reference-data triggers notify (migration ReferenceDataNotify). */
export const REFERENCE_CHANNEL = 'hub_reference_data';

/** A DataSource with its notification listener, which lives and dies with it. */
export class HubDataSource extends DataSource {
  constructor(
    options: OrmOptions,
    readonly notifications: DatabaseNotifications,
  ) {
    super(options);
  }

  override async destroy(): Promise<void> {
    await this.notifications.stop();
    return super.destroy();
  }
}

export function createDataSource(opts: DataSourceOptions): HubDataSource {
  const notifications = new DatabaseNotifications({ connectionString: opts.url }, [REFERENCE_CHANNEL]);
  const ds = new HubDataSource(
    {
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
        // Every pool connection listens too, so a change this process commits is heard before its statement
        // returns (PostgreSQL sends a session its own notifications ahead of the commit's reply): the process
        // that made a change never reads its old value. Other processes hear it through their listener.
        // On PGlite a notification arrives on the pool connection that sent it (see DatabaseNotifications).
        onConnect: async (client: ClientBase) => {
          client.on('notification', (n) => notifications.deliverFromPool(n));
          await client.query(`LISTEN "${REFERENCE_CHANNEL}"`);
        },
      },
    },
    notifications,
  );
  allowPreparedStatements(ds, opts.preparedStatements ?? false);
  return ds;
}

/** The notifications of a DataSource made by createDataSource, or null for any other. */
export function notificationsOf(ds: DataSource): DatabaseNotifications | null {
  return ds instanceof HubDataSource ? ds.notifications : null;
}
