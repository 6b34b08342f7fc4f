import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { ConfigError } from '../config';

export interface EmbeddedDatabase {
  /** Connection string for the ordinary `pg` driver. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts PGlite persisted in `dataDir` (or in memory when null) and serves it over the Postgres wire
 * protocol on a loopback port, so the hub uses one code path (pg + TypeORM) for both engines.
 * PGlite is a single session: callers must use a pool of one connection.
 */
export async function startEmbedded(dataDir: string | null): Promise<EmbeddedDatabase> {
  if (dataDir) {
    const pgdata = path.join(dataDir, 'pgdata');
    try {
      fs.mkdirSync(pgdata, { recursive: true });
      fs.accessSync(pgdata, fs.constants.R_OK | fs.constants.W_OK);
    } catch (err) {
      throw new ConfigError(
        `Cannot use the data folder ${dataDir} (${(err as NodeJS.ErrnoException).code ?? String(err)}): set HUB_DATA_DIR to a folder this user can write, or fix its permissions.`,
      );
    }
  }
  let db: PGlite;
  try {
    db = await PGlite.create(dataDir ? path.join(dataDir, 'pgdata') : undefined);
  } catch (err) {
    throw new ConfigError(
      `The embedded database in ${dataDir} could not be opened (${(err as Error).message}). It may be damaged or from another PGlite version: move it aside or set HUB_DATA_DIR to an empty folder.`,
    );
  }
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 64 });
  await server.start();
  const conn = server.getServerConn();
  return {
    url: `postgres://postgres@${conn}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
