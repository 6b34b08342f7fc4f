#!/usr/bin/env node
// npm run addin:bench → node addin/bench.mjs  (HUB_URL + HUB_TOKEN to measure against a running hub)
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, '..', 'tests/artifacts/addin');
mkdirSync(outDir, { recursive: true });
const outfile = join(outDir, 'bench.cjs');
await build({ entryPoints: [join(here, 'src/dev/bench.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile, logLevel: 'warning', external: ['graphql'] });
const r = spawnSync(process.execPath, [outfile], { stdio: 'inherit', cwd: join(here, '..') });
process.exit(r.status ?? 1);
