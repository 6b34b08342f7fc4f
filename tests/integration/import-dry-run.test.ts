import { cliViewer } from '../../server/modules/imports/command-line';
import { importFile, ImportReport } from '../../server/modules/imports/import.service';
import { startTestDatabase, TestDatabase } from '../helpers/db';

// A dry run goes the real run's whole way (validation, the diff, the writes, the audit) in a transaction that is
// rolled back: it must leave every table as it was, and report exactly what the real run then does.

let db: TestDatabase;
beforeAll(async () => {
  db = await startTestDatabase({ realData: true });
});
afterAll(() => db?.stop());

const finance = cliViewer('dry-run-test');
const q = <T = any>(sql: string, params: unknown[] = []): Promise<T[]> => db.dataSource.query(sql, params);

/** A fingerprint of a whole table's rows: any write changes it. */
async function fingerprint(table: string): Promise<string> {
  const [{ f }] = await q(`SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') AS f FROM ${table} t`);
  return f;
}
const fingerprints = (tables: string[]) => Promise.all(tables.map(fingerprint));

const run = (kind: string, csv: string, dryRun: boolean) =>
  importFile(db.dataSource, kind, Buffer.from(csv), {
    viewer: finance,
    source: 'IMPORT',
    fileName: `${kind}.csv`,
    dryRun,
  });

/** What a dry run reports and the real run reports alike: all of it but the flags and the message's first words. */
const comparable = (r: ImportReport) => ({
  ...r,
  dryRun: undefined,
  applied: undefined,
  message: r.message.replace(/^(Dry run: would create|Imported: created)/, ''),
});

async function expectDryRunLikeRealRun(kind: string, csv: string, tables: string[]) {
  const before = await fingerprints([...tables, 'audit_log']);
  const dry = await run(kind, csv, true);
  expect(dry).toMatchObject({ dryRun: true, applied: false, errorCount: 0 });
  expect(dry.message).toMatch(/^Dry run: would create/);
  expect(await fingerprints([...tables, 'audit_log'])).toEqual(before);
  const real = await run(kind, csv, false);
  expect(real).toMatchObject({ dryRun: false, applied: true });
  expect(comparable(dry)).toEqual(comparable(real));
  const after = await fingerprints([...tables, 'audit_log']);
  // The real run did write: the tables the dry run left alone have changed now.
  after.forEach((f, i) => expect(f).not.toBe(before[i]));
  return real;
}

describe('a dry run writes nothing and reports what the real run does', () => {
  it('for a records import with a write that is followed (community pots and the shares that follow them)', async () => {
    const pots = await q<{ c: string; amount: string }>(
      `SELECT community_code AS c, amount::text AS amount FROM community_pot WHERE term_code = 'AUTUMN-2026' ORDER BY community_code LIMIT 2`,
    );
    expect(pots).toHaveLength(2);
    const csv = [
      'communityCode,term,amount',
      `${pots[0].c},AUTUMN-2026,${pots[0].amount}`,
      `${pots[1].c},AUTUMN-2026,987654.32`,
    ];
    const real = await expectDryRunLikeRealRun('community-pots', csv.join('\n'), [
      'community_pot',
      'school_term_funding',
    ]);
    expect(real).toMatchObject({ rows: 2, created: 0, updated: 1, unchanged: 1 });
    const [{ amount }] = await q(
      `SELECT amount::text AS amount FROM community_pot WHERE community_code = $1 AND term_code = 'AUTUMN-2026'`,
      [pots[1].c],
    );
    expect(amount).toBe('987654.32');
  });

  it('for a replace import (caseload counts of a kind and term)', async () => {
    const cells = await q(
      `SELECT kind, period_code AS period, district_code AS d, worker_code AS w, school_urn AS s, setting_urn AS e, count FROM caseload_count
        WHERE kind = 'LINK_WORKER_SCHOOLS' AND period_code = '2026/27-T2' ORDER BY id`,
    );
    expect(cells.length).toBeGreaterThan(1);
    const rows = cells.map((c, i) =>
      [c.kind, c.period, c.d, c.w ?? '', c.s ?? '', c.e ?? '', i === 0 ? c.count + 3 : c.count].join(','),
    );
    const csv = ['kind,period,districtCode,workerCode,schoolUrn,settingUrn,count', ...rows].join('\n');
    const real = await expectDryRunLikeRealRun('caseloads', csv, ['caseload_count']);
    expect(real).toMatchObject({ rows: cells.length, updated: cells.length, unchanged: 0 });
  });

  it('for a published layout read by its own reader (baselines per year, split into terms)', async () => {
    const [school] = await q<{ urn: number }>(`SELECT urn FROM school WHERE status = 'OPEN' ORDER BY urn LIMIT 1`);
    const csv = `schoolUrn,financialYear,baseline\n${school.urn},2026-27,1234.56\n`;
    const real = await expectDryRunLikeRealRun('baselines-by-year', csv, ['school_term_funding']);
    expect(real.details?.total).toBe('1234.56');
    const terms = await q<{ term: string; baseline: string }>(
      `SELECT term_code AS term, baseline::text AS baseline FROM school_term_funding
        WHERE school_urn = $1 AND term_code IN ('SUMMER-2026', 'AUTUMN-2026', 'SPRING-2027') ORDER BY term_code`,
      [school.urn],
    );
    expect(terms).toEqual([
      { term: 'AUTUMN-2026', baseline: '411.52' },
      { term: 'SPRING-2027', baseline: '308.64' },
      { term: 'SUMMER-2026', baseline: '514.40' },
    ]);
  });

  it('and a dry run with a rejected row reports it, as the real run does, and writes nothing either way', async () => {
    const before = await fingerprints(['community_pot', 'audit_log']);
    const csv = 'communityCode,term,amount\nNO-SUCH,AUTUMN-2026,1.00\n';
    const dry = await run('community-pots', csv, true);
    const real = await run('community-pots', csv, false);
    expect(dry.errors).toEqual([
      { line: 2, column: 'communityCode', value: 'NO-SUCH', reason: 'is not a Community of Schools in the hub' },
    ]);
    expect(comparable(dry)).toEqual(comparable(real));
    expect(await fingerprints(['community_pot', 'audit_log'])).toEqual(before);
  });
});
