import pino from 'pino';
import { ConfigError, loadConfig } from '../config';
import { openDatabase, OpenDatabase } from '../db/open';

/** Runs a command-line task against the configured database, with one-line errors for people. */
export async function withDatabase(task: (db: OpenDatabase) => Promise<void>): Promise<void> {
  let db: OpenDatabase | null = null;
  try {
    const config = loadConfig();
    db = await openDatabase(config, pino({ level: 'warn' }));
    await task(db);
  } catch (err) {
    process.exitCode = 1;
    const e = err as Error & { extensions?: { code?: string } };
    if (err instanceof ConfigError || e.extensions?.code) process.stderr.write(`high-needs-hub: ${e.message}\n`);
    else process.stderr.write(`high-needs-hub: ${e.stack ?? e}\n`);
  } finally {
    await db?.close().catch(() => undefined);
  }
}
