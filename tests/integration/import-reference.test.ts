import { spawn, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { startTestHub, TestHub } from '../helpers/hub';
import { startTestDatabase, TestDatabase } from '../helpers/db';
import { importGias } from '../../server/modules/imports/gias';
import { importFinance } from '../../server/modules/imports/finance';
import { cliViewer } from '../../server/modules/imports/cli';
import { COMMANDS } from '../../server/scripts/local/commands';
import { bootstrapRealHub, checkHubInstance, markDemo, readHubInstance } from '../../server/modules/instance/instance';
import { ConfigError } from '../../server/config';

/*
 * Issue 13, items 1-3: the authority is configuration, a real hub starts empty on purpose (one Finance bootstrap
 * token), a demo database refuses every import, and the reference data comes in from files.
 */
const LA = { code: 886, name: 'Kent' };
const finance = cliViewer('reference-test');

async function post(url: string, token: string, pathAndQuery: string, body: Buffer | string) {
  const res = await fetch(`${url}/import/${pathAndQuery}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'x-file-name': 'test-file.csv' },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  return { status: res.status, body: await res.json() };
}

describe('a demo database refuses every import, saying how to start empty', () => {
  let demo: TestHub;
  beforeAll(async () => {
    demo = await startTestHub();
  });
  afterAll(() => demo?.stop());

  it('is marked DEMO by the demo seed', async () => {
    expect(await readHubInstance(demo.db.dataSource)).toMatchObject({ mode: 'DEMO', laCode: 886, laName: 'Kent' });
  });

  it('refuses POST /import/KIND with a 400 naming db:reset -- --empty, and writes nothing', async () => {
    const [{ amount: before }] = await demo.db.dataSource.query(
      `SELECT amount FROM community_pot WHERE community_code = 'CAN-02' AND term_code = 'SPRING-2027'`,
    );
    const r = await post(
      demo.url,
      demo.tokens.FINANCE,
      'community-pots',
      'communityCode,term,amount\nCAN-02,SPRING-2027,1.00\n',
    );
    expect(r.status).toBe(400);
    expect(r.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'DEMO_DATABASE' });
    expect(r.body.errors[0].message).toContain('holds the demo data');
    expect(r.body.errors[0].message).toContain('npm run db:reset -- --empty');
    expect(r.body.errors[0].message).toContain('npm run db:migrate');
    const [{ amount: after }] = await demo.db.dataSource.query(
      `SELECT amount FROM community_pot WHERE community_code = 'CAN-02' AND term_code = 'SPRING-2027'`,
    );
    expect(after).toBe(before);
  });

  it('refuses a dry run too, and the GIAS import, and the command line', async () => {
    const dry = await post(demo.url, demo.tokens.FINANCE, 'community-pots?dryRun=TRUE', 'communityCode,term,amount\n');
    expect(dry.body.errors[0].extensions.reason).toBe('DEMO_DATABASE');
    const gias = await post(demo.url, demo.tokens.FINANCE, 'gias', 'URN,LA (code)\n1,886\n');
    expect(gias.status).toBe(400);
    expect(gias.body.errors[0].extensions.reason).toBe('DEMO_DATABASE');
    await expect(
      importGias(demo.db.dataSource, Readable.from([Buffer.from('URN\n')]), {
        la: 886,
        viewer: finance,
        source: 'IMPORT',
        fileName: 'x.csv',
      }),
    ).rejects.toMatchObject({ extensions: { reason: 'DEMO_DATABASE' } });
    await expect(
      COMMANDS.import(
        {
          dataSource: demo.db.dataSource,
          viewer: finance,
          input: () => Readable.from([Buffer.from('communityCode,term,amount\nCAN-02,SPRING-2027,1.00\n')]),
        },
        { kind: 'community-pots', fileName: 'pots.csv' },
      ),
    ).rejects.toThrow(/npm run db:reset -- --empty/);
    await expect(
      importFinance(demo.db.dataSource, 'caseloads', Buffer.from('kind,period,districtCode,count\n'), {
        viewer: finance,
        source: 'IMPORT',
        fileName: 'areas.csv',
      }),
    ).rejects.toMatchObject({ extensions: { reason: 'DEMO_DATABASE' } });
  });

  it('keeps a hub of another authority from starting on it', async () => {
    await expect(checkHubInstance(demo.db.dataSource, { code: 919, name: 'Hertfordshire' })).rejects.toThrow(
      new ConfigError(
        'This database holds demo data of LA 886 (Kent), but the hub is configured for LA 919 (Hertfordshire): set HUB_LA=886, or point the hub at another database.',
      ),
    );
    await expect(checkHubInstance(demo.db.dataSource, LA)).resolves.toMatchObject({ mode: 'DEMO' });
  });
});

describe('an empty database is a real hub with one Finance bootstrap token', () => {
  let db: TestDatabase;
  let t: TestHub;
  beforeAll(async () => {
    db = await startTestDatabase({ seed: false });
    t = await startTestHub({ db });
  });
  afterAll(async () => {
    await t?.stop();
    await db?.stop();
  });

  it('creates the token once, marks the database REAL, and the token is Finance', async () => {
    expect(await readHubInstance(db.dataSource)).toBeNull();
    const first = await bootstrapRealHub(db.dataSource, LA);
    expect(first.token).toMatch(/^hnh_/);
    expect(first.instance).toMatchObject({ mode: 'REAL', laCode: 886 });
    expect((await bootstrapRealHub(db.dataSource, LA)).token).toBeNull();
    const me = await t.gql('{ me { role name } }', {}, first.token);
    expect(me.body.data.me).toEqual({ role: 'FINANCE', name: 'Bootstrap finance officer (Kent)' });
    const [{ n }] = await db.dataSource.query(`SELECT count(*)::int AS n FROM api_token WHERE role = 'FINANCE'`);
    expect(n).toBe(1);
  });

  it('never takes the demo data once real data is in, and refuses imports for another authority', async () => {
    await db.dataSource.query(`INSERT INTO area (code, name) VALUES ('NORTH', 'North')`);
    await expect(markDemo(db.dataSource, LA)).rejects.toThrow(
      /holds real data of LA 886 \(Kent\): the demo data is never loaded/,
    );
    await expect(
      importFinance(db.dataSource, 'caseloads', Buffer.from('kind,period,districtCode,count\n'), {
        viewer: finance,
        source: 'IMPORT',
        fileName: 'a.csv',
      }),
    ).rejects.toThrow(/^The file has a header but no rows/);
    const { assertImportAllowed } = await import('../../server/modules/instance/instance');
    await expect(assertImportAllowed(db.dataSource, { code: 919, name: 'Hertfordshire' })).rejects.toMatchObject({
      extensions: { reason: 'OTHER_AUTHORITY' },
    });
    await db.dataSource.query(`DELETE FROM area`);
  });
});

describe('npm start with HUB_DEMO=0 on the embedded database', () => {
  const DIST = path.resolve(__dirname, '../../dist/server');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hnh-empty-'));
  const env = {
    ...process.env,
    HUB_DATA_DIR: dir,
    HUB_DEMO: '0',
    PORT: '0',
    METRICS_PORT: '0',
    DATABASE_URL: '',
    LOG_LEVEL: 'warn',
  };
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function start(extra: Record<string, string> = {}) {
    return new Promise<{ child: ChildProcess; out: string; err: string; code: number | null; url: string | null }>(
      (resolve) => {
        const child = spawn(process.execPath, [path.join(DIST, 'main.js')], {
          env: { ...env, ...extra },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout!.on('data', (d) => {
          out += d;
          const m =
            /GraphQL and explorer: (http:\/\/localhost:\d+)\/graphql[\s\S]*Local authority: .*\n([\s\S]*token:create.*\n)?/.exec(
              out,
            );
          if (m) resolve({ child, out, err, code: null, url: m[1].replace('localhost', '127.0.0.1') });
        });
        child.stderr!.on('data', (d) => (err += d));
        child.on('exit', (code) => resolve({ child, out, err, code, url: null }));
      },
    );
  }
  const stop = (c: ChildProcess) =>
    new Promise<void>((r) => {
      if (c.exitCode !== null) return r();
      c.once('exit', () => r());
      c.kill('SIGTERM');
    });

  it('starts empty, prints the bootstrap token on a line of its own once, and refuses another HUB_LA', async () => {
    const first = await start();
    try {
      expect(first.url).not.toBeNull();
      const lines = first.out.split('\n');
      const at = lines.findIndex((l) => l.includes('Finance bootstrap token'));
      expect(at).toBeGreaterThan(0);
      const token = lines[at + 1];
      expect(token).toMatch(/^hnh_[A-Za-z0-9_-]+$/);
      expect(lines[at + 2]).toContain('npm run token:create');
      expect(first.out).toContain('Local authority: 886 Kent (real data)');
      expect(first.out).not.toContain('Demo tokens');
      const res = await fetch(`${first.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ me { role } schools(first: 1) { totalCount } }' }),
      });
      expect((await res.json()).data).toEqual({ me: { role: 'FINANCE' }, schools: { totalCount: 0 } });
    } finally {
      await stop(first.child);
    }
    const second = await start();
    try {
      expect(second.url).not.toBeNull();
      expect(second.out).not.toContain('bootstrap token');
    } finally {
      await stop(second.child);
    }
    const other = await start({ HUB_LA: '919', HUB_LA_NAME: 'Hertfordshire' });
    await stop(other.child);
    expect(other.code).toBe(1);
    expect(other.err.trim()).toBe(
      'high-needs-hub: This database holds real data of LA 886 (Kent), but the hub is configured for LA 919 (Hertfordshire): set HUB_LA=886, or point the hub at another database.',
    );
  }, 120000);
});
