import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The Excel add-in's bench (addin/bench.mjs), for bench/run.ts: 2,000 =HNH.FUNDING calls in one wave against
 * the real hub (started here from dist/server/main.js on a free port with a temporary HUB_DATA_DIR, or the hub
 * at HUB_URL + HUB_TOKEN), the same with a scenario argument, the scenario table pulled into the fake Excel
 * host, and a 10,000-row pull in the fake host. Returns one flat record of figures.
 */
export async function benchAddin(): Promise<Record<string, unknown>> {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    if (path.dirname(dir) === dir) throw new Error('package.json not found above ' + __dirname);
    dir = path.dirname(dir);
  }
  // A real dynamic import: tsc's CommonJS output would turn `await import()` into require() of an ES module.
  const importEsm = new Function('url', 'return import(url)') as (
    url: string,
  ) => Promise<{ benchAddin(): Promise<Record<string, unknown>> }>;
  const mod = await importEsm(pathToFileURL(path.join(dir, 'addin/bench.mjs')).href);
  return mod.benchAddin();
}
