import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * One owner of an embedded data folder. PGlite is a single Postgres session with no lock of its own: two
 * processes on one folder each see only their own writes and corrupt the files. The lock is an abstract Unix
 * socket named after the folder's real path (Linux): the kernel lets one process bind it and frees it when that
 * process dies, even by kill -9, so no stale lock survives a crash and two starters cannot both win. `hub.pid`
 * beside the data says who holds it. Elsewhere (macOS) the lock is `hub.pid` itself with a liveness check.
 */
export interface FolderLock {
  /** The PID written in the folder for others to see. */
  pid: number;
  release(): Promise<void>;
}

export const PID_FILE = 'hub.pid';

export class FolderLocked extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: number | null,
  ) {
    super(
      `The data folder ${dataDir} is in use by another hub (PID ${holder ?? 'unknown'}). Stop it first, or run commands through it ` +
        `(npm run import/token:*/db:* reach the running hub by themselves), or set HUB_DATA_DIR to another folder.`,
    );
  }
}

function lockName(dataDir: string): string {
  const real = fs.realpathSync(dataDir);
  return `\0high-needs-hub:${crypto.createHash('sha256').update(real).digest('hex').slice(0, 32)}`;
}

/** The PID in the folder's pid file, or null. */
export function readHolder(dataDir: string): number | null {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, PID_FILE), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Is the folder held by a live process (another one, or this one)? */
export async function isLocked(dataDir: string): Promise<boolean> {
  if (!fs.existsSync(dataDir)) return false;
  if (process.platform !== 'linux') {
    const pid = readHolder(dataDir);
    return pid !== null && alive(pid);
  }
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(true));
    probe.listen(lockName(dataDir), () => probe.close(() => resolve(false)));
  });
}

/** Takes the folder's lock or throws FolderLocked naming the process that holds it. */
export async function lockFolder(dataDir: string): Promise<FolderLock> {
  const pidFile = path.join(dataDir, PID_FILE);
  const writePid = () => fs.writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
  if (process.platform !== 'linux') {
    const holder = readHolder(dataDir);
    if (holder !== null && holder !== process.pid && alive(holder)) throw new FolderLocked(dataDir, holder);
    writePid();
    return { pid: process.pid, release: async () => void fs.rmSync(pidFile, { force: true }) };
  }
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new FolderLocked(dataDir, readHolder(dataDir)) : err),
    );
    server.listen(lockName(dataDir), () => resolve());
  });
  // The lock must never keep a process alive on its own.
  server.unref();
  writePid();
  return {
    pid: process.pid,
    async release() {
      if (readHolder(dataDir) === process.pid) fs.rmSync(pidFile, { force: true });
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
