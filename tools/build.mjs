#!/usr/bin/env node
// Builds the server (tsc -p tsconfig.build.json) only when its inputs changed since the last build, so
// `npm start` on an unchanged tree goes straight to the hub. The inputs' fingerprint (every path, size and
// mtime under the compiled folders, the tsconfigs and the lock file) is kept beside the output; a missing
// output or a different fingerprint rebuilds. `--force` always rebuilds; `--check` builds nothing and exits 1,
// saying why, when a build is missing or older than the sources (tests that run dist/ call it). `--start` (npm
// start) then runs the hub in this same process: one Node start-up, not two.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = path.join(root, 'dist', '.build-inputs');
const OUTPUT = path.join(root, 'dist', 'server', 'main.js');
const FOLDERS = ['server', 'migrations', 'bench'];
const FILES = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function fingerprint() {
  const hash = crypto.createHash('sha256');
  const add = (file) => {
    const st = fs.statSync(file, { throwIfNoEntry: false });
    hash.update(`${path.relative(root, file)}\0${st ? `${st.size}:${st.mtimeMs}` : '-'}\n`);
  };
  const walk = (dir) => {
    for (const e of fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) add(p);
    }
  };
  for (const f of FOLDERS) walk(path.join(root, f));
  for (const f of FILES) add(path.join(root, f));
  return hash.digest('hex');
}

const force = process.argv.includes('--force');
const quiet = process.argv.includes('--quiet');
const before = fingerprint();
const stamp = fs.existsSync(STAMP) ? fs.readFileSync(STAMP, 'utf8').trim() : '';
if (force || stamp !== before || !fs.existsSync(OUTPUT)) {
  if (process.argv.includes('--check')) {
    process.stderr.write(
      fs.existsSync(OUTPUT)
        ? 'The server build in dist/ is older than its sources: run `npm run build` (npm test and npm run test:integration build first).\n'
        : 'There is no server build in dist/: run `npm run build` (npm test and npm run test:integration build first).\n',
    );
    process.exit(1);
  }
  if (!quiet)
    process.stderr.write(
      fs.existsSync(OUTPUT) ? 'Sources changed: building the server…\n' : 'No build yet: building the server…\n',
    );
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
    cwd: root,
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
  // Written only after a good build, and from the fingerprint taken before it: an edit made during the build
  // is seen as a change next time.
  fs.writeFileSync(STAMP, before + '\n');
}
if (process.argv.includes('--start')) await import(pathToFileURL(OUTPUT).href);
