import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
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

/** pg looks for `<host>/.s.PGSQL.<port>` when host is a directory. */
const SOCKET_PORT = 5432;

/**
 * Starts PGlite persisted in `dataDir` (or in memory when null) and serves it over the Postgres wire protocol,
 * so the hub uses one code path (pg + TypeORM) for both engines. The server listens on a Unix socket in a
 * directory only this user can enter (`<dataDir>/run`, mode 0700), never on a TCP port: PGlite has no
 * passwords, and whoever reaches it is a superuser who could turn off the audit trigger. The data folder is
 * locked first (folder-lock.ts), so one process owns it. PGlite is a single session: use a pool of one.
 *
 * PGlite and its socket server run on a worker thread of their own: the database's work (PostgreSQL compiled to
 * WebAssembly) takes the machine's other core instead of the hub's event loop, and at start it boots while the
 * hub's modules load (main.ts starts it first, and waits for `spawned`: the folder's lock is taken and the thread
 * is running).
 */
export async function startEmbedded(
  dataDir: string | null,
  opts: { spawned?: () => void } = {},
): Promise<EmbeddedDatabase> {
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
  const socketPath = path.join(socketDir, `.s.PGSQL.${SOCKET_PORT}`);
  let worker: Worker;
  try {
    const starting = startWorker(dataDir ? path.join(dataDir, 'pgdata') : null, socketPath);
    opts.spawned?.();
    worker = await starting;
  } catch (err) {
    await lock?.release();
    if (!dataDir) fs.rmSync(socketDir, { recursive: true, force: true });
    throw new ConfigError(
      dataDir
        ? `The embedded database in ${dataDir} could not be opened (${(err as Error).message}). It may be damaged or from another PGlite version: move it aside or set HUB_DATA_DIR to an empty folder.`
        : `The embedded database could not be started (${(err as Error).message}).`,
    );
  }
  fs.chmodSync(socketPath, 0o600);
  return {
    url: `postgres://postgres@localhost/postgres?host=${encodeURIComponent(socketDir)}&port=${SOCKET_PORT}`,
    socketDir,
    fresh,
    async stop() {
      await stopWorker(worker);
      if (!dataDir) fs.rmSync(socketDir, { recursive: true, force: true });
      await lock?.release();
    },
  };
}

/**
 * The worker's code: PGlite on `pgdata` (in memory when null), served on `socketPath`. It says 'ready' (or 'failed'
 * with the reason), and on 'stop' closes the server and the database, says 'stopped' and ends. The packages are
 * required by the paths this thread resolved, so the worker finds them wherever the hub was started from.
 */
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.pglite);
const { PGLiteSocketServer } = require(workerData.socket);
(async () => {
  let db, server;
  try {
    db = await PGlite.create(workerData.pgdata ?? undefined);
    server = new PGLiteSocketServer({ db, path: workerData.socketPath, maxConnections: 64 });
    await server.start();
  } catch (err) {
    parentPort.postMessage({ type: 'failed', message: String((err && err.message) || err) });
    return;
  }
  parentPort.on('message', async (m) => {
    if (m !== 'stop') return;
    try {
      await server.stop();
      await db.close();
    } finally {
      parentPort.postMessage({ type: 'stopped' });
      parentPort.close();
    }
  });
  parentPort.postMessage({ type: 'ready' });
})();
`;

type WorkerMessage = { type: 'ready' } | { type: 'stopped' } | { type: 'failed'; message: string };

/** Starts the database's worker; resolves once it serves on `socketPath`, rejects with why it could not. */
function startWorker(pgdata: string | null, socketPath: string): Promise<Worker> {
  const worker = new Worker(WORKER_CODE, {
    eval: true,
    workerData: {
      pglite: require.resolve('@electric-sql/pglite'),
      socket: require.resolve('@electric-sql/pglite-socket'),
      pgdata,
      socketPath,
    },
  });
  return new Promise((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`the database thread exited with code ${code}`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (m: WorkerMessage) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      if (m.type === 'ready') {
        // A database thread that dies while the hub runs takes the hub with it, as it would in one thread.
        worker.on('error', (err) => {
          process.stderr.write(`high-needs-hub: the embedded database failed: ${err.stack ?? err}\n`);
          process.exit(1);
        });
        resolve(worker);
      } else {
        void worker.terminate();
        reject(new Error(m.type === 'failed' ? m.message : 'the database thread stopped at start'));
      }
    });
  });
}

/** How long the database may take to close before its thread is ended regardless. */
const STOP_TIMEOUT_MS = 15_000;

/**
 * Closes the server and the database on their thread (PGlite writes its last checkpoint), then ends the thread; at
 * once when it has already ended, and regardless after STOP_TIMEOUT_MS.
 */
async function stopWorker(worker: Worker): Promise<void> {
  if (worker.threadId === -1) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => void worker.terminate(), STOP_TIMEOUT_MS);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    worker.once('message', () => void worker.terminate());
    worker.postMessage('stop');
  });
}
