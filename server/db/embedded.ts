import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { ConfigError } from '../config';
import { FolderLock, FolderLocked, lockFolder } from './folder-lock';

export interface EmbeddedDatabase {
  /** Connection string for the ordinary `pg` driver (a Unix socket: host is its directory). */
  url: string;
  /** The directory holding the socket `.s.PGSQL.5432`, readable by this user only. */
  socketDir: string;
  /** True when the data folder was empty before this start. */
  fresh: boolean;
  stop(): Promise<void>;
}

/**
 * PGlite's WebAssembly runs on V8's baseline compiler (Liftoff) only. Node 24's optimising tier (Turboshaft) takes
 * 430 MB of memory for a few hundred milliseconds to compile one of PostgreSQL's largest functions, on a
 * background thread, whenever that function becomes hot: at start-up, or in the middle of an import (measured with
 * strace: two zone segments of 147 and 294 MB; tests/integration/upload-memory.test.ts then saw the hub's peak
 * jump by 300–400 MB). On two cores it is also faster: that compile no longer takes the other core (README,
 * Benchmark figures). Set before the first PGlite module is compiled; it applies to every WebAssembly module of the
 * process (glpk's too).
 */
function wasmBaselineOnly(): void {
  // Implications of a flag are not applied when it is set at run time: each is named. Setting them again is harmless.
  for (const flag of ['--liftoff-only', '--no-wasm-tier-up', '--no-wasm-dynamic-tiering']) v8.setFlagsFromString(flag);
}

/** pg looks for `<host>/.s.PGSQL.<port>` when host is a directory. */
const SOCKET_PORT = 5432;

/**
 * Starts PGlite persisted in `dataDir` (or in memory when null) and serves it over the Postgres wire protocol,
 * so the hub uses one code path (pg + TypeORM) for both engines. The server listens on a Unix socket in a
 * directory only this user can enter (`<dataDir>/run`, mode 0700), never on a TCP port: PGlite has no
 * passwords, and whoever reaches it is a superuser who could turn off the audit trigger. The data folder is
 * locked first (folder-lock.ts), so one process owns it. PGlite is a single session: use a pool of one.
 */
export async function startEmbedded(dataDir: string | null): Promise<EmbeddedDatabase> {
  let fresh = true;
  let lock: FolderLock | null = null;
  let socketDir: string;
  if (dataDir) {
    const pgdata = path.join(dataDir, 'pgdata');
    try {
      fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      fs.mkdirSync(pgdata, { recursive: true, mode: 0o700 });
      fs.accessSync(pgdata, fs.constants.R_OK | fs.constants.W_OK);
    } catch (err) {
      throw new ConfigError(
        `Cannot use the data folder ${dataDir} (${(err as NodeJS.ErrnoException).code ?? String(err)}): set HUB_DATA_DIR to a folder this user can write, or fix its permissions.`,
      );
    }
    try {
      lock = await lockFolder(dataDir);
    } catch (err) {
      if (err instanceof FolderLocked) throw new ConfigError(err.message);
      throw err;
    }
    fresh = !fs.existsSync(path.join(pgdata, 'PG_VERSION'));
    socketDir = path.join(dataDir, 'run');
    fs.mkdirSync(socketDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(socketDir, 0o700);
    // A socket file left by a crashed hub: we hold the folder's lock, so nobody is listening on it.
    fs.rmSync(path.join(socketDir, `.s.PGSQL.${SOCKET_PORT}`), { force: true });
  } else {
    socketDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hnh-pglite-'));
    fs.chmodSync(socketDir, 0o700);
  }
  let db: PGlite;
  wasmBaselineOnly();
  try {
    db = await PGlite.create(dataDir ? path.join(dataDir, 'pgdata') : undefined);
  } catch (err) {
    await lock?.release();
    throw new ConfigError(
      `The embedded database in ${dataDir} could not be opened (${(err as Error).message}). It may be damaged or from another PGlite version: move it aside or set HUB_DATA_DIR to an empty folder.`,
    );
  }
  const socketPath = path.join(socketDir, `.s.PGSQL.${SOCKET_PORT}`);
  const server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: 64 });
  await server.start();
  fs.chmodSync(socketPath, 0o600);
  return {
    url: `postgres://postgres@localhost/postgres?host=${encodeURIComponent(socketDir)}&port=${SOCKET_PORT}`,
    socketDir,
    fresh,
    async stop() {
      await server.stop();
      await db.close();
      if (!dataDir) fs.rmSync(socketDir, { recursive: true, force: true });
      await lock?.release();
    },
  };
}
