#!/usr/bin/env node
// Serves the built add-in over HTTPS and proxies /graphql to the hub.
//   node addin/serve.mjs [--build] [--with-hub] [--port 3000]
//   HUB_URL (default http://localhost:4000), ADDIN_HOST (for --build), ADDIN_PORT
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (f) => args.includes(f);
const value = (f) => (args.includes(f) ? args[args.indexOf(f) + 1] : undefined);

if (flag('--build')) {
  const r = spawnSync(process.execPath, [join(here, 'build.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

let hub;
if (flag('--with-hub')) {
  // The hub's own start script; the add-in server proxies to it at HUB_URL.
  hub = spawn('npm', ['run', '-s', 'start'], { cwd: join(here, '..'), stdio: 'inherit', env: process.env });
  hub.on('exit', (code) => console.error(`hub exited (${code})`));
}

const { startAddinServer } = require('./tools/server.cjs');
const port = value('--port') !== undefined ? Number(value('--port')) : undefined;
const srv = await startAddinServer({ port, host: value('--host') });
console.log(`ADDIN_URL=${srv.url}`);
console.log(`add-in served at ${srv.url}/taskpane.html, /graphql → ${srv.hubUrl}; manifest: addin/dist/manifest.xml`);
const stop = async () => {
  await srv.close();
  hub?.kill('SIGTERM');
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
