import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestHub, TestHub } from '../helpers/hub';
import { giasRowOf, writeGiasSample } from '../../server/modules/imports/gias-sample';
import { importGias } from '../../server/modules/imports/gias';
import { SCHOOL_COLUMNS } from '../../server/modules/school/school.sql';
import { DATASETS } from '../../server/modules/data-status/registry';
import { Role } from '../../server/auth/roles';
import { loadFundingInputs } from '../../server/modules/funding/funding-inputs';

let t: TestHub;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hnh-data-status-'));
beforeAll(async () => {
  t = await startTestHub({ realData: true });
});
afterAll(async () => {
  await t?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const q = <T = any>(sql: string, params: unknown[] = []): Promise<T[]> => t.db.dataSource.query(sql, params);
const STATUS = `query($term: String, $fy: String) { dataStatus(term: $term, financialYear: $fy) {
  period communityCode missing
  datasets { key title periodKind rows missing latest { kind file by at rows } sources { kind file by rows } } } }`;
async function status(vars: { term?: string; fy?: string }, token?: string) {
  const r = await t.gql(STATUS, vars, token);
  expect(r.body.errors).toBeUndefined();
  return r.body.data.dataStatus;
}
const dataset = (s: any, key: string) => s.datasets.find((d: any) => d.key === key);

describe('dataStatus on the demo data', () => {
  it('lists every dataset of the registry with the rows held for the term, counted as the tables hold them', async () => {
    const s = await status({ term: 'AUTUMN-2026' });
    expect(s.period).toBe('AUTUMN-2026');
    expect(s.datasets.map((d: any) => d.key)).toEqual(DATASETS.map((d) => d.key));
    const count = async (sql: string) => (await q(sql))[0].n;
    expect(dataset(s, 'pots').rows).toBe(
      await count(`SELECT count(*)::int AS n FROM community_pot WHERE term_code = 'AUTUMN-2026'`),
    );
    expect(dataset(s, 'baselines').rows).toBe(
      await count(`SELECT count(*)::int AS n FROM school_term_funding WHERE term_code = 'AUTUMN-2026'`),
    );
    expect(dataset(s, 'notional-sen').rows).toBe(
      await count(`SELECT count(*)::int AS n FROM notional_sen_factor WHERE financial_year_code = '2026-27'`),
    );
    expect(dataset(s, 'place-numbers').rows).toBe(
      await count(`SELECT count(*)::int AS n FROM place_number WHERE academic_year_code = '2026/27'`),
    );
    expect(dataset(s, 'caseloads').rows).toBe(
      await count(
        `SELECT count(*)::int AS n FROM caseload_count c JOIN school_term st ON st.code = c.period_code WHERE st.funding_term_code = 'AUTUMN-2026'`,
      ),
    );
    expect(dataset(s, 'schools').rows).toBe(await count(`SELECT count(*)::int AS n FROM school`));
    expect(dataset(s, 'safety-valve-reports').rows).toBe(2);
    expect(dataset(s, 'pots').rows).toBeGreaterThan(0);
    // The demo's figures came from its own files: where each came from, as the rows say.
    expect(dataset(s, 'place-numbers').latest).toMatchObject({
      kind: 'IMPORTED',
      file: 'high-needs-places-2026-27.csv',
      by: 'demo data',
    });
    expect(dataset(s, 'pots').latest).toMatchObject({ kind: 'COMPUTED', file: null });
    // Nothing is missing from the demo for this term.
    expect(s.missing).toEqual([]);
  });

  it('counts a financial year over its terms and refuses a period the hub does not hold', async () => {
    const s = await status({ fy: '2026-27' });
    expect(s.period).toBe('2026-27');
    expect(dataset(s, 'pots').rows).toBe(
      (
        await q(
          `SELECT count(*)::int AS n FROM community_pot p JOIN funding_term ft ON ft.code = p.term_code WHERE ft.financial_year_code = '2026-27'`,
        )
      )[0].n,
    );
    const bad = await t.gql(STATUS, { term: 'AUTUMN-1999' });
    expect(bad.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'term' });
    const mismatch = await t.gql(STATUS, { term: 'AUTUMN-2026', fy: '2025-26' });
    expect(mismatch.body.errors[0].message).toMatch('AUTUMN-2026 is in the financial year 2026-27, not 2025-26.');
    const none = await t.gql(STATUS, {});
    expect(none.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });
});

describe('dataStatus says what is missing after rows are deleted', () => {
  let potless: string;
  let specials: number[];
  beforeAll(async () => {
    // Twelve open member schools lose their AUTUMN-2026 baselines; one community its pot; three special schools their places.
    const members: { urn: number }[] = await q(
      `SELECT f.school_urn AS urn FROM school_term_funding f JOIN school s ON s.urn = f.school_urn
        WHERE f.term_code = 'AUTUMN-2026' AND s.status = 'OPEN' ORDER BY f.school_urn LIMIT 12`,
    );
    await q(`DELETE FROM school_term_funding WHERE term_code = 'AUTUMN-2026' AND school_urn = ANY($1::int[])`, [
      members.map((m) => m.urn),
    ]);
    [{ code: potless }] = await q(
      `SELECT community_code AS code FROM community_pot WHERE term_code = 'AUTUMN-2026' ORDER BY community_code DESC LIMIT 1`,
    );
    await q(`DELETE FROM community_pot WHERE term_code = 'AUTUMN-2026' AND community_code = $1`, [potless]);
    specials = (
      await q(
        `SELECT DISTINCT p.school_urn AS urn FROM place_number p JOIN school s ON s.urn = p.school_urn
          WHERE p.academic_year_code = '2026/27' AND s.phase = 'SPECIAL' AND s.status = 'OPEN' ORDER BY 1 LIMIT 3`,
      )
    ).map((r: any) => r.urn);
    await q(`DELETE FROM place_number WHERE academic_year_code = '2026/27' AND school_urn = ANY($1::int[])`, [
      specials,
    ]);
    await q(`DELETE FROM safety_valve_kpi WHERE period_code = '2026-27-Q1'`);
  });

  it('names each gap in plain words, dataset by dataset and in one list', async () => {
    const s = await status({ term: 'AUTUMN-2026' });
    expect(dataset(s, 'baselines').missing).toEqual(['AUTUMN-2026: baselines missing for 12 open schools']);
    expect(dataset(s, 'pots').missing).toEqual([`AUTUMN-2026: no pot for ${potless}`]);
    expect(dataset(s, 'place-numbers').missing).toEqual(['no place numbers for 3 special schools in 2026/27']);
    expect(dataset(s, 'safety-valve-kpis').missing).toEqual(['2026-27-Q1: no KPIs for the Safety Valve report']);
    expect(s.missing).toEqual([
      'AUTUMN-2026: baselines missing for 12 open schools',
      `AUTUMN-2026: no pot for ${potless}`,
      'no place numbers for 3 special schools in 2026/27',
      '2026-27-Q1: no KPIs for the Safety Valve report',
    ]);
  });

  it('shows a file imported since: which file, who, when, how many rows', async () => {
    const csv = `communityCode,term,amount\r\n${potless},AUTUMN-2026,100000.00\r\n`;
    const res = await fetch(`${t.url}/import/community-pots`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.tokens.FINANCE}`, 'x-file-name': 'pots-autumn-2026.csv' },
      body: csv,
    });
    expect(res.status).toBe(200);
    const s = await status({ term: 'AUTUMN-2026' });
    const pots = dataset(s, 'pots');
    expect(pots.missing).toEqual([]);
    expect(pots.latest).toMatchObject({
      kind: 'IMPORTED',
      file: 'pots-autumn-2026.csv',
      by: 'Demo finance officer',
      rows: 1,
    });
    expect(Date.now() - new Date(pots.latest.at).getTime()).toBeLessThan(60_000);
    expect(pots.sources.map((x: any) => [x.kind, x.rows])).toEqual([
      ['IMPORTED', 1],
      ['COMPUTED', pots.rows - 1],
    ]);
  });

  it('shows where caseload counts came from, from the import that replaced them', async () => {
    const [a, b] = (await q(`SELECT ons_code AS d FROM district ORDER BY ons_code LIMIT 2`)).map((r) => r.d);
    const res = await fetch(`${t.url}/import/caseloads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.tokens.FINANCE}`, 'x-file-name': 'ehcp-plans-t1.csv' },
      body: `kind,period,districtCode,count\nEHCP_PLANS,2026/27-T1,${a},7\nEHCP_PLANS,2026/27-T1,${b},8\n`,
    });
    expect(res.status).toBe(200);
    const s = await status({ term: 'AUTUMN-2026' });
    expect(dataset(s, 'caseloads').latest).toMatchObject({
      kind: 'IMPORTED',
      file: 'ehcp-plans-t1.csv',
      by: 'Demo finance officer',
      rows: 2,
    });
  });

  it("shows the GIAS register's last import from its audit entry", async () => {
    const kent = await q(`SELECT ${SCHOOL_COLUMNS} FROM school s ORDER BY urn`);
    const file = path.join(dir, 'edubasealldata20261201.csv');
    // One school renamed: an import that changes nothing is not recorded.
    const rows = kent.map((s: any, i: number) => giasRowOf(i === 0 ? { ...s, name: `${s.name} (renamed)` } : s));
    await writeGiasSample(file, { laRows: rows, totalRows: kent.length + 50 });
    const finance = {
      subject: 'token:test',
      name: 'Test finance officer',
      role: Role.FINANCE,
      communityCode: null,
    } as any;
    const report = await importGias(t.db.dataSource, fs.createReadStream(file), {
      la: 886,
      viewer: finance,
      source: 'IMPORT',
      fileName: 'edubasealldata20261201.csv',
    });
    expect(report).toMatchObject({ applied: true, updated: 1 });
    const s = await status({ term: 'AUTUMN-2026' });
    expect(dataset(s, 'schools').latest).toMatchObject({
      kind: 'IMPORTED',
      file: 'edubasealldata20261201.csv',
      by: 'Test finance officer',
      rows: kent.length,
    });
  });

  it('scopes a Chair to their own community and refuses an analyst', async () => {
    const s = await status({ term: 'AUTUMN-2026' }, t.tokens.CHAIR);
    expect(s.communityCode).toMatch(/^[A-Z]{3}-\d\d$/);
    expect(dataset(s, 'communities').rows).toBe(1);
    expect(dataset(s, 'pots').rows).toBe(
      (
        await q(
          `SELECT count(*)::int AS n FROM community_pot WHERE term_code = 'AUTUMN-2026' AND community_code = $1`,
          [s.communityCode],
        )
      )[0].n,
    );
    // Another community's missing pot is not theirs to see.
    const other = (await q(`SELECT code FROM community WHERE code <> $1 ORDER BY code LIMIT 1`, [s.communityCode]))[0]
      .code;
    await q(`DELETE FROM community_pot WHERE term_code = 'AUTUMN-2026' AND community_code = $1`, [other]);
    expect((await status({ term: 'AUTUMN-2026' })).missing).toContain(`AUTUMN-2026: no pot for ${other}`);
    expect((await status({ term: 'AUTUMN-2026' }, t.tokens.CHAIR)).missing.join('\n')).not.toMatch(other);
    const a = await t.gql(STATUS, { term: 'AUTUMN-2026' }, t.tokens.ANALYST);
    expect(a.body.errors[0].extensions.code).toBe('FORBIDDEN');
  });
});

describe('dataStatus reads the rules the model and the rest of the hub read', () => {
  it('counts as carrying no weight exactly the open schools the model leaves out of the pot split', async () => {
    const [a, b, c] = await q<{ urn: number; pupils: number; fsm: string }>(
      `SELECT urn, pupils_on_roll AS pupils, percent_fsm AS fsm FROM school
        WHERE status = 'OPEN' AND pupils_on_roll IS NOT NULL AND percent_fsm IS NOT NULL ORDER BY urn LIMIT 3`,
    );
    await q(`UPDATE school SET percent_fsm = NULL WHERE urn = ANY($1::int[])`, [[a.urn, b.urn]]);
    await q(`UPDATE school SET pupils_on_roll = NULL WHERE urn = $1`, [c.urn]);
    try {
      const weighted = new Set((await loadFundingInputs(t.db.dataSource.manager)).schools.map((s) => s.urn));
      const open = await q<{ urn: number }>(`SELECT urn FROM school WHERE status = 'OPEN'`);
      const leftOut = open.filter((s) => !weighted.has(s.urn)).map((s) => s.urn);
      expect(leftOut).toEqual(expect.arrayContaining([a.urn, b.urn, c.urn]));
      const s = await status({ term: 'AUTUMN-2026' });
      expect(dataset(s, 'schools').missing).toEqual([
        `${leftOut.length} open schools have no pupils on roll or FSM figure in GIAS (suppressed or blank): no weight in their community's pot split`,
      ]);
    } finally {
      for (const x of [a, b, c])
        await q(`UPDATE school SET pupils_on_roll = $2, percent_fsm = $3 WHERE urn = $1`, [x.urn, x.pupils, x.fsm]);
    }
  });

  it('counts a school whose membership ends on the first day of the term as in no community then', async () => {
    // A membership runs to effective_to exclusive (community/membership.ts), as every other reader counts it.
    const [m] = await q<{ id: number; urn: number; to: string | null }>(
      `SELECT m.id, m.school_urn AS urn, m.effective_to::text AS "to" FROM community_membership m
         JOIN school s ON s.urn = m.school_urn AND s.status = 'OPEN' AND s.phase NOT IN ('SPECIAL', 'PRU')
        WHERE m.effective_from < '2026-09-01' AND m.effective_to IS NULL ORDER BY m.school_urn LIMIT 1`,
    );
    await q(`UPDATE community_membership SET effective_to = '2026-09-01' WHERE id = $1`, [m.id]);
    try {
      const s = await status({ term: 'AUTUMN-2026' });
      expect(dataset(s, 'memberships').missing.join('\n')).toMatch(
        new RegExp(`AUTUMN-2026: 1 open mainstream school in no community \\(${m.urn}\\)`),
      );
    } finally {
      await q(`UPDATE community_membership SET effective_to = $2 WHERE id = $1`, [m.id, m.to]);
    }
  });
});
