import fs from 'node:fs';
import path from 'node:path';

/** The repository root, found from here whether running compiled (dist/server/…) or from source under jest. */
export function projectRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + __dirname);
    dir = parent;
  }
  return dir;
}
