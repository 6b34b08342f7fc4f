import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { startTestDatabase, TestDatabase } from '../helpers/db';
import { Role, Viewer } from '../../server/auth/roles';
import { importGias, GiasSchool } from '../../server/modules/imports/gias';
import { giasRowOf, GiasRow, GIAS_HEADER, writeGiasSample } from '../../server/modules/imports/gias-sample';
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
  db = await startTestDatabase();
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
      ['OpenDate', '31-02-2020', 'must be a date dd-mm-yyyy'],
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
