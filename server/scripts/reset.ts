import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config';
import { startEmbedded } from '../db/embedded';
import { createDataSource } from '../db/datasource';
import { FolderLocked, isLocked, lockFolder, PID_FILE, readHolder } from '../db/folder-lock';
import { demoTokensFile } from '../bootstrap';
import { bootstrapLines, bootstrapRealHub } from '../modules/instance/instance';

const USAGE = `usage: npm run db:reset -- --empty
  Wipes the embedded database in the data folder (HUB_DATA_DIR, default ./.hub-data) and migrates an empty one,
  marked for real data of HUB_LA, with a new Finance bootstrap token. Stop the hub first. On PostgreSQL, create a
  fresh database instead and run npm run db:migrate against it.`;

/** What a hub's data folder holds; anything else means HUB_DATA_DIR points somewhere it should not. */
const HUB_ENTRIES = new Set(['pgdata', 'run', PID_FILE, 'demo-tokens.json', 'local-admin.json']);

async function main(): Promise<string[]> {
  const { values } = parseArgs({ options: { empty: { type: 'boolean', default: false } } });
  if (!values.empty) throw new ConfigError(USAGE);
  const config = loadConfig();
  if (config.databaseUrl)
    throw new ConfigError(
      'DATABASE_URL is set: db:reset wipes only the embedded database. On PostgreSQL create a fresh database, point DATABASE_URL at it and run `npm run db:migrate`.',
    );
  const dir = config.dataDir;
  if (fs.existsSync(dir)) {
    const strange = fs.readdirSync(dir).filter((e) => !HUB_ENTRIES.has(e) && !e.startsWith('pgdata.discarded-'));
    if (strange.length)
      throw new ConfigError(
        `${dir} does not look like a hub data folder (it holds ${strange.slice(0, 5).join(', ')}): nothing wiped. Check HUB_DATA_DIR.`,
      );
    if (await isLocked(dir))
      throw new ConfigError(
        `A hub (PID ${readHolder(dir) ?? 'unknown'}) is running on the data folder ${dir}: stop it first, then run npm run db:reset -- --empty again.`,
      );
    // Under the folder's lock: the old database is moved aside, so no hub can open it half-deleted.
    let lock;
    try {
      lock = await lockFolder(dir);
    } catch (err) {
      if (err instanceof FolderLocked) throw new ConfigError(err.message);
      throw err;
    }
    const discarded = path.join(dir, `pgdata.discarded-${Date.now()}`);
    try {
      if (fs.existsSync(path.join(dir, 'pgdata'))) fs.renameSync(path.join(dir, 'pgdata'), discarded);
      fs.rmSync(demoTokensFile(dir), { force: true });
    } finally {
      await lock.release();
    }
    fs.rmSync(discarded, { recursive: true, force: true });
  }
  const embedded = await startEmbedded(dir);
  const ds = createDataSource({ url: embedded.url, poolSize: 1 });
  try {
    await ds.initialize();
    const ran = await ds.runMigrations({ transaction: 'each' });
    const { token } = await bootstrapRealHub(ds, config.localAuthority);
    const la = config.localAuthority;
    return [
      `Wiped the embedded database in ${dir} and migrated an empty one (${ran.length} migrations) for LA ${la.code} ${la.name}.`,
      ...(token ? bootstrapLines(token) : []),
      '  Start the hub with: npm start (it stays empty: demo data never goes into a real hub)',
    ];
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await embedded.stop();
  }
}

main().then(
  (lines) => process.stdout.write(lines.join('\n') + '\n'),
  (err) => {
    process.exitCode = 1;
    if (err instanceof ConfigError) process.stderr.write(`high-needs-hub: ${err.message}\n`);
    else process.stderr.write(`high-needs-hub: ${(err as Error).stack ?? err}\n`);
  },
);
