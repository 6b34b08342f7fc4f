#!/usr/bin/env node
// The add-in bench against the REAL hub.
//   node addin/bench.mjs            builds the hub if dist/server/main.js is missing, starts it on a free port
//                                   with a temporary HUB_DATA_DIR, prints one JSON line per figure, stops it
//   node addin/bench.mjs --build    rebuilds the hub first (npx tsc -p tsconfig.build.json)
//   HUB_URL=… HUB_TOKEN=<FINANCE token> node addin/bench.mjs    measures a hub that is already running
// From the lead's bench (dist/bench/run.js → dist/bench/addin.js): `await benchAddin()` → a flat record.
import { build } from 'esbuild';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

/** Compiles the hub (tsconfig.build.json → dist/) when asked or when there is no build yet. */
export function buildHub(force = false) {
  if (!force && existsSync(join(root, 'dist/server/main.js'))) return;
  const r = spawnSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')],
    { cwd: root, stdio: 'inherit' },
  );
  if (r.status !== 0) throw new Error('hub build failed: npx tsc -p tsconfig.build.json');
}

/**
 * Starts `node dist/server/main.js` on PORT=0 with an empty temporary HUB_DATA_DIR (embedded PGlite, demo
 * data), waits for its ready banner, and reads the demo tokens it writes to <HUB_DATA_DIR>/demo-tokens.json.
 */
export async function startRealHub({ timeoutMs = 180_000 } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'hnh-addin-bench-'));
  const child = spawn(process.execPath, [join(root, 'dist/server/main.js')], {
    cwd: root,
    env: {
      ...process.env,
      HUB_DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: '',
      LOG_LEVEL: 'warn',
      HUB_DEMO: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const started = Date.now();
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`hub did not start within ${timeoutMs / 1000} s\n${out}${err}`)),
      timeoutMs,
    );
    child.stdout.on('data', (d) => {
      out += d;
      const m = /(http:\/\/(?:localhost|127\.0\.0\.1):\d+)\/graphql/.exec(out);
      // The banner ends with the demo tokens; by then demo-tokens.json is written.
      if (m && /ANALYST/.test(out)) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited with ${code} before it was ready\n${out}${err}`));
    });
  });
  const tokens = JSON.parse(readFileSync(join(dataDir, 'demo-tokens.json'), 'utf8'));
  return {
    url,
    tokens,
    startMs: Date.now() - started,
    async stop() {
      if (child.exitCode === null) {
        await new Promise((r) => {
          const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => {
            clearTimeout(kill);
            r();
          });
          child.kill('SIGTERM');
        });
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Bundles addin/src/dev/bench.ts and runs it against hubUrl/token; returns its JSON lines. */
async function runBench(env) {
  const outDir = join(root, 'tests/artifacts/addin');
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'bench.cjs');
  await build({
    entryPoints: [join(here, 'src/dev/bench.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    logLevel: 'warning',
    external: ['graphql'],
  });
  const child = spawn(process.execPath, [outfile], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`add-in bench failed (exit ${code})\n${out}`);
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

/**
 * Runs the add-in bench against a real hub (HUB_URL + HUB_TOKEN, or one started here) and returns the
 * figures as one flat record (print: true also prints the JSON lines).
 */
export async function benchAddin({ build: rebuild = false, print = false } = {}) {
  let hub = null;
  let env;
  if (process.env.HUB_URL && process.env.HUB_TOKEN) {
    env = { HUB_URL: process.env.HUB_URL, HUB_TOKEN: process.env.HUB_TOKEN };
  } else {
    buildHub(rebuild);
    hub = await startRealHub();
    env = { HUB_URL: hub.url, HUB_TOKEN: hub.tokens.FINANCE };
  }
  try {
    const lines = await runBench(env);
    if (hub)
      lines.unshift({
        bench: 'addin.hub',
        url: hub.url,
        startMs: hub.startMs,
        dataDir: 'temporary (deleted after the run)',
      });
    if (print) for (const l of lines) console.log(JSON.stringify(l));
    const by = Object.fromEntries(lines.map((l) => [l.bench, l]));
    const f = by['addin.functions'] ?? {};
    const sc = by['addin.functions.scenario'] ?? {};
    const real = by['addin.pull.real'] ?? {};
    const pull = by['addin.pull'] ?? {};
    return {
      against: hub ? 'real hub (node dist/server/main.js, PGlite, demo data)' : `hub at ${env.HUB_URL}`,
      'FUNDING: calls': f.calls,
      'FUNDING: requests': f.requests,
      'FUNDING: ms': f.ms,
      'FUNDING: failed': f.failed,
      'FUNDING(scenario): calls': sc.calls,
      'FUNDING(scenario): requests': sc.requests,
      'FUNDING(scenario): ms': sc.ms,
      'FUNDING(scenario): failed': sc.failed,
      'scenario table: rows': real.rows,
      'scenario table: ms': real.ms,
      '10k pull: rows': pull.rows,
      '10k pull: syncs': pull.syncs,
      '10k pull: max cells/sync': pull.maxCellsPerSync,
      '10k pull: max bytes/sync': pull.maxBytesPerSync,
      '10k pull: ms': pull.totalMs,
    };
  } finally {
    await hub?.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  benchAddin({ build: process.argv.includes('--build'), print: true }).then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
