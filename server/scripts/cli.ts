import os from 'node:os';
import { Readable } from 'node:stream';
import pino from 'pino';
import { ConfigError, loadConfig } from '../config';
import { openDatabase, OpenDatabase } from '../db/open';
import { isLocked, readHolder } from '../db/folder-lock';
import { cliViewer } from '../modules/imports/command-line';
import { Args, COMMANDS, CommandContext, CommandOutput } from './local/commands';
import { readCredential } from './local/credential';

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

function print(o: CommandOutput): void {
  for (const l of o.err) process.stderr.write(l + '\n');
  for (const l of o.out) process.stdout.write(l + '\n');
  process.exitCode = o.exitCode;
}

/**
 * Runs one of COMMANDS. On PostgreSQL, or on an embedded folder no hub holds, it opens the database itself
 * (taking the folder's lock, so a hub started meanwhile refuses). When a hub owns the folder, the command
 * runs inside that hub through its local door with the folder's credential: never a second writer.
 */
export async function runCommand(
  name: string,
  args: Args,
  ctx: Partial<Pick<CommandContext, 'input' | 'onProgress'>> = {},
): Promise<void> {
  const input = ctx.input ?? (() => Readable.from([]));
  try {
    const config = loadConfig();
    if (!config.databaseUrl && (await isLocked(config.dataDir))) {
      const cred = readCredential(config.dataDir);
      const holder = readHolder(config.dataDir);
      if ('problem' in cred)
        throw new ConfigError(
          `A hub (PID ${holder ?? 'unknown'}) owns the data folder ${config.dataDir}, and ${cred.problem}.`,
        );
      let res: Response;
      try {
        res = await fetch(`${cred.url}/local/run/${name}`, {
          method: 'POST',
          headers: {
            authorization: `Local ${cred.secret}`,
            'x-hub-args': Buffer.from(JSON.stringify(args)).toString('base64url'),
            'x-hub-actor': process.env.HUB_ACTOR ?? os.userInfo().username,
            'content-type': 'application/octet-stream',
          },
          body: Readable.toWeb(input()) as ReadableStream,
          duplex: 'half',
        } as RequestInit);
      } catch (err) {
        throw new ConfigError(
          `A hub (PID ${holder ?? 'unknown'}) owns the data folder ${config.dataDir} but does not answer at ${cred.url} (${(err as Error).message}): wait for it to start, or stop it.`,
        );
      }
      const body = (await res.json().catch(() => null)) as CommandOutput | null;
      if (!body) throw new ConfigError(`The hub at ${cred.url} answered ${res.status} without a result.`);
      print(body);
      return;
    }
    await withDatabase(async ({ dataSource }) => {
      print(await COMMANDS[name]({ dataSource, viewer: cliViewer(), input, onProgress: ctx.onProgress }, args));
    });
  } catch (err) {
    process.exitCode = 1;
    const e = err as Error & { extensions?: { code?: string } };
    if (err instanceof ConfigError || e.extensions?.code) process.stderr.write(`high-needs-hub: ${e.message}\n`);
    else process.stderr.write(`high-needs-hub: ${e.stack ?? e}\n`);
  }
}
