import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import type { DataSource } from 'typeorm';
import { startTestDatabase, TestDatabase } from '../helpers/db';
import { startTestHub, TestHub } from '../helpers/hub';
import { metricValue } from '../helpers/metrics';
import { assertServerBuilt } from '../helpers/build';
import { importGiasLinks, GiasLinksOptions } from '../../server/modules/imports/gias-links';
import { Role, Viewer } from '../../server/auth/roles';
import { importGias, GiasSchool } from '../../server/modules/imports/gias';
import {
  giasRowOf,
  GiasRow,
  GIAS_HEADER,
  LinkRow,
  registerScenario,
  writeGiasSample,
  writeLinksSample,
} from '../../server/modules/imports/gias-sample';
import { SCHOOL_COLUMNS } from '../../server/modules/school/school.sql';
import { FileRejected } from '../../server/modules/imports/report';

const finance: Viewer = {
  subject: 'test:finance',
  name: 'Test finance officer',
  role: Role.FINANCE,
  communityCode: null,
  via: 'token',
};
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hnh-gias-'));
let db: TestDatabase;
let kent: GiasSchool[];

beforeAll(async () => {
  db = await startTestDatabase({ realData: true });
  kent = await db.dataSource.query(`SELECT ${SCHOOL_COLUMNS} FROM school s ORDER BY urn`);
});
afterAll(async () => {
  await db?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const run = (file: string, extra: Partial<Parameters<typeof importGias>[2]> = {}) =>
  importGias(db.dataSource, fs.createReadStream(file), {
    la: 886,
    viewer: finance,
    source: 'IMPORT',
    fileName: path.basename(file),
    ...extra,
  });
const schoolCount = async () => (await db.dataSource.query(`SELECT count(*)::int AS n FROM school`))[0].n;
const auditCount = async () =>
  (await db.dataSource.query(`SELECT count(*)::int AS n FROM audit_log WHERE entity = 'IMPORT'`))[0].n;
const openPrimaries = () => kent.filter((s) => s.status === 'OPEN' && s.phase === 'PRIMARY');

async function sample(
  name: string,
  laRows: GiasRow[],
  totalRows = 2000,
  opts: { header?: string[]; encoding?: string } = {},
) {
  const file = path.join(dir, name);
  await writeGiasSample(file, { laRows, totalRows, header: opts.header });
  if (opts.encoding)
    fs.writeFileSync(file, iconv.encode(iconv.decode(fs.readFileSync(file), 'win1252'), opts.encoding));
  return file;
}

describe('GIAS import of a national-size file', () => {
  let file: string;
  let renamed: GiasSchool, closedInFile: GiasSchool, missing: GiasSchool;
  const NEW_URN = 151234;
  let fundingOfMissing: number;

  beforeAll(async () => {
    [renamed, closedInFile, missing] = openPrimaries();
    fundingOfMissing = (
      await db.dataSource.query(`SELECT count(*)::int AS n FROM school_term_funding WHERE school_urn = $1`, [
        missing.urn,
      ])
    )[0].n;
    const usedEstabs = new Set(kent.map((s) => s.laestab % 10000));
    const freeEstab = [...Array(8999).keys()].map((i) => 9998 - i).find((n) => !usedEstabs.has(n))!;
    const rows = kent
      .filter((s) => s.urn !== missing.urn)
      .map((s) => {
        const row = giasRowOf(s);
        if (s.urn === renamed.urn) row.EstablishmentName = 'St Mary’s Church of England Primary School, Faversham';
        if (s.urn === closedInFile.urn)
          Object.assign(row, { 'EstablishmentStatus (name)': 'Closed', CloseDate: '31-08-2026' });
        return row;
      });
    rows.push(
      giasRowOf({
        ...kent[0],
        urn: NEW_URN,
        laestab: 8860000 + freeEstab,
        name: 'Sainte-Thérèse, Catholic Primary School',
        phase: 'PRIMARY' as never,
        type: 'ACADEMY' as never,
        establishmentType: 'Academy converter',
        status: 'OPEN' as never,
        openDate: '2025-09-01',
        closeDate: null,
        districtCode: 'E07000105',
        percentFsm: '12.5',
        pupilsOnRoll: 210,
      }),
      {
        ...giasRowOf({ ...kent[0], urn: 151235, laestab: 8866001, name: 'Kent College, Canterbury' }),
        'TypeOfEstablishment (name)': 'Other independent school',
      },
    );
    file = await sample('edubasealldata20260115.csv', rows, 50_000);
  });

  it('lands the Kent rows: one added, one renamed, one closed in the file and one missing closed, the rest unchanged', async () => {
    const before = await schoolCount();
    const report = await run(file);
    expect(report.errors).toEqual([]);
    expect(report).toMatchObject({
      applied: true,
      rowsRead: 50_000,
      rowsForLa: kent.length + 1,
      added: 1,
      updated: 1,
      closed: 2,
      rejected: 0,
    });
    expect(report.unchanged).toBe(kent.length - 3);
    expect(report.skipped).toEqual({ 'Other independent school': 1 });
    expect(await schoolCount()).toBe(before + 1);

    const [added] = await db.dataSource.query(`SELECT ${SCHOOL_COLUMNS} FROM school s WHERE urn = $1`, [NEW_URN]);
    expect(added).toMatchObject({
      name: 'Sainte-Thérèse, Catholic Primary School',
      type: 'ACADEMY',
      status: 'OPEN',
      openDate: '2025-09-01',
      percentFsm: '12.50',
      pupilsOnRoll: 210,
    });
    const [r] = await db.dataSource.query(`SELECT name FROM school WHERE urn = $1`, [renamed.urn]);
    expect(r.name).toBe('St Mary’s Church of England Primary School, Faversham');
    const closed = await db.dataSource.query(
      `SELECT urn, status, close_date AS "closeDate" FROM school WHERE urn = ANY($1::int[]) ORDER BY urn`,
      [[closedInFile.urn, missing.urn]],
    );
    expect(closed).toEqual(
      [
        { urn: closedInFile.urn, status: 'CLOSED', closeDate: '2026-08-31' },
        // A school the register no longer lists closes on the day of the import (its memberships end then).
        { urn: missing.urn, status: 'CLOSED', closeDate: missing.closeDate ?? new Date().toISOString().slice(0, 10) },
      ].sort((a, b) => a.urn - b.urn),
    );
    const [audit] = await db.dataSource.query(
      `SELECT actor, source, action, after FROM audit_log WHERE entity = 'IMPORT' ORDER BY id DESC LIMIT 1`,
    );
    expect(audit).toMatchObject({ actor: 'test:finance', source: 'IMPORT', action: 'IMPORT_GIAS' });
    expect(audit.after.summary).toEqual({ added: 1, updated: 1, closed: 2, unchanged: kent.length - 3 });
    const byUrn = (a: [number, string], b: [number, string]) => a[0] - b[0];
    expect(audit.after.schools.map((s: any) => [s.urn, s.action]).sort(byUrn)).toEqual(
      (
        [
          [NEW_URN, 'ADDED'],
          [renamed.urn, 'UPDATED'],
          [closedInFile.urn, 'CLOSED'],
          [missing.urn, 'CLOSED'],
        ] as [number, string][]
      ).sort(byUrn),
    );
  });

  it('changes nothing when the same file is imported again', async () => {
    const audits = await auditCount();
    const snapshot = await db.dataSource.query(`SELECT ${SCHOOL_COLUMNS} FROM school s ORDER BY urn`);
    const report = await run(file);
    expect(report).toMatchObject({
      applied: false,
      added: 0,
      updated: 0,
      closed: 0,
      rejected: 0,
      unchanged: kent.length + 1 - 1,
    });
    expect(await db.dataSource.query(`SELECT ${SCHOOL_COLUMNS} FROM school s ORDER BY urn`)).toEqual(snapshot);
    expect(await auditCount()).toBe(audits);
  });

  it('keeps a school the register no longer lists, closed, with its funding', async () => {
    const [row] = await db.dataSource.query(
      `SELECT count(*)::int AS n FROM school_term_funding WHERE school_urn = $1`,
      [missing.urn],
    );
    const [s] = await db.dataSource.query(`SELECT status FROM school WHERE urn = $1`, [missing.urn]);
    expect(s.status).toBe('CLOSED');
    expect(fundingOfMissing).toBeGreaterThan(0);
    expect(row.n).toBe(fundingOfMissing);
  });
});

describe('GIAS files that are refused, with nothing imported', () => {
  let current: GiasSchool[];
  beforeAll(async () => {
    current = await db.dataSource.query(`SELECT ${SCHOOL_COLUMNS} FROM school s ORDER BY urn`);
  });
  const rowsNow = () => current.map((s) => giasRowOf(s));
  afterEach(async () => {
    expect(await db.dataSource.query(`SELECT ${SCHOOL_COLUMNS} FROM school s ORDER BY urn`)).toEqual(current);
  });

  it('rejects a URN that appears twice, naming both lines', async () => {
    const rows = rowsNow();
    const dup = { ...rows[10], EstablishmentName: 'Copy' };
    rows.push(dup);
    const report = await run(await sample('dup.csv', rows));
    expect(report.applied).toBe(false);
    expect(report.rejected).toBe(2);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatchObject({ column: 'URN', value: rows[10].URN });
    expect(report.errors[0].reason).toMatch(
      new RegExp(`URN ${rows[10].URN} appears twice, on lines \\d+ and ${report.errors[0].line}`),
    );
    expect(report.message).toMatch(/^Nothing imported: 1 problem in 2 rows/);
  });

  it('reports every bad value with its line, column, value and reason', async () => {
    const rows = rowsNow();
    rows[3] = { ...rows[3], OpenDate: '31-02-2020' };
    rows[4] = { ...rows[4], PercentageFSM: 'lots', 'DistrictAdministrative (code)': 'Dover' };
    rows[5] = { ...rows[5], 'EstablishmentStatus (name)': 'Opened' };
    const report = await run(await sample('bad.csv', rows));
    expect(report.applied).toBe(false);
    expect(report.errors.map((e) => [e.column, e.value, e.reason])).toEqual([
      ['OpenDate', '31-02-2020', 'must be a date, YYYY-MM-DD or DD/MM/YYYY (e.g. 2026-09-01)'],
      ['DistrictAdministrative (code)', 'Dover', 'must be the ONS code of a district, e.g. E07000105'],
      ['PercentageFSM', 'lots', 'must be a percentage from 0 to 100'],
      [
        'EstablishmentStatus (name)',
        'Opened',
        expect.stringMatching(/^is not a GIAS establishment status \(Open; Closed; /),
      ],
    ]);
    expect(new Set(report.errors.map((e) => e.line)).size).toBe(3);
    expect(report.errors.every((e) => e.line > 1)).toBe(true);
  });

  it('refuses a file without a required column, naming it', async () => {
    const header = GIAS_HEADER.filter((h) => h !== 'EstablishmentStatus (name)');
    const err = await run(await sample('nocol.csv', rowsNow(), 500, { header })).catch((e) => e);
    expect(err).toBeInstanceOf(FileRejected);
    expect(err.message).toMatch(/lacks the column "EstablishmentStatus \(name\)" \(line 1\)/);
  });

  it('refuses a UTF-8 file read as Windows-1252, naming the mangled cells', async () => {
    const rows = rowsNow();
    rows[0] = { ...rows[0], EstablishmentName: 'St Mary’s Primary School' };
    const report = await run(await sample('utf8.csv', rows, 500, { encoding: 'utf8' }));
    expect(report.applied).toBe(false);
    expect(report.errors[0]).toMatchObject({ column: 'EstablishmentName', value: 'St Maryâ€™s Primary School' });
    expect(report.errors[0].reason).toMatch(/UTF-8 text read as Windows-1252/);
  });

  it('reads a UTF-8 file that starts with a byte order mark as UTF-8', async () => {
    const file = await sample('bom.csv', rowsNow(), 500);
    const text = iconv.decode(fs.readFileSync(file), 'win1252');
    fs.writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]));
    const report = await run(file);
    expect(report).toMatchObject({ errorCount: 0, added: 0, updated: 0, closed: 0, unchanged: current.length });
  });

  it('refuses an XLSX or binary file', async () => {
    const xlsx = path.join(dir, 'x.csv');
    fs.writeFileSync(xlsx, Buffer.from('504b0304140000000800', 'hex'));
    await expect(run(xlsx)).rejects.toThrow(/XLSX or ZIP archive, not the GIAS CSV/);
    await expect(
      importGias(db.dataSource, Readable.from([Buffer.from([1, 0, 2, 3])]), {
        la: 886,
        viewer: finance,
        source: 'API',
        fileName: 'b',
      }),
    ).rejects.toThrow(/binary/);
  });

  it('refuses a file that would close a large share of the county (a truncated download)', async () => {
    const err = await run(await sample('half.csv', rowsNow().slice(0, 200), 1000)).catch((e) => e);
    expect(err).toBeInstanceOf(FileRejected);
    expect(err.message).toMatch(/would close \d+ of \d+ open schools in LA 886 .* is it truncated/);
  });

  it('refuses a file with no rows for the local authority (wrong --la)', async () => {
    await expect(run(await sample('none.csv', rowsNow(), 1000), { la: 990 })).rejects.toThrow(
      /no establishments of LA 990/,
    );
  });

  it('refuses a CSV with a broken quote, naming the line', async () => {
    const file = path.join(dir, 'quote.csv');
    const blank = GIAS_HEADER.map(() => '');
    const good = [...blank];
    good[0] = '100001';
    const broken = [...blank];
    broken[0] = '100002';
    broken[4] = '"Unclosed, School';
    fs.writeFileSync(
      file,
      [GIAS_HEADER.join(','), good.join(','), broken.join(','), good.join(',')].join('\r\n') + '\r\n',
    );
    await expect(run(file)).rejects.toThrow(/not valid CSV at line \d+/);
  });

  it('creates no district without a name, and names the line that lacks it', async () => {
    const districts = await db.dataSource.query(`SELECT ons_code, name FROM district ORDER BY ons_code`);
    const rows = rowsNow();
    rows[3] = { ...rows[3], 'DistrictAdministrative (code)': 'E07000999', 'DistrictAdministrative (name)': '' };
    const report = await run(await sample('noname.csv', rows));
    expect(report.applied).toBe(false);
    expect(report.errors).toEqual([
      {
        line: expect.any(Number),
        column: 'DistrictAdministrative (name)',
        value: '',
        reason: 'is blank, and the hub does not hold district E07000999 yet: give its name',
      },
    ]);
    expect(report.districts).toEqual({ added: [], renamed: [] });
    expect(await db.dataSource.query(`SELECT ons_code, name FROM district ORDER BY ons_code`)).toEqual(districts);
  });

  it('refuses an open school on the LAESTAB of a school the file lists, still open, under another LA', async () => {
    const rows = rowsNow();
    const open = rows.filter((r) => r['EstablishmentStatus (name)'] === 'Open');
    const moved = open[0];
    moved['LA (code)'] = '887';
    moved['LA (name)'] = 'Medway';
    rows.push({
      ...open[1],
      URN: '152999',
      EstablishmentNumber: moved.EstablishmentNumber,
      EstablishmentName: 'Newcomer Academy',
    });
    const report = await run(await sample('moved-clash.csv', rows));
    expect(report.applied).toBe(false);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatchObject({ column: 'EstablishmentNumber', value: moved.EstablishmentNumber });
    expect(report.errors[0].reason).toMatch(
      new RegExp(
        `is held in the hub by open URN ${moved.URN}, which the file lists under another local authority \\(line \\d+\\) and does not close: two open schools cannot share a LAESTAB`,
      ),
    );
  });

  it('lets only Finance import the register', async () => {
    await expect(
      importGias(db.dataSource, Readable.from(['URN\n']), {
        la: 886,
        viewer: { ...finance, role: Role.ANALYST },
        source: 'API',
        fileName: 'x',
      }),
    ).rejects.toThrow(/Only Finance/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Real data, as GIAS publishes it: the register and its links file, from an empty hub and over the demo.
// ---------------------------------------------------------------------------------------------------------------

const runOn = (ds: DataSource, file: string, extra: Partial<Parameters<typeof importGias>[2]> = {}) =>
  importGias(ds, fs.createReadStream(file), {
    la: 886,
    viewer: finance,
    source: 'IMPORT',
    fileName: path.basename(file),
    ...extra,
  });
const linksOn = (ds: DataSource, file: string, extra: Partial<GiasLinksOptions> = {}) =>
  importGiasLinks(ds, fs.createReadStream(file), {
    viewer: finance,
    source: 'IMPORT',
    fileName: path.basename(file),
    ...extra,
  });
function linksFile(name: string, rows: LinkRow[], others = 300) {
  const file = path.join(dir, name);
  writeLinksSample(file, rows, others);
  return file;
}

/** A small county of the hub's own: two districts, primaries and a secondary, as GIAS lists them. */
function county(): GiasSchool[] {
  const out: GiasSchool[] = [];
  for (let i = 0; i < 24; i++) {
    out.push({
      urn: 160001 + i,
      laestab: 8862101 + i,
      name: `${i % 2 ? 'Dover' : 'Ashford'} ${['Oaks', 'Vale', 'Green', 'Hill'][i % 4]} ${i + 1} Primary School`,
      phase: (i === 23 ? 'SECONDARY' : 'PRIMARY') as never,
      type: 'MAINTAINED' as never,
      establishmentType: 'Community school',
      status: 'OPEN' as never,
      openDate: '1975-09-01',
      closeDate: null,
      districtCode: i % 2 ? 'E07000108' : 'E07000105',
      postcode: i % 2 ? 'CT16 1AA' : 'TN23 1AA',
      ukprn: 10000001 + i,
      pupilsOnRoll: 200 + i * 10,
      percentFsm: `${10 + i}.5`,
      srpCapacity: null,
      srpOnRoll: null,
    });
  }
  // Closed long ago: listed by GIAS, imported closed.
  out.push({
    ...out[0],
    urn: 160099,
    laestab: 8862199,
    name: 'Old Ashford Board School',
    status: 'CLOSED' as never,
    closeDate: '2010-07-31',
  });
  return out;
}

const PREDECESSOR_FIELDS = `predecessors { urn linkType establishedDate school { urn name status closeDate } }
  successors { urn linkType establishedDate school { urn name status openDate } }`;

describe('GIAS as the DfE publishes it, from an empty hub', () => {
  let empty: TestDatabase;
  let schools: GiasSchool[];
  let month1: { rows: GiasRow[]; links: LinkRow[] };
  let compiledHub: TestHub | null = null;
  let resolverHub: TestHub | null = null;
  // Month 1: 160001 converted last year (closed 31-08-2025; its academy 170001 keeps its LAESTAB).
  const A1 = 170001;
  // Month 2: 160003 converts on 01-09-2026 (its academy follows its community); 160005 too, told not to follow.
  const A2 = 170003;
  const A3 = 170005;

  beforeAll(async () => {
    empty = await startTestDatabase({ seed: false });
    schools = county();
    month1 = registerScenario(schools, {
      conversions: [{ urn: 160001, successorUrn: A1, date: '2025-09-01' }],
      proposed: [{ urn: 170099, name: 'Ashford New Free School', districtCode: 'E07000105' }],
      suppressedFsm: [160007],
      blankFsm: [160008],
    });
  }, 60_000);
  afterAll(async () => {
    await compiledHub?.hub.stop();
    await resolverHub?.hub.stop();
    await empty?.stop();
  });

  it('imports the register into a hub with no districts, creating them from DistrictAdministrative, with every row noted', async () => {
    expect((await empty.dataSource.query(`SELECT count(*)::int AS n FROM district`))[0].n).toBe(0);
    const report = await runOn(empty.dataSource, await sample('edubasealldata20260801.csv', month1.rows, 3000));
    expect(report.errors).toEqual([]);
    expect(report).toMatchObject({ applied: true, added: 26, updated: 0, closed: 0, unchanged: 0 });
    expect(report.districts).toEqual({
      added: [
        { code: 'E07000105', name: 'Ashford' },
        { code: 'E07000108', name: 'Dover' },
      ],
      renamed: [],
    });
    expect(
      await empty.dataSource.query(
        `SELECT ons_code AS code, name, area_code AS "areaCode" FROM district ORDER BY ons_code`,
      ),
    ).toEqual([
      { code: 'E07000105', name: 'Ashford', areaCode: null },
      { code: 'E07000108', name: 'Dover', areaCode: null },
    ]);
    // The converted school and its academy share LAESTAB 8862101: closed and open.
    expect(
      await empty.dataSource.query(
        `SELECT urn, laestab, status, to_char(close_date, 'YYYY-MM-DD') AS close, to_char(open_date, 'YYYY-MM-DD') AS open FROM school WHERE laestab = 8862101 ORDER BY urn`,
      ),
    ).toEqual([
      { urn: 160001, laestab: 8862101, status: 'CLOSED', close: '2025-08-31', open: '1975-09-01' },
      { urn: A1, laestab: 8862101, status: 'OPEN', close: null, open: '2025-09-01' },
    ]);
    const notes = report.notes.map((n) => [n.column, n.value, n.reason.replace(/ "[^"]*"/, '')]);
    expect(notes).toEqual(
      expect.arrayContaining([
        ['PercentageFSM', 'SUPP', 'is suppressed in GIAS: imported as no figure'],
        ['PercentageFSM', '', 'is blank: imported as no figure'],
        [
          'EstablishmentNumber',
          '',
          'URN 170099 is proposed to open and has no establishment number yet: not imported; it will be once GIAS gives it one',
        ],
      ]),
    );
    expect(report.noteCount).toBe(3);
    expect(report.notes.every((n) => n.line > 1)).toBe(true);
    const fsm = await empty.dataSource.query(
      `SELECT urn, percent_fsm AS f FROM school WHERE urn IN (160007, 160008, 160009) ORDER BY urn`,
    );
    expect(fsm).toEqual([
      { urn: 160007, f: null },
      { urn: 160008, f: null },
      { urn: 160009, f: '18.50' },
    ]);
    expect((await empty.dataSource.query(`SELECT count(*)::int AS n FROM school WHERE urn = 170099`))[0].n).toBe(0);
    expect(report.message).toMatch(/2 districts created \(Ashford, Dover\)\. 3 rows noted/);
  });

  it("imports the links file: keeps the links between the hub's schools, notes the others, reports the conversion", async () => {
    const unknown = {
      URN: String(A1),
      LinkURN: '109999',
      LinkName: 'Elsewhere School',
      LinkType: 'Predecessor',
      LinkEstablishedDate: '01-09-1990',
    };
    const file = linksFile('links_edubasealldata20260801.csv', [...month1.links, unknown]);
    const report = await linksOn(empty.dataSource, file);
    expect(report.errors).toEqual([]);
    expect(report).toMatchObject({ applied: true, kept: 2, added: 2, removed: 0, changed: 0, notForHub: 300 });
    expect(report.notes).toEqual([
      {
        line: expect.any(Number),
        column: 'LinkURN',
        value: '109999',
        reason: expect.stringMatching(/^is not a school the hub holds .*: link not kept$/),
      },
    ]);
    // No memberships yet (communities are imported after the register): the conversion is reported, not followed.
    expect(report.conversions).toEqual([
      expect.objectContaining({
        predecessorUrn: 160001,
        successorUrn: A1,
        linkType: 'Predecessor',
        date: '2025-09-01',
        predecessorCommunity: null,
        action: 'PREDECESSOR_IN_NO_COMMUNITY',
      }),
    ]);
    const rows = await empty.dataSource.query(
      `SELECT urn, link_urn AS "linkUrn", link_type AS "linkType", to_char(established_date, 'YYYY-MM-DD') AS d, source_kind AS kind, source_file AS file, source_by AS by
         FROM school_link ORDER BY urn`,
    );
    expect(rows).toEqual([
      {
        urn: 160001,
        linkUrn: A1,
        linkType: 'Successor',
        d: '2025-09-01',
        kind: 'IMPORTED',
        file: 'links_edubasealldata20260801.csv',
        by: finance.name,
      },
      {
        urn: A1,
        linkUrn: 160001,
        linkType: 'Predecessor',
        d: '2025-09-01',
        kind: 'IMPORTED',
        file: 'links_edubasealldata20260801.csv',
        by: finance.name,
      },
    ]);
    const [audit] = await empty.dataSource.query(
      `SELECT action, after FROM audit_log WHERE entity = 'IMPORT' ORDER BY id DESC LIMIT 1`,
    );
    expect(audit.action).toBe('IMPORT_GIAS_LINKS');
    expect(audit.after.summary).toEqual({ added: 2, changed: 0, removed: 0, unchanged: 0 });
    // The same file again changes nothing and is not audited again.
    const again = await linksOn(empty.dataSource, file);
    expect(again).toMatchObject({ applied: false, added: 0, unchanged: 2, conversions: [] });
  });

  it('a month later: one more conversion, a school gone to another LA, the successor following its community', async () => {
    // Communities and memberships, as the communities import (not this one) would make them.
    await empty.dataSource.query(`INSERT INTO area (code, name) VALUES ('SOUTH', 'South Kent')`);
    await empty.dataSource.query(`UPDATE district SET area_code = 'SOUTH'`);
    await empty.dataSource.query(
      `INSERT INTO community (code, name, primary_district_code, area_code, pcn_name) VALUES
         ('ASH-01', 'Ashford North', 'E07000105', 'SOUTH', 'Ashford PCN'), ('ASH-02', 'Ashford South', 'E07000105', 'SOUTH', 'Ashford PCN')`,
    );
    await empty.dataSource.query(
      `INSERT INTO community_membership (school_urn, community_code, effective_from) VALUES
         (160003, 'ASH-01', '2020-09-01'), (160005, 'ASH-02', '2020-09-01'), (${A1}, 'ASH-01', '2025-09-01')`,
    );
    const movedSchool = schools.find((s) => s.urn === 160011)!;
    const closedThere = schools.find((s) => s.urn === 160013)!;
    const month2 = registerScenario(
      schools.map((s) => (s.urn === 160001 ? { ...s, status: 'CLOSED' as never, closeDate: '2025-08-31' } : s)),
      {
        conversions: [
          { urn: 160003, successorUrn: A2, date: '2026-09-01' },
          { urn: 160005, successorUrn: A3, date: '2026-09-01' },
        ],
        movedOut: [
          { urn: movedSchool.urn, la: 887, laName: 'Medway' },
          { urn: closedThere.urn, la: 887, laName: 'Medway' },
        ],
      },
    );
    // Last month's academy is still listed; the school closed in Medway says so.
    const a1Row = month1.rows.find((r) => r.URN === String(A1))!;
    const rows = month2.rows.map((r) =>
      r.URN === String(closedThere.urn) ? { ...r, 'EstablishmentStatus (name)': 'Closed', CloseDate: '31-12-2026' } : r,
    );
    const report = await runOn(empty.dataSource, await sample('edubasealldata20260901.csv', [...rows, a1Row], 3000));
    expect(report.errors).toEqual([]);
    expect(report).toMatchObject({ applied: true, added: 2, closed: 3 });
    expect(report.movedOut).toEqual(
      [
        { urn: 160011, line: expect.any(Number), la: '887', laName: 'Medway', action: 'LEFT_AS_IS' },
        { urn: 160013, line: expect.any(Number), la: '887', laName: 'Medway', action: 'CLOSED' },
      ].sort((a, b) => a.line - b.line) as never,
    );
    expect(report.notes.filter((n) => n.column === 'LA (code)').map((n) => n.reason)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^URN 160011 ".*" is now listed under LA 887 \(Medway\): not counted as missing, and left as it is/,
        ),
        expect.stringMatching(
          /^URN 160013 ".*" is now listed under LA 887 \(Medway\): GIAS closes it, so the hub closes it on 2026-12-31$/,
        ),
      ]),
    );
    expect(
      await empty.dataSource.query(
        `SELECT urn, status, to_char(close_date, 'YYYY-MM-DD') AS close FROM school WHERE urn IN (160003, 160011, 160013) ORDER BY urn`,
      ),
    ).toEqual([
      { urn: 160003, status: 'CLOSED', close: '2026-08-31' },
      { urn: 160011, status: 'OPEN', close: null },
      { urn: 160013, status: 'CLOSED', close: '2026-12-31' },
    ]);

    // The links file, through the hub's own door, with one successor told not to follow.
    await empty.dataSource.query(`SELECT 1`);
    compiledHub = await startTestHub({ db: empty });
    resolverHub = await startTestHub({ db: empty, compiledReads: false });
    const file = linksFile('links_edubasealldata20260901.csv', [...month1.links, ...month2.links]);
    const res = await fetch(`${compiledHub.url}/import/gias-links?noFollow=${A3}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${compiledHub.tokens.FINANCE}`,
        'content-type': 'text/csv',
        'x-file-name': path.basename(file),
      },
      body: fs.readFileSync(file),
    });
    expect(res.status).toBe(200);
    const { report: links } = await res.json();
    expect(links).toMatchObject({ applied: true, kept: 6, added: 4, unchanged: 2, removed: 0 });
    expect(
      links.conversions.map((c: any) => [
        c.predecessorUrn,
        c.successorUrn,
        c.date,
        c.predecessorCommunity,
        c.successorCommunity,
        c.action,
      ]),
    ).toEqual([
      [160003, A2, '2026-09-01', 'ASH-01', 'ASH-01', 'JOINED'],
      [160005, A3, '2026-09-01', 'ASH-02', null, 'NOT_FOLLOWED'],
    ]);
    expect(links.conversions[0].detail).toMatch(
      /the predecessor was in ASH-01, which the successor joins from 2026-09-01/,
    );
    expect(
      await empty.dataSource.query(
        `SELECT school_urn AS urn, community_code AS c, to_char(effective_from, 'YYYY-MM-DD') AS f, to_char(effective_to, 'YYYY-MM-DD') AS t
           FROM community_membership WHERE school_urn IN (160003, 160005, ${A2}, ${A3}) ORDER BY school_urn, effective_from`,
      ),
    ).toEqual([
      // Closing the predecessor ended its membership on its close date; the academy takes over from the conversion.
      { urn: 160003, c: 'ASH-01', f: '2020-09-01', t: '2026-08-31' },
      { urn: 160005, c: 'ASH-02', f: '2020-09-01', t: '2026-08-31' },
      { urn: A2, c: 'ASH-01', f: '2026-09-01', t: null },
    ]);
    // Nothing carries money across URNs: the academies hold no figures of their own yet.
    expect(
      (
        await empty.dataSource.query(
          `SELECT count(*)::int AS n FROM school_term_funding WHERE school_urn IN (${A1}, ${A2}, ${A3})`,
        )
      )[0].n,
    ).toBe(0);
    // A conversion is acted on once: importing the same links again leaves the memberships to Finance.
    const again = await linksOn(empty.dataSource, file);
    expect(again).toMatchObject({ applied: false, added: 0, unchanged: 6, conversions: [] });
  });

  it('answers School.predecessors and successors the same on the compiled and the resolver paths', async () => {
    const one = `query Links($u: Int!) { school(urn: $u) { urn name ${PREDECESSOR_FIELDS} community(asOf: "2026-10-01") { code } } }`;
    const [a, b] = await Promise.all([compiledHub!.gql(one, { u: A2 }), resolverHub!.gql(one, { u: A2 })]);
    expect(a.body.errors).toBeUndefined();
    expect(JSON.stringify(a.body)).toBe(JSON.stringify(b.body));
    expect(a.body.data.school).toEqual({
      urn: A2,
      name: 'Ashford Green 3 Primary Academy',
      predecessors: [
        {
          urn: 160003,
          linkType: 'Predecessor',
          establishedDate: '2026-09-01',
          school: { urn: 160003, name: 'Ashford Green 3 Primary School', status: 'CLOSED', closeDate: '2026-08-31' },
        },
      ],
      successors: [],
      community: { code: 'ASH-01' },
    });
    const list = `query LinkList { schools(first: 1000) { totalCount nodes { urn ${PREDECESSOR_FIELDS} } } }`;
    const family = { name: 'hub_graphql_executions_total', type: 'counter' } as const;
    const compiledRuns = () =>
      metricValue(compiledHub!.url, family, 'hub_graphql_executions_total{path="compiled"}', { mustExist: true });
    const before = await compiledRuns();
    const [c, r] = await Promise.all([compiledHub!.gql(list), resolverHub!.gql(list)]);
    expect(c.body.errors).toBeUndefined();
    expect(JSON.stringify(c.body)).toBe(JSON.stringify(r.body));
    expect(await compiledRuns()).toBe(before + 1);
    const byUrn = new Map(c.body.data.schools.nodes.map((n: any) => [n.urn, n]));
    // The old school's side: its successor, named from its own row ("Successor").
    expect((byUrn.get(160001) as any).successors).toEqual([
      {
        urn: A1,
        linkType: 'Successor',
        establishedDate: '2025-09-01',
        school: { urn: A1, name: 'Ashford Oaks 1 Primary Academy', status: 'OPEN', openDate: '2025-09-01' },
      },
    ]);
    expect((byUrn.get(160001) as any).predecessors).toEqual([]);
    expect([...byUrn.values()].filter((n: any) => n.predecessors.length).map((n: any) => n.urn)).toEqual([A1, A2, A3]);
  });
  it('a third month: a dry run writes nothing, Finance turns following off, a renamed district, and a link GIAS dropped', async () => {
    const A4 = 170007;
    await empty.dataSource.query(
      `INSERT INTO community_membership (school_urn, community_code, effective_from) VALUES (160007, 'ASH-02', '2020-09-01')`,
    );
    const held: GiasSchool[] = await empty.dataSource.query(`SELECT ${SCHOOL_COLUMNS} FROM school s ORDER BY urn`);
    const month3 = registerScenario(held, { conversions: [{ urn: 160007, successorUrn: A4, date: '2026-10-01' }] });
    const rows = month3.rows.map((r) =>
      r['DistrictAdministrative (code)'] === 'E07000108'
        ? { ...r, 'DistrictAdministrative (name)': 'Dover District' }
        : r,
    );
    const report = await runOn(empty.dataSource, await sample('edubasealldata20261001.csv', rows, 3000));
    expect(report.errors).toEqual([]);
    expect(report).toMatchObject({ applied: true, added: 1, closed: 1 });
    expect(report.districts).toEqual({
      added: [],
      renamed: [{ code: 'E07000108', from: 'Dover', to: 'Dover District' }],
    });
    expect((await empty.dataSource.query(`SELECT name FROM district WHERE ons_code = 'E07000108'`))[0].name).toBe(
      'Dover District',
    );

    const earlier: LinkRow[] = (
      await empty.dataSource.query(
        `SELECT urn, link_urn, link_type, to_char(established_date, 'DD-MM-YYYY') AS d FROM school_link WHERE urn <> ${A1} AND link_urn <> ${A1}`,
      )
    ).map((l: { urn: number; link_urn: number; link_type: string; d: string }) => ({
      URN: String(l.urn),
      LinkURN: String(l.link_urn),
      LinkName: '',
      LinkType: l.link_type,
      LinkEstablishedDate: l.d,
    }));
    // GIAS no longer lists last year's conversion of 160001: its two rows go.
    const file = linksFile('links_edubasealldata20261001.csv', [...earlier, ...month3.links]);
    const state = () =>
      empty.dataSource.query(
        `SELECT (SELECT count(*)::int FROM school_link) AS links, (SELECT count(*)::int FROM community_membership) AS memberships,
                (SELECT count(*)::int FROM school_link WHERE conversion_handled_at IS NOT NULL) AS handled,
                (SELECT count(*)::int FROM audit_log) AS audits`,
      );
    const before = await state();
    const dry = await linksOn(empty.dataSource, file, { dryRun: true });
    expect(dry).toMatchObject({ applied: false, dryRun: true, added: 2, removed: 2, unchanged: 4 });
    expect(dry.conversions.map((c) => [c.successorUrn, c.predecessorCommunity, c.action])).toEqual([
      [A4, 'ASH-02', 'JOINED'],
    ]);
    expect(dry.message).toMatch(/^Dry run: would keep 6 links/);
    expect(await state()).toEqual(before);

    const real = await linksOn(empty.dataSource, file, { followCommunity: false });
    expect(real).toMatchObject({ applied: true, added: 2, removed: 2, unchanged: 4, recomputed: null });
    expect(
      real.conversions.map((c) => [c.successorUrn, c.predecessorCommunity, c.successorCommunity, c.action]),
    ).toEqual([[A4, 'ASH-02', null, 'NOT_FOLLOWED']]);
    expect(
      (await empty.dataSource.query(`SELECT count(*)::int AS n FROM community_membership WHERE school_urn = ${A4}`))[0]
        .n,
    ).toBe(0);
    const q = `query($u: Int!) { school(urn: $u) { predecessors { urn } successors { urn } } }`;
    for (const hub of [compiledHub!, resolverHub!]) {
      expect((await hub.gql(q, { u: A1 })).body.data.school).toEqual({ predecessors: [], successors: [] });
      expect((await hub.gql(q, { u: 160007 })).body.data.school).toEqual({
        predecessors: [],
        successors: [{ urn: A4 }],
      });
    }
  });
});

describe('GIAS links files that are refused, with nothing imported', () => {
  let links: number;
  let held: GiasSchool[];
  beforeAll(async () => {
    held = await db.dataSource.query(
      `SELECT ${SCHOOL_COLUMNS} FROM school s WHERE s.status = 'OPEN' ORDER BY urn LIMIT 3`,
    );
    links = (await db.dataSource.query(`SELECT count(*)::int AS n FROM school_link`))[0].n;
  });
  afterEach(async () => {
    expect((await db.dataSource.query(`SELECT count(*)::int AS n FROM school_link`))[0].n).toBe(links);
  });

  it('reports a bad date and an unknown link type with line, column, value and reason; a link to an unknown URN is noted', async () => {
    const [a, b, c] = held;
    const file = linksFile('links_bad.csv', [
      {
        URN: String(a.urn),
        LinkURN: String(b.urn),
        LinkName: b.name,
        LinkType: 'Predecessor',
        LinkEstablishedDate: '31-02-2024',
      },
      {
        URN: String(b.urn),
        LinkURN: String(c.urn),
        LinkName: c.name,
        LinkType: 'Forerunner',
        LinkEstablishedDate: '01-09-2024',
      },
      {
        URN: String(c.urn),
        LinkURN: '109998',
        LinkName: 'Nowhere School',
        LinkType: 'Successor',
        LinkEstablishedDate: '01-09-2024',
      },
      { URN: String(a.urn), LinkURN: 'abc', LinkName: '', LinkType: 'Successor', LinkEstablishedDate: '' },
    ]);
    const report = await linksOn(db.dataSource, file);
    expect(report.applied).toBe(false);
    expect(report.errors.map((e) => [e.column, e.value, e.reason])).toEqual([
      ['LinkEstablishedDate', '31-02-2024', 'must be a date, YYYY-MM-DD or DD/MM/YYYY (e.g. 2026-09-01)'],
      [
        'LinkType',
        'Forerunner',
        expect.stringMatching(/^is not a GIAS link type \(Predecessor; Predecessor - amalgamated; /),
      ],
      ['LinkURN', 'abc', 'must be a six-digit URN'],
    ]);
    expect(report.errors.every((e) => e.line > 1)).toBe(true);
    expect(new Set(report.errors.map((e) => e.line)).size).toBe(3);
    expect(report.notes).toEqual([
      expect.objectContaining({
        column: 'LinkURN',
        value: '109998',
        reason: expect.stringMatching(/is not a school the hub holds/),
      }),
    ]);
    expect(report.message).toMatch(/^Nothing imported: 3 problems in 3 rows/);
  });

  it('says so when given the establishment file instead of the links file', async () => {
    const err = await linksOn(
      db.dataSource,
      await sample(
        'wrong.csv',
        held.map((s) => giasRowOf(s)),
        100,
      ),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(FileRejected);
    expect(err.message).toMatch(/is the GIAS establishment file \(edubasealldata\), not its links file/);
  });

  it('refuses two open schools in one file that share a LAESTAB, naming both lines', async () => {
    const rows = (await db.dataSource.query(`SELECT ${SCHOOL_COLUMNS} FROM school s ORDER BY urn`)).map(
      (s: GiasSchool) => giasRowOf(s),
    );
    const open = rows.filter((r: GiasRow) => r['EstablishmentStatus (name)'] === 'Open');
    open[1].EstablishmentNumber = open[0].EstablishmentNumber;
    const report = await run(await sample('twin.csv', rows));
    expect(report.applied).toBe(false);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatchObject({ column: 'EstablishmentNumber', value: open[0].EstablishmentNumber });
    expect(report.errors[0].reason).toMatch(
      new RegExp(
        `is also open URN ${open[0].URN}'s, on line \\d+, and this open URN ${open[1].URN}'s, on line ${report.errors[0].line}`,
      ),
    );
  });
});

describe('GIAS conversions over the demo data', () => {
  it('closes the maintained school, opens its academy on the same LAESTAB with no money of its own, and moves the community', async () => {
    const current: GiasSchool[] = await db.dataSource.query(`SELECT ${SCHOOL_COLUMNS} FROM school s ORDER BY urn`);
    const [p] = await db.dataSource.query(
      `SELECT s.urn, m.community_code AS code FROM school s JOIN community_membership m ON m.school_urn = s.urn
        WHERE s.status = 'OPEN' AND s.phase = 'PRIMARY' AND m.effective_to IS NULL AND m.effective_from < '2026-09-01'
          AND EXISTS (SELECT 1 FROM school_term_funding f WHERE f.school_urn = s.urn) ORDER BY s.urn LIMIT 1`,
    );
    const funding = async (urn: number) =>
      db.dataSource.query(
        `SELECT term_code, baseline, protected_amount, community_share, banded_top_up, source_kind FROM school_term_funding WHERE school_urn = $1 ORDER BY term_code`,
        [urn],
      );
    const fundingBefore = (await funding(p.urn)) as { term_code: string }[];
    const academy = 152777;
    const scenario = registerScenario(current, {
      conversions: [{ urn: p.urn, successorUrn: academy, date: '2026-09-01' }],
    });
    const report = await run(await sample('edubasealldata20260902.csv', scenario.rows, 5000));
    expect(report.errors).toEqual([]);
    expect(report).toMatchObject({ applied: true, added: 1, closed: 1 });
    const links = await linksOn(db.dataSource, linksFile('links_demo.csv', scenario.links));
    expect(links.errors).toEqual([]);
    expect(links.conversions).toEqual([
      expect.objectContaining({
        predecessorUrn: p.urn,
        successorUrn: academy,
        predecessorCommunity: p.code,
        successorCommunity: p.code,
        action: 'JOINED',
      }),
    ]);
    expect(links.recomputed?.termsRecomputed.length).toBeGreaterThan(0);
    const [pred, succ] = await db.dataSource.query(
      `SELECT urn, laestab, status FROM school WHERE urn IN ($1, $2) ORDER BY urn`,
      [p.urn, academy],
    );
    expect(pred).toMatchObject({ status: 'CLOSED' });
    expect(succ).toMatchObject({ status: 'OPEN', laestab: pred.laestab });
    // The predecessor keeps its figures for the terms before it closed; the academy inherits none of them.
    const after = (await funding(p.urn)) as { term_code: string }[];
    expect(await funding(academy)).toEqual([]);
    const earlier = new Set(
      (await db.dataSource.query(`SELECT code FROM funding_term WHERE start_date < '2026-09-01'`)).map(
        (t: { code: string }) => t.code,
      ),
    );
    const before = fundingBefore.filter((f) => earlier.has(f.term_code));
    expect(before.length).toBeGreaterThan(0);
    expect(after.filter((f) => earlier.has(f.term_code))).toEqual(before);
  });
});

describe('npm run import:gias -- FILE --links LINKS (the command line, built)', () => {
  const DIST = path.resolve(__dirname, '../../dist/server/scripts');
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'hnh-gias-cli-'));
  const env = {
    ...process.env,
    HUB_DATA_DIR: folder,
    HUB_DEMO: '0',
    DATABASE_URL: '',
    LOG_LEVEL: 'warn',
    HUB_ACTOR: 'gias-cli-test',
  };
  const cli = (script: string, args: string[]) =>
    spawnSync(process.execPath, [path.join(DIST, script), ...args], { env, encoding: 'utf8', timeout: 120_000 });
  beforeAll(() => assertServerBuilt());
  afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

  it('imports the register, then its links; refuses the links when the register is refused, and a bad --no-follow', async () => {
    expect(cli('migrate.js', []).status).toBe(0);
    const scenario = registerScenario(county(), {
      conversions: [{ urn: 160001, successorUrn: 170001, date: '2025-09-01' }],
    });
    const register = await sample('cli-edubasealldata.csv', scenario.rows, 500);
    const links = linksFile('cli-links.csv', scenario.links, 40);
    const ok = cli('import-gias.js', [register, '--links', links]);
    expect(ok.stderr).not.toMatch(/high-needs-hub:/);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(
      /^Imported: added 26, updated 0, closed 0; 0 unchanged\. 2 districts created \(Ashford, Dover\)\./m,
    );
    expect(ok.stdout).toMatch(
      /^Links imported: 2 links between the hub's schools \(added 2, changed 0, removed 0, unchanged 0\); 1 conversion/m,
    );
    expect(ok.stdout).toMatch(/PREDECESSOR_IN_NO_COMMUNITY +170001 ".*" succeeds 160001/);

    const broken = await sample(
      'cli-broken.csv',
      scenario.rows.map((r, i) => (i === 2 ? { ...r, OpenDate: '31-02-2020' } : r)),
      500,
    );
    const refused = cli('import-gias.js', [broken, '--links', links]);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toMatch(/^Nothing imported: 1 problem in 1 row/m);
    expect(refused.stdout).not.toMatch(/Links imported/);

    const badFollow = cli('import-gias.js', [register, '--links', links, '--no-follow', '17000x']);
    expect(badFollow.status).toBe(1);
    expect(badFollow.stdout).toBe(''); // refused before the register is read
    expect(badFollow.stderr).toMatch(/--no-follow takes six-digit successor URNs separated by commas; got "17000x"/);
  }, 300_000);
});
