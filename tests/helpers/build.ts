import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

/**
 * Fails with one line saying what to run when dist/ is missing or older than the server's sources, so a test
 * that runs the built hub never silently tests yesterday's code.
 */
export function assertServerBuilt(): void {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'tools/build.mjs'), '--check'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr.trim() || `tools/build.mjs --check exited with ${r.status}`);
}
