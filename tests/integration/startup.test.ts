import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assertServerBuilt } from '../helpers/build';
import { startTestDatabase, usingPostgres } from '../helpers/db';

// Runs the built hub as `npm start` does (npm test and test:integration build dist/ first).
const ROOT = path.resolve(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/server/main.js');
beforeAll(assertServerBuilt);

function run(
  env: Record<string, string>,
  untilReady = true,
): Promise<{ code: number | null; out: string; err: string; child: ChildProcess }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (untilReady && out.includes('Demo tokens') && out.includes('ANALYST'))
        resolve({ code: null, out, err, child });
    });
    child.stderr!.on('data', (d) => (err += d));
    child.on('exit', (code) => resolve({ code, out, err, child }));
  });
}

/** SIGTERM, as a service manager sends it; resolves to the exit code (a hang fails the test by its timeout). */
const stop = (c: ChildProcess) =>
  new Promise<number | null>((r) =>
    c.exitCode !== null ? r(c.exitCode) : (c.once('exit', (code) => r(code)), c.kill('SIGTERM')),
  );

describe('starting the hub', () => {
  it('on an empty data folder: migrates, loads demo data, writes one token per role, answers queries; later starts reuse it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hnh-start-'));
    const env = { HUB_DATA_DIR: dir, PORT: '0', DATABASE_URL: '' };
    const first = await run(env);
    expect(first.code).toBeNull();
    const tokens = JSON.parse(fs.readFileSync(path.join(dir, 'demo-tokens.json'), 'utf8'));
    expect(Object.keys(tokens).sort()).toEqual(['ANALYST', 'CHAIR', 'FINANCE', 'SUBGROUP', 'chairCommunity']);
    expect(first.out).toContain(tokens.FINANCE);
    const port = /localhost:(\d+)\/graphql/.exec(first.out)![1];
    const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.SUBGROUP}` },
      body: JSON.stringify({ query: '{ communities { code } }' }),
    });
    expect((await res.json()).data.communities).toHaveLength(53);
    // A client still holding a keep-alive connection must not keep the hub from stopping.
    expect(await stop(first.child)).toBe(0);

    const second = await run(env);
    expect(second.out).toContain(tokens.FINANCE);
    const port2 = /localhost:(\d+)\/graphql/.exec(second.out)![1];
    const again = await fetch(`http://127.0.0.1:${port2}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.FINANCE}` },
      body: JSON.stringify({ query: '{ schools(first: 1) { totalCount } }' }),
    });
    expect((await again.json()).data.schools.totalCount).toBeGreaterThan(550);
    await stop(second.child);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120000);

  it('with a bad DATABASE_URL: one clear line and exit code 1', async () => {
    const r = await run({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', PORT: '0' }, false);
    expect(r.code).toBe(1);
    const lines = r.err.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^high-needs-hub: Cannot connect to PostgreSQL at 127\.0\.0\.1:1\/none .*Check DATABASE_URL/,
    );
  });

  it('with a DATABASE_URL that is not PostgreSQL: one line naming the fix', async () => {
    const r = await run({ DATABASE_URL: 'mysql://x@y/z', PORT: '0' }, false);
    expect(r.code).toBe(1);
    expect(r.err.trim()).toMatch(/^high-needs-hub: DATABASE_URL must be a PostgreSQL URL/);
  });

  it('with a data folder it cannot write: one clear line and exit code 1', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hnh-bad-')), 'a-file');
    fs.writeFileSync(file, 'not a folder');
    const r = await run({ HUB_DATA_DIR: file, PORT: '0', DATABASE_URL: '' }, false);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/Cannot use the data folder .*HUB_DATA_DIR/);
  });

  // A PostgreSQL hub never migrates by itself: it says what to run, with the newest migration unrecorded or with none.
  (usingPostgres() ? it : it.skip)(
    'on PostgreSQL with a migration not applied: one line naming npm run db:migrate, exit code 1, nothing changed',
    async () => {
      const db = await startTestDatabase({ seed: false });
      try {
        const table = db.dataSource.options.migrationsTableName!;
        const [last] = await db.dataSource.query(`SELECT id FROM ${table} ORDER BY timestamp DESC LIMIT 1`);
        await db.dataSource.query(`DELETE FROM ${table} WHERE id = $1`, [last.id]);
        const count = async () => (await db.dataSource.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n;
        const before = await count();
        expect(before).toBe(db.dataSource.migrations.length - 1);
        const tableGone = () => db.dataSource.query(`DROP TABLE ${table}`);
        for (const setUp of [null, tableGone]) {
          await setUp?.();
          const r = await run({ DATABASE_URL: db.url, PORT: '0' }, false);
          expect(r.code).toBe(1);
          expect(r.err.trim().split('\n')).toEqual([
            'high-needs-hub: The database at DATABASE_URL has pending migrations: run `npm run db:migrate` first (and `npm run db:seed` for demo data).',
          ]);
          if (!setUp) expect(await count()).toBe(before);
        }
      } finally {
        await db.stop();
      }
    },
    60_000,
  );
});

describe('npm start on an unchanged build', () => {
  it('goes through the up-to-date check, which compiles nothing and leaves the build as it was', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.start).toBe('node tools/build.mjs --start');
    const stamp = path.join(ROOT, 'dist/.build-inputs');
    const before = [fs.statSync(MAIN).mtimeMs, fs.readFileSync(stamp, 'utf8')];
    // Without --start: the same check npm start makes, without running the hub after it.
    const r = spawnSync(process.execPath, [path.join(ROOT, 'tools/build.mjs')], { encoding: 'utf8' });
    expect([r.status, r.stderr, r.stdout]).toEqual([0, '', '']);
    expect([fs.statSync(MAIN).mtimeMs, fs.readFileSync(stamp, 'utf8')]).toEqual(before);
  });
});
