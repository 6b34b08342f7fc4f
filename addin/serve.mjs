#!/usr/bin/env node
// Serves the built add-in over HTTPS and proxies /graphql to the hub.
//   node addin/serve.mjs [--build] [--with-hub] [--port 3000] [--host 127.0.0.1]
//   HUB_URL (default http://localhost:4000), ADDIN_HOST (for --build), ADDIN_PORT
//   --with-hub compiles the hub (tsc -p tsconfig.build.json), starts `node dist/server/main.js` on HUB_URL's
//   port (its own env: HUB_DATA_DIR, DATABASE_URL, …) and waits until it answers before serving the pane.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const args = process.argv.slice(2);
const flag = (f) => args.includes(f);
const value = (f) => (args.includes(f) ? args[args.indexOf(f) + 1] : undefined);

function fail(message) {
  console.error(`addin: ${message}`);
  process.exit(1);
}

if (flag('--build')) {
  const r = spawnSync(process.execPath, [join(here, 'build.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const hubUrl = (process.env.HUB_URL || 'http://localhost:4000').replace(/\/+$/, '');
let hub;
let stopping = false;

async function startHub() {
  // Build and run the hub directly (not through `npm start`): the add-in server then owns the hub process
  // and can stop it, instead of orphaning the node child of an npm/sh chain.
  const tsc = spawnSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')],
    { cwd: root, stdio: 'inherit' },
  );
  if (tsc.status !== 0) fail('the hub does not compile (npx tsc -p tsconfig.build.json); fix that first');
  const port = new URL(hubUrl).port || (hubUrl.startsWith('https:') ? '443' : '80');
  hub = spawn(process.execPath, [join(root, 'dist/server/main.js')], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, PORT: process.env.PORT || port },
  });
  const exited = new Promise((resolve) => hub.once('exit', resolve));
  hub.once('exit', (code, signal) => {
    if (!stopping) {
      console.error(`addin: the hub exited (${signal ?? code}); the pane's /graphql now answers "Hub unreachable".`);
    }
  });
  // Ready when /healthz answers (first start loads the demo data: allow a minute or two).
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const r = await Promise.race([
      fetch(`${hubUrl}/healthz`).then(
        (res) => res.status,
        () => 0,
      ),
      exited.then(() => -1),
    ]);
    if (r === -1)
      fail(
        `the hub exited before it was ready (see its message above; is port ${port} in use? set HUB_URL=http://localhost:<free port>)`,
      );
    if (r > 0 && r < 500) return;
    await new Promise((res) => setTimeout(res, 300));
  }
  hub.kill('SIGTERM');
  fail(`the hub did not answer at ${hubUrl}/healthz within 3 minutes`);
}

if (flag('--with-hub')) await startHub();

const stop = async (code = 0) => {
  if (stopping) return;
  stopping = true;
  await srv?.close();
  if (hub && hub.exitCode === null) {
    await new Promise((r) => {
      hub.once('exit', r);
      hub.kill('SIGTERM');
      setTimeout(() => hub.kill('SIGKILL'), 10_000).unref();
    });
  }
  process.exit(code);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

const { startAddinServer } = require('./tools/server.cjs');
const port = value('--port') !== undefined ? Number(value('--port')) : undefined;
let srv;
try {
  srv = await startAddinServer({ port, host: value('--host'), hubUrl });
} catch (e) {
  console.error(
    `addin: cannot serve the add-in: ${e.code === 'EADDRINUSE' ? `port ${e.port} is in use (set ADDIN_PORT or --port)` : e.message}`,
  );
  await stop(1);
}
console.log(`ADDIN_URL=${srv.url}`);
console.log(`add-in served at ${srv.url}/taskpane.html, /graphql → ${srv.hubUrl}; manifest: addin/dist/manifest.xml`);
