import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../server/config';
import { laestabOf, localAuthority, setLocalAuthority } from '../../server/common/local-authority';

const SERVER = path.resolve(__dirname, '../../server');

/** The demo generator is the one place that may name the demo authority. */
const DEMO_ONLY = [/^seed\//, /^modules\/imports\/gias-sample\.ts$/];
function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : [p];
  });
}

describe('the local authority is configuration', () => {
  it('is named nowhere in the server code outside the demo generator (no 886, no Kent, no KCC)', () => {
    const hits: string[] = [];
    for (const file of files(SERVER)) {
      const rel = path.relative(SERVER, file).split(path.sep).join('/');
      if (DEMO_ONLY.some((re) => re.test(rel))) continue;
      fs.readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/\b886\b|\bKent\b|\bKCC\b/.test(line)) hits.push(`${rel}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(hits).toEqual([]);
  });

  it('the scan itself finds the demo authority where it is (so it cannot pass by reading nothing)', () => {
    const seed = fs.readFileSync(path.join(SERVER, 'seed/kent.ts'), 'utf8');
    expect(/\b886\b/.test(seed) && /\bKent\b/.test(seed)).toBe(true);
    expect(files(SERVER).length).toBeGreaterThan(50);
  });

  it('comes from HUB_LA and HUB_LA_NAME, and LAESTABs follow it', () => {
    const la = loadConfig({ HUB_LA: '919', HUB_LA_NAME: 'Hertfordshire' }).localAuthority;
    expect(la).toEqual({ code: 919, name: 'Hertfordshire' });
    const before = localAuthority();
    try {
      setLocalAuthority(la);
      expect(laestabOf(2096)).toBe(9192096);
    } finally {
      setLocalAuthority(before);
    }
    expect(loadConfig({ HUB_LA: '919' }).localAuthority).toEqual({ code: 919, name: 'LA 919' });
  });
});
