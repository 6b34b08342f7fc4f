import './compile-cache';
import 'reflect-metadata';
import pino from 'pino';
import { ConfigError, loadConfig } from './config';
import { openDatabase, OpenDatabase } from './db/open';
import { createHub, Hub } from './server';
import { serverVersionProblem } from './db/version';
import { migrationsPending } from './db/migrations';
import { createDemoTokens, hasData, readDemoTokens, seedDemo, writeDemoTokens } from './bootstrap';
import { newSecret, removeCredential, writeCredential } from './scripts/local/credential';
import { setLocalAuthority } from './common/local-authority';
import { bootstrapLines, bootstrapRealHub, checkHubInstance } from './modules/instance/instance';
import { HubMode } from './modules/instance/hub-instance.entity';

async function main() {
  const started = Date.now();
  const config = loadConfig();
  const logger = pino({ level: config.logLevel, base: { service: 'high-needs-hub' } });
  setLocalAuthority(config.localAuthority);
  let bootstrapToken: string | null = null;
  let db: OpenDatabase | null = null;
  let hub: Hub | null = null;
  try {
    db = await openDatabase(config, logger);
    const ds = db.dataSource;
    if (db.engine === 'pglite') {
      // The embedded database is the hub's own: it migrates itself and, when empty, loads the demo data.
      const ran = (await migrationsPending(ds)) ? await ds.runMigrations({ transaction: 'each' }) : [];
      if (ran.length) logger.info({ migrations: ran.map((m) => m.name) }, 'migrations applied');
      const instance = await checkHubInstance(ds, config.localAuthority);
      // Demo data goes only into a database that holds nothing yet; a real hub (HUB_DEMO=0) starts empty on purpose.
      if (config.seedDemo && !instance && !(await hasData(ds))) {
        const { schools, ms } = await seedDemo(ds);
        logger.info({ schools, ms }, 'demo data loaded');
        writeDemoTokens(config.dataDir, await createDemoTokens(ds));
      } else if (instance?.mode !== HubMode.DEMO) {
        bootstrapToken = (await bootstrapRealHub(ds, config.localAuthority)).token;
      }
    } else {
      const tooOld = await serverVersionProblem(ds);
      if (tooOld) throw new ConfigError(tooOld);
      if (await migrationsPending(ds)) {
        throw new ConfigError(
          'The database at DATABASE_URL has pending migrations: run `npm run db:migrate` first (and `npm run db:seed` for demo data).',
        );
      }
      await checkHubInstance(ds, config.localAuthority);
    }
    // The command line reaches a hub that owns its embedded folder through a local door, never a second open.
    const localAdmin = db.engine === 'pglite' ? { secret: newSecret() } : undefined;
    // Embedded PGlite is one process: its rate limits live in memory; PostgreSQL shares them between processes.
    hub = await createHub({
      dataSource: ds,
      config: { ...config, rateLimitStore: db.engine === 'pglite' ? 'memory' : 'postgres' },
      logger,
      localAdmin,
    });
    const url = await hub.listen(config.port, config.host);
    if (localAdmin)
      writeCredential(config.dataDir, {
        url: url.replace('0.0.0.0', '127.0.0.1'),
        pid: process.pid,
        secret: localAdmin.secret,
      });
    const shownUrl = url.replace('127.0.0.1', 'localhost');
    const lines = [
      `High Needs Hub ready in ${((Date.now() - started) / 1000).toFixed(1)} s on ${db.engine === 'pglite' ? `embedded PGlite (${config.dataDir})` : 'PostgreSQL'}`,
      `  GraphQL and explorer: ${shownUrl}/graphql`,
      `  Health: ${shownUrl}/healthz   Metrics: ${hub.metricsUrl() ?? (config.metricsToken ? `${shownUrl}/metrics (with METRICS_TOKEN)` : 'off (METRICS_PORT=0)')}`,
    ];
    const instance = await checkHubInstance(ds, config.localAuthority);
    lines.push(
      `  Local authority: ${config.localAuthority.code} ${config.localAuthority.name} (${instance?.mode === HubMode.DEMO ? 'demo data' : instance ? 'real data' : 'empty'})`,
    );
    if (bootstrapToken) lines.push(...bootstrapLines(bootstrapToken));
    const tokens = db.engine === 'pglite' ? readDemoTokens(config.dataDir) : null;
    if (tokens) {
      lines.push(`  Demo tokens (also in ${config.dataDir}/demo-tokens.json):`);
      for (const role of ['FINANCE', 'SUBGROUP', 'CHAIR', 'ANALYST'] as const) {
        lines.push(
          `    ${role.padEnd(8)} ${tokens[role]}${role === 'CHAIR' ? `  (community ${tokens.chairCommunity})` : ''}`,
        );
      }
    }
    process.stdout.write(lines.join('\n') + '\n');
  } catch (err) {
    await hub?.stop().catch(() => undefined);
    await db?.close().catch(() => undefined);
    if (err instanceof ConfigError) {
      process.stderr.write(`high-needs-hub: ${err.message}\n`);
      process.exit(1);
    }
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      process.stderr.write(`high-needs-hub: port ${config.port} is in use: set PORT to a free port.\n`);
      process.exit(1);
    }
    throw err;
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    if (db?.engine === 'pglite') removeCredential(config.dataDir);
    await hub?.stop();
    logger.info('http closed');
    await db?.close();
    logger.info('database closed');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`high-needs-hub: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`high-needs-hub: failed to start: ${err?.stack ?? err}\n`);
  process.exit(1);
});
