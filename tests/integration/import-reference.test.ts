import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { startTestHub, TestHub } from '../helpers/hub';
import { startTestDatabase, TestDatabase } from '../helpers/db';
import { importGias } from '../../server/modules/imports/gias';
import { importFile } from '../../server/modules/imports/import.service';
import { cliViewer } from '../../server/modules/imports/command-line';
import { COMMANDS } from '../../server/scripts/local/commands';
import { bootstrapRealHub, checkHubInstance, markDemo, readHubInstance } from '../../server/modules/instance/instance';
import { ConfigError } from '../../server/config';
import { startEmbedded } from '../../server/db/embedded';
import { createDataSource } from '../../server/db/datasource';
import { lockFolder } from '../../server/db/folder-lock';

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
      importFile(demo.db.dataSource, 'caseloads', Buffer.from('kind,period,districtCode,count\n'), {
        viewer: finance,
        source: 'IMPORT',
        fileName: 'areas.csv',
      }),
    ).rejects.toMatchObject({ extensions: { reason: 'DEMO_DATABASE' } });
  });

  it('refuses the generatePeriods mutation too', async () => {
    const r = await demo.gql('mutation { generatePeriods(first: "2030-31", last: "2030-31") { message } }');
    expect(r.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'DEMO_DATABASE' });
    expect(
      (await demo.db.dataSource.query(`SELECT count(*)::int AS n FROM financial_year WHERE code = '2030-31'`))[0].n,
    ).toBe(0);
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
      importFile(db.dataSource, 'caseloads', Buffer.from('kind,period,districtCode,count\n'), {
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

async function waitFor(check: () => Promise<boolean>, ms = 10000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting for the change to be seen');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('reference data from files, into an empty hub', () => {
  let db: TestDatabase;
  let t: TestHub;
  let token: string;
  const imp = (kind: string, csv: string) => post(t.url, token, kind, csv);
  const q = <T = any>(sql: string, params: unknown[] = []): Promise<T[]> => db.dataSource.query(sql, params);
  const count = async (table: string) => (await q(`SELECT count(*)::int AS n FROM ${table}`))[0].n as number;
  const audits = async (prefix: string) =>
    (
      await q(`SELECT count(*)::int AS n FROM audit_log WHERE entity = 'IMPORT' AND entity_id LIKE $1`, [`${prefix}%`])
    )[0].n as number;
  const rowErrors = (r: { body: any }) =>
    (r.body.report?.errors ?? r.body.errors[0].extensions.errors ?? r.body.errors[0].extensions.rowErrors) as {
      line: number;
      column: string;
      value: string | null;
      reason: string;
    }[];

  beforeAll(async () => {
    db = await startTestDatabase({ seed: false });
    t = await startTestHub({ db });
    token = (await bootstrapRealHub(db.dataSource, LA)).token!;
    // As the GIAS import leaves them: districts in no area yet, and the LA's schools.
    await q(`INSERT INTO district (ons_code, name, area_code) VALUES
      ('E07000105', 'Ashford', NULL), ('E07000107', 'Dartford', NULL),
      ('E07000111', 'Sevenoaks', NULL), ('E07000112', 'Folkestone and Hythe', NULL)`);
    await q(`INSERT INTO school (urn, laestab, name, phase, type, status, district_code, pupils_on_roll) VALUES
      (900001, 8862001, 'Ashford Oaks Primary', 'PRIMARY', 'MAINTAINED', 'OPEN', 'E07000105', 300),
      (900002, 8862002, 'Kingsnorth Primary', 'PRIMARY', 'ACADEMY', 'OPEN', 'E07000105', 200),
      (900003, 8862003, 'Dartford Bridge Primary', 'PRIMARY', 'ACADEMY', 'OPEN', 'E07000107', 400)`);
  });
  afterAll(async () => {
    await t?.stop();
    await db?.stop();
  });

  it('generates financial years, academic years and funding terms with the month weights, seen at once', async () => {
    const before = await t.gql('{ periods { fundingTerms { code } } }', {}, token);
    expect(before.body.data.periods.fundingTerms).toEqual([]);
    const out = await COMMANDS.periods(
      { dataSource: db.dataSource, viewer: finance, input: () => Readable.from([]) },
      { first: '2025-26', last: '2026-27' },
    );
    expect(out.out).toEqual([
      'Generated 2 financial years, 3 academic years and 6 funding terms (2025-26 to 2026-27); 0 already held.',
    ]);
    expect(
      await q(`SELECT code, start_date::text AS s, end_date::text AS e, financial_year_code AS fy, academic_year_code AS ay, months
                 FROM funding_term ORDER BY start_date`),
    ).toEqual([
      { code: 'SUMMER-2025', s: '2025-04-01', e: '2025-08-31', fy: '2025-26', ay: '2024/25', months: 5 },
      { code: 'AUTUMN-2025', s: '2025-09-01', e: '2025-12-31', fy: '2025-26', ay: '2025/26', months: 4 },
      { code: 'SPRING-2026', s: '2026-01-01', e: '2026-03-31', fy: '2025-26', ay: '2025/26', months: 3 },
      { code: 'SUMMER-2026', s: '2026-04-01', e: '2026-08-31', fy: '2026-27', ay: '2025/26', months: 5 },
      { code: 'AUTUMN-2026', s: '2026-09-01', e: '2026-12-31', fy: '2026-27', ay: '2026/27', months: 4 },
      { code: 'SPRING-2027', s: '2027-01-01', e: '2027-03-31', fy: '2026-27', ay: '2026/27', months: 3 },
    ]);
    await waitFor(
      async () =>
        (await t.gql('{ periods { fundingTerms { code } } }', {}, token)).body.data.periods.fundingTerms.length === 6,
    );
    const again = await COMMANDS.periods(
      { dataSource: db.dataSource, viewer: finance, input: () => Readable.from([]) },
      { first: '2025-26', last: '2026-27' },
    );
    expect(again.out).toEqual(['The periods for 2025-26 to 2026-27 are all held already (11).']);
    await expect(
      COMMANDS.periods(
        { dataSource: db.dataSource, viewer: finance, input: () => Readable.from([]) },
        { first: '2025-27', last: '2026-27' },
      ),
    ).rejects.toThrow('"2025-27" is not a financial year: write it as 2025-26 (April 2025 to March 2026).');
    expect(await audits('periods:')).toBe(11);
  });

  it('imports the LA school terms into their funding terms, refusing a bad file whole', async () => {
    const bad = await imp(
      'school-terms',
      'academicYear,termNumber,startDate,endDate\n2030/31,1,2030-09-03,2030-10-20\n2025/26,7,2025-09-03,2025-10-24\n2025/26,2,2025-11-03,2025-11-01\n2025/26,3,2025-13-01,2026-02-13\n',
    );
    expect(bad.status).toBe(400);
    expect(rowErrors(bad)).toEqual([
      {
        line: 2,
        column: 'academicYear',
        value: '2030/31',
        reason: 'is not an academic year in the hub (2024/25, 2025/26, 2026/27)',
      },
      {
        line: 2,
        column: 'startDate',
        value: '2030-09-03',
        reason:
          'falls in no funding term the hub holds: generate the periods for its financial year first (npm run periods)',
      },
      { line: 3, column: 'termNumber', value: '7', reason: 'must be 1 to 6' },
      { line: 4, column: 'endDate', value: '2025-11-01', reason: 'is before startDate (2025-11-03)' },
      {
        line: 5,
        column: 'startDate',
        value: '2025-13-01',
        reason: 'must be a date, YYYY-MM-DD or DD/MM/YYYY (e.g. 2026-09-01)',
      },
    ]);
    expect(await count('school_term')).toBe(0);
    const csv =
      'academicYear,termNumber,startDate,endDate\n' +
      [
        ['1', '2025-09-03', '2025-10-24'],
        ['2', '2025-11-03', '2025-12-19'],
        ['3', '05/01/2026', '13/02/2026'],
        ['4', '2026-02-23', '2026-03-27'],
        ['5', '2026-04-13', '2026-05-22'],
        ['6', '2026-06-01', '2026-07-22'],
      ]
        .map((r) => `2025/26,${r.join(',')}`)
        .join('\n');
    const ok = await imp('school-terms', csv);
    expect(ok.status).toBe(200);
    expect(ok.body.report).toMatchObject({ created: 6, updated: 0, unchanged: 0, errorCount: 0 });
    expect(
      await q(`SELECT code, start_date::text AS s, funding_term_code AS ft FROM school_term ORDER BY start_date`),
    ).toEqual([
      { code: '2025/26-T1', s: '2025-09-03', ft: 'AUTUMN-2025' },
      { code: '2025/26-T2', s: '2025-11-03', ft: 'AUTUMN-2025' },
      { code: '2025/26-T3', s: '2026-01-05', ft: 'SPRING-2026' },
      { code: '2025/26-T4', s: '2026-02-23', ft: 'SPRING-2026' },
      { code: '2025/26-T5', s: '2026-04-13', ft: 'SUMMER-2026' },
      { code: '2025/26-T6', s: '2026-06-01', ft: 'SUMMER-2026' },
    ]);
    const overlapping = await imp(
      'school-terms',
      'academicYear,termNumber,startDate,endDate\n2025/26,1,2025-09-03,2025-11-05\n2025/26,2,2025-11-03,2025-12-19\n',
    );
    expect(rowErrors(overlapping)).toEqual([
      {
        line: 3,
        column: 'startDate',
        value: '2025-11-03',
        reason: 'T2 starts on or before the end of T1 (2025-11-05, line 2)',
      },
    ]);
    expect(await audits('school-terms:')).toBe(6);
    await waitFor(
      async () =>
        (await t.gql('{ periods { schoolTerms { code } } }', {}, token)).body.data.periods.schoolTerms.length === 6,
    );
  });

  it('places the GIAS districts in areas, says each move, and refuses a GIAS file given as areas', async () => {
    const gias = await imp(
      'areas',
      'URN,LA (code),LA (name),EstablishmentNumber,EstablishmentName\n118001,886,Kent,2001,Ashford Oaks Primary\n',
    );
    expect(gias.status).toBe(400);
    expect(gias.body.errors[0].message).toBe(
      'The file lacks the columns "areaCode", "name", "districtCodes" (line 1) of the areas template: expected areaCode, name, districtCodes. ' +
        'It looks like a GIAS establishment file (edubasealldata…csv), which npm run import:gias or POST /import/gias reads.',
    );
    const pots = await imp('areas', 'communityCode,term,amount\nASH-01,AUTUMN-2025,1.00\n');
    expect(pots.body.errors[0].message).toContain(
      'It looks like a community-pots file (Community pots): import it as community-pots.',
    );
    const bad = await imp(
      'areas',
      'areaCode,name,districtCodes\nNORTH,North,E07000107;E07999999\nEAST,East,E07000105 X1\nWEST,West,E07000107\n',
    );
    expect(rowErrors(bad)).toEqual([
      {
        line: 2,
        column: 'districtCodes',
        value: 'E07000107;E07999999',
        reason: 'names E07999999: not districts in the hub (districts come from the GIAS import)',
      },
      {
        line: 3,
        column: 'districtCodes',
        value: 'E07000105 X1',
        reason: 'holds X1, not ONS district codes (e.g. E07000105)',
      },
    ]);
    const twice = await imp('areas', 'areaCode,name,districtCodes\nNORTH,North,E07000107\nWEST,West,E07000107\n');
    expect(rowErrors(twice)).toEqual([
      {
        line: 3,
        column: 'districtCodes',
        value: 'E07000107',
        reason: 'district E07000107 is also in area NORTH on line 2: a district is in one area',
      },
    ]);
    expect(await count('area')).toBe(0);
    const ok = await imp(
      'areas',
      'areaCode,name,districtCodes\nNORTH,North,E07000107; E07000111\nEAST,East,E07000105 E07000112\n',
    );
    expect(ok.status).toBe(200);
    expect(ok.body.report).toMatchObject({ created: 2, updated: 0, errorCount: 0 });
    expect(ok.body.report.notes).toEqual([
      'District E07000107 (Dartford) is placed in area NORTH.',
      'District E07000111 (Sevenoaks) is placed in area NORTH.',
      'District E07000105 (Ashford) is placed in area EAST.',
      'District E07000112 (Folkestone and Hythe) is placed in area EAST.',
    ]);
    await waitFor(async () => {
      const r = await t.gql('{ areas { code name } districts { onsCode area { code } } }', {}, token);
      return (
        JSON.stringify(r.body.data?.areas) ===
          JSON.stringify([
            { code: 'EAST', name: 'East' },
            { code: 'NORTH', name: 'North' },
          ]) && r.body.data.districts.every((d: any) => d.area?.code)
      );
    });
    expect(await audits('areas:')).toBe(6);
  });

  it('imports communities with their Chair and PCN, the area following the primary district', async () => {
    const bad = await imp(
      'communities',
      'communityCode,name,primaryDistrictCode,chairName,chairContact,chairSchoolUrn,pcnName\nASH-01,Ashford 1,E07000199,A Head,a@x.example,999999,Ashford PCN\n',
    );
    expect(rowErrors(bad)).toEqual([
      {
        line: 2,
        column: 'primaryDistrictCode',
        value: 'E07000199',
        reason: 'is not a district in the hub (districts come from the GIAS import)',
      },
      { line: 2, column: 'chairSchoolUrn', value: '999999', reason: 'is not a school in the hub' },
    ]);
    const ok = await imp(
      'communities',
      'communityCode,name,primaryDistrictCode,chairName,chairContact,chairSchoolUrn,pcnName\n' +
        'ASH-01,Ashford 1,E07000105,Ann Head,ann.head@school.example,900001,Ashford Rural PCN\n' +
        'DAR-01,Dartford 1,E07000107,,,,Dartford Central PCN\n',
    );
    expect(ok.body.report).toMatchObject({ created: 2, errorCount: 0 });
    expect(
      await q(
        `SELECT code, area_code AS area, chair_name AS chair, chair_contact AS contact, pcn_name AS pcn FROM community ORDER BY code`,
      ),
    ).toEqual([
      { code: 'ASH-01', area: 'EAST', chair: 'Ann Head', contact: 'ann.head@school.example', pcn: 'Ashford Rural PCN' },
      { code: 'DAR-01', area: 'NORTH', chair: null, contact: null, pcn: 'Dartford Central PCN' },
    ]);
    const again = await imp(
      'communities',
      'communityCode,name,primaryDistrictCode,pcnName\nASH-01,Ashford One,E07000105,Ashford Rural PCN\n',
    );
    expect(again.body.report).toMatchObject({ created: 0, updated: 1, unchanged: 0 });
    expect(await audits('communities:')).toBe(3);
  });

  it('imports memberships, refuses an overlap unless asked, and reports every move', async () => {
    const header = 'schoolUrn,communityCode,effectiveFrom,effectiveTo,replaceOverlapping\n';
    const first = await imp(
      'community-memberships',
      header + '900001,ASH-01,2025-04-01,,\n900002,ASH-01,2025-04-01,,\n900003,DAR-01,01/04/2025,,\n',
    );
    expect(first.body.report).toMatchObject({ created: 3, updated: 0, unchanged: 0, errorCount: 0 });
    expect(first.body.report.notes).toEqual([
      'School 900001 (Ashford Oaks Primary) joins ASH-01 on 2025-04-01.',
      'School 900002 (Kingsnorth Primary) joins ASH-01 on 2025-04-01.',
      'School 900003 (Dartford Bridge Primary) joins DAR-01 on 2025-04-01.',
    ]);
    const same = await imp('community-memberships', header + '900001,ASH-01,2025-04-01,,\n');
    expect(same.body.report).toMatchObject({ created: 0, updated: 0, unchanged: 1, notes: [] });

    const refused = await imp('community-memberships', header + '900002,DAR-01,2026-01-01,,\n');
    expect(refused.status).toBe(400);
    expect(rowErrors(refused)).toEqual([
      {
        line: 2,
        column: 'effectiveFrom',
        value: '2026-01-01',
        reason:
          "overlaps the school's stored membership of ASH-01 from 2025-04-01: set replaceOverlapping to TRUE to replace the overlapped period",
      },
    ]);
    const bad = await imp(
      'community-memberships',
      header +
        '900002,NOPE-01,2026-01-01,,\n900002,DAR-01,2026-01-01,2025-12-01,\n900001,ASH-01,31/02/2026,,\n999999,ASH-01,2026-01-01,,\n',
    );
    expect(rowErrors(bad)).toEqual([
      {
        line: 2,
        column: 'communityCode',
        value: 'NOPE-01',
        reason: 'is not a Community of Schools in the hub (import communities first)',
      },
      { line: 3, column: 'effectiveTo', value: '2025-12-01', reason: 'must be after effectiveFrom (2026-01-01)' },
      {
        line: 4,
        column: 'effectiveFrom',
        value: '31/02/2026',
        reason: 'must be a date, YYYY-MM-DD or DD/MM/YYYY (e.g. 2026-09-01)',
      },
      {
        line: 5,
        column: 'schoolUrn',
        value: '999999',
        reason: 'is not a school in the hub (schools come from the GIAS import)',
      },
    ]);
    const inFile = await imp(
      'community-memberships',
      header + '900003,DAR-01,2026-01-01,2026-09-01,TRUE\n900003,ASH-01,2026-06-01,,TRUE\n',
    );
    expect(rowErrors(inFile)[0]).toMatchObject({ line: 3, column: 'effectiveFrom', value: '2026-06-01' });
    expect(rowErrors(inFile)[0].reason).toMatch(/^overlaps line 2 of this file for school 900003/);
    expect(await q(`SELECT count(*)::int AS n FROM community_membership`)).toEqual([{ n: 3 }]);

    // Pots set for Spring 2026: the schools' shares must follow the move.
    await q(
      `INSERT INTO community_pot (community_code, term_code, amount) VALUES ('ASH-01', 'SPRING-2026', 300.00), ('DAR-01', 'SPRING-2026', 600.00)`,
    );
    await q(`INSERT INTO school_term_funding (school_urn, term_code, baseline, protection_rate, protected_amount, community_share, banded_top_up)
             VALUES (900001, 'SPRING-2026', 0, 0, 0, 180.00, 0), (900002, 'SPRING-2026', 0, 0, 0, 120.00, 0), (900003, 'SPRING-2026', 0, 0, 0, 600.00, 0)`);
    const dry = await imp('community-memberships?dryRun=TRUE', header + '900002,DAR-01,2026-01-01,,TRUE\n');
    expect(dry.body.report).toMatchObject({ dryRun: true, applied: false, created: 1 });
    expect(dry.body.report.notes).toContain(
      'School 900002 (Kingsnorth Primary) moves from ASH-01 to DAR-01 on 2026-01-01.',
    );
    expect(await q(`SELECT count(*)::int AS n FROM community_membership WHERE school_urn = 900002`)).toEqual([
      { n: 1 },
    ]);
    const moved = await imp('community-memberships', header + '900002,DAR-01,2026-01-01,,TRUE\n');
    expect(moved.status).toBe(200);
    expect(moved.body.report.notes).toEqual([
      'School 900002 (Kingsnorth Primary): its membership of ASH-01 from 2025-04-01 now ends on 2026-01-01.',
      'School 900002 (Kingsnorth Primary) moves from ASH-01 to DAR-01 on 2026-01-01.',
    ]);
    expect(
      await q(`SELECT community_code AS c, effective_from::text AS f, effective_to::text AS t FROM community_membership
                WHERE school_urn = 900002 ORDER BY effective_from`),
    ).toEqual([
      { c: 'ASH-01', f: '2025-04-01', t: '2026-01-01' },
      { c: 'DAR-01', f: '2026-01-01', t: null },
    ]);
    const read = await t.gql(
      '{ before: school(urn: 900002) { community(asOf: "2025-12-31") { code } } after: school(urn: 900002) { community(asOf: "2026-01-01") { code } } }',
      {},
      token,
    );
    expect(read.body.data).toEqual({
      before: { community: { code: 'ASH-01' } },
      after: { community: { code: 'DAR-01' } },
    });

    // A spell inside an open membership splits it: the school returns afterwards.
    const spell = await imp('community-memberships', header + '900001,DAR-01,2026-02-01,2026-03-01,TRUE\n');
    expect(spell.body.report.notes).toEqual([
      'School 900001 (Ashford Oaks Primary): its membership of ASH-01 from 2025-04-01 now ends on 2026-02-01.',
      'School 900001 (Ashford Oaks Primary) returns to ASH-01 on 2026-03-01.',
      'School 900001 (Ashford Oaks Primary) moves from ASH-01 to DAR-01 on 2026-02-01.',
    ]);
    expect(
      await q(`SELECT community_code AS c, effective_from::text AS f, effective_to::text AS t FROM community_membership
                WHERE school_urn = 900001 ORDER BY effective_from`),
    ).toEqual([
      { c: 'ASH-01', f: '2025-04-01', t: '2026-02-01' },
      { c: 'DAR-01', f: '2026-02-01', t: '2026-03-01' },
      { c: 'ASH-01', f: '2026-03-01', t: null },
    ]);
    const [{ actor, source }] = await q(
      `SELECT actor_name AS actor, source FROM audit_log WHERE entity = 'IMPORT' AND entity_id = 'community-memberships:900002|2026-01-01'`,
    );
    expect({ actor, source }).toEqual({ actor: 'Bootstrap finance officer (Kent)', source: 'API' });
    expect(await audits('community-memberships:')).toBe(3 + 2 + 3);
  });

  it('prints the moves on the command line too', async () => {
    const out = await COMMANDS.import(
      {
        dataSource: db.dataSource,
        viewer: finance,
        input: () =>
          Readable.from([
            Buffer.from('schoolUrn,communityCode,effectiveFrom,replaceOverlapping\n900003,ASH-01,2026-09-01,TRUE\n'),
          ]),
      },
      { kind: 'community-memberships', fileName: 'moves.csv' },
    );
    expect(out.exitCode).toBe(0);
    expect(out.out).toEqual([
      'Imported: created 1, updated 0; 0 unchanged.',
      '  1 rows (csv): created 1, updated 0, unchanged 0, rejected 0',
      '  School 900003 (Dartford Bridge Primary): its membership of DAR-01 from 2025-04-01 now ends on 2026-09-01.',
      '  School 900003 (Dartford Bridge Primary) moves from DAR-01 to ASH-01 on 2026-09-01.',
    ]);
  });

  it('imports caseload workers, early years settings and EHCP band counts, row errors and all', async () => {
    const badWorkers = await imp(
      'caseload-workers',
      'workerCode,role,team,areaCode\nLW-001,LINK_WORKER,Ashford,SOUTH\nLW-002,JANITOR,Ashford,EAST\n',
    );
    expect(rowErrors(badWorkers)).toEqual([
      { line: 2, column: 'areaCode', value: 'SOUTH', reason: 'is not an area in the hub (import areas first)' },
      {
        line: 3,
        column: 'role',
        value: 'JANITOR',
        reason: 'is not one of LINK_WORKER, SIPS_PRACTITIONER, EHCP_CASE_OFFICER',
      },
    ]);
    const workers = await imp(
      'caseload-workers',
      'workerCode,role,team,areaCode\nLW-001,LINK_WORKER,Ashford,EAST\nEO-001,ehcp_case_officer,Dartford,NORTH\n',
    );
    expect(workers.body.report).toMatchObject({ created: 2, errorCount: 0 });
    expect(await q(`SELECT code, role, area_code AS area FROM caseload_worker ORDER BY code`)).toEqual([
      { code: 'EO-001', role: 'EHCP_CASE_OFFICER', area: 'NORTH' },
      { code: 'LW-001', role: 'LINK_WORKER', area: 'EAST' },
    ]);

    const badSettings = await imp(
      'early-years-settings',
      'settingUrn,name,kind,districtCode,postcodeDistrict\nEY100001,Jo Bloggs,CHILDMINDER,E07000105,TN23\nEY100002,Acorns,GROUP,E07000105,TN23 4AB\n',
    );
    expect(rowErrors(badSettings)).toEqual([
      {
        line: 2,
        column: 'name',
        value: 'Jo Bloggs',
        reason: 'must be empty for a childminder (childminders are kept by URN only)',
      },
      { line: 3, column: 'postcodeDistrict', value: 'TN23 4AB', reason: 'must be the outward code only, e.g. TN23' },
    ]);
    const settings = await imp(
      'early-years-settings',
      'settingUrn,name,kind,districtCode,postcodeDistrict\nEY100001,,CHILDMINDER,E07000105,tn23\nEY100002,Little Acorns,GROUP,E07000107,DA1\n',
    );
    expect(settings.body.report).toMatchObject({ created: 2, errorCount: 0 });
    expect(await q(`SELECT urn, name, kind, postcode_district AS pc FROM early_years_setting ORDER BY urn`)).toEqual([
      { urn: 'EY100001', name: 'EY100001', kind: 'CHILDMINDER', pc: 'TN23' },
      { urn: 'EY100002', name: 'Little Acorns', kind: 'GROUP', pc: 'DA1' },
    ]);

    const badBands = await imp(
      'ehcp-band-counts',
      'schoolUrn,term,band,plans\n900001,AUTUMN-2031,B,3\n900001,AUTUMN-2026,F,3\n900001,AUTUMN-2026,A,-1\n',
    );
    expect(rowErrors(badBands).map((e) => [e.line, e.column, e.value])).toEqual([
      [2, 'term', 'AUTUMN-2031'],
      [3, 'band', 'F'],
      [4, 'plans', '-1'],
    ]);
    const bands = await imp(
      'ehcp-band-counts',
      'schoolUrn,term,band,plans\n900001,AUTUMN-2026,B,3\n900001,AUTUMN-2026,C,1\n900003,AUTUMN-2026,A,7\n',
    );
    expect(bands.body.report).toMatchObject({ created: 3, errorCount: 0 });
    const update = await imp(
      'ehcp-band-counts',
      'schoolUrn,term,band,plans\n900001,AUTUMN-2026,B,4\n900001,AUTUMN-2026,C,1\n',
    );
    expect(update.body.report).toMatchObject({ created: 0, updated: 1, unchanged: 1 });
    expect(await q(`SELECT school_urn AS urn, band, plans FROM ehcp_band_count ORDER BY school_urn, band`)).toEqual([
      { urn: 900001, band: 'B', plans: 4 },
      { urn: 900001, band: 'C', plans: 1 },
      { urn: 900003, band: 'A', plans: 7 },
    ]);
    expect([
      await audits('caseload-workers:'),
      await audits('early-years-settings:'),
      await audits('ehcp-band-counts:'),
    ]).toEqual([2, 2, 4]);
  });

  it('offers a template for each reference kind', async () => {
    for (const kind of [
      'areas',
      'communities',
      'community-memberships',
      'school-terms',
      'caseload-workers',
      'early-years-settings',
      'ehcp-band-counts',
    ]) {
      const res = await fetch(`${t.url}/import/templates/${kind}.csv`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      expect((await res.text()).length).toBeGreaterThan(10);
    }
    const res = await fetch(`${t.url}/import/templates/community-memberships.csv`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(Buffer.from(await res.arrayBuffer()).toString('utf8')).toBe(
      '\uFEFFschoolUrn,communityCode,effectiveFrom,effectiveTo,replaceOverlapping\r\n',
    );
  });

  it('generates more periods through the Finance mutation, keeping those held, and the next read sees them', async () => {
    const r = await t.gql(
      'mutation { generatePeriods(first: "2026-27", last: "2027-28") { financialYearsCreated academicYearsCreated fundingTermsCreated alreadyHeld message } }',
      {},
      token,
    );
    expect(r.body.data.generatePeriods).toEqual({
      financialYearsCreated: 1,
      academicYearsCreated: 1,
      fundingTermsCreated: 3,
      alreadyHeld: 6,
      message: 'Generated 1 financial year, 1 academic year and 3 funding terms (2026-27 to 2027-28); 6 already held.',
    });
    await waitFor(
      async () =>
        (await t.gql('{ periods { financialYears { code } } }', {}, token)).body.data.periods.financialYears.length ===
        3,
    );
    const [{ source, actor }] = await q(
      `SELECT source, actor_name AS actor FROM audit_log WHERE entity_id = 'periods:financial_year:2027-28'`,
    );
    expect({ source, actor }).toEqual({ source: 'API', actor: 'Bootstrap finance officer (Kent)' });
  });
});

describe('npm run db:migrate on an empty database (PostgreSQL, or HUB_DEMO=0)', () => {
  let db: TestDatabase;
  const saved = process.env.HUB_DEMO;
  beforeAll(async () => {
    db = await startTestDatabase({ seed: false });
    process.env.HUB_DEMO = '0';
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.HUB_DEMO;
    else process.env.HUB_DEMO = saved;
    await db?.stop();
  });

  it('prints one Finance bootstrap token on a line of its own, once', async () => {
    const ctx = { dataSource: db.dataSource, viewer: finance, input: () => Readable.from([]) };
    const first = await COMMANDS['db:migrate'](ctx, {});
    expect(first.out.slice(0, 3)).toEqual([
      'Database is up to date.',
      'Empty hub for LA 886 Kent.',
      '  Finance bootstrap token (shown once, store it now; it is not printed again):',
    ]);
    expect(first.out[3]).toMatch(/^hnh_[A-Za-z0-9_-]+$/);
    expect(first.out[4]).toContain('npm run token:create -- --role FINANCE');
    expect((await COMMANDS['db:migrate'](ctx, {})).out).toEqual(['Database is up to date.']);
    expect(await readHubInstance(db.dataSource)).toMatchObject({ mode: 'REAL', laCode: 886 });
  });
});

describe('npm run db:reset -- --empty', () => {
  const RESET = path.resolve(__dirname, '../../dist/server/scripts/reset.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hnh-reset-'));
  const run = (args: string[], extra: Record<string, string> = {}) =>
    spawnSync(process.execPath, [RESET, ...args], {
      env: { ...process.env, HUB_DATA_DIR: dir, DATABASE_URL: '', LOG_LEVEL: 'warn', ...extra },
      encoding: 'utf8',
      timeout: 60000,
    });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('wipes a demo folder into an empty real hub, refusing while a hub holds the folder', async () => {
    // A demo folder, as `npm start` leaves it (marked DEMO, some data, the demo tokens file; the whole demo is slow on disk).
    const embedded = await startEmbedded(dir);
    const ds = createDataSource({ url: embedded.url, poolSize: 1 });
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    await markDemo(ds, LA);
    await ds.query(`INSERT INTO area (code, name) VALUES ('NORTH', 'North Kent')`);
    await ds.query(
      `INSERT INTO api_token (name, role, token_hash, prefix) VALUES ('Demo finance officer', 'FINANCE', 'x', 'hnh_demo')`,
    );
    fs.writeFileSync(path.join(dir, 'demo-tokens.json'), '{}');
    await ds.destroy();
    await embedded.stop();

    expect(run([]).stderr).toContain('usage: npm run db:reset -- --empty');
    const pg = run(['--empty'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' });
    expect(pg.status).toBe(1);
    expect(pg.stderr).toContain('DATABASE_URL is set: db:reset wipes only the embedded database.');

    const held = await lockFolder(dir);
    try {
      const r = run(['--empty']);
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe(
        `high-needs-hub: A hub (PID ${process.pid}) is running on the data folder ${dir}: stop it first, then run npm run db:reset -- --empty again.`,
      );
    } finally {
      await held.release();
    }

    const r = run(['--empty']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      new RegExp(
        `^Wiped the embedded database in ${dir} and migrated an empty one \\(\\d+ migrations\\) for LA 886 Kent\\.$`,
      ),
    );
    expect(lines[1]).toBe('  Finance bootstrap token (shown once, store it now; it is not printed again):');
    expect(lines[2]).toMatch(/^hnh_[A-Za-z0-9_-]+$/);
    expect(fs.existsSync(path.join(dir, 'demo-tokens.json'))).toBe(false);

    const after = await startEmbedded(dir);
    const ds2 = createDataSource({ url: after.url, poolSize: 1 });
    try {
      await ds2.initialize();
      expect(await readHubInstance(ds2)).toMatchObject({ mode: 'REAL', laCode: 886 });
      expect(
        await ds2.query(
          `SELECT (SELECT count(*)::int FROM area) AS areas, (SELECT count(*)::int FROM api_token WHERE name LIKE 'Bootstrap%') AS tokens,
                  (SELECT count(*)::int FROM api_token) AS "allTokens"`,
        ),
      ).toEqual([{ areas: 0, tokens: 1, allTokens: 1 }]);
    } finally {
      await ds2.destroy();
      await after.stop();
    }
  }, 120000);

  it('refuses a folder that is not a hub data folder', () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'hnh-notahub-'));
    fs.writeFileSync(path.join(other, 'thesis.docx'), 'precious');
    try {
      const r = spawnSync(process.execPath, [RESET, '--empty'], {
        env: { ...process.env, HUB_DATA_DIR: other, DATABASE_URL: '' },
        encoding: 'utf8',
      });
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe(
        `high-needs-hub: ${other} does not look like a hub data folder (it holds thesis.docx): nothing wiped. Check HUB_DATA_DIR.`,
      );
      expect(fs.readFileSync(path.join(other, 'thesis.docx'), 'utf8')).toBe('precious');
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });
});
