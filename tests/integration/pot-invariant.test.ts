import crypto from 'node:crypto';
import Decimal from 'decimal.js';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { Role, Viewer } from '../../server/auth/roles';
import { submitAllocations } from '../../server/modules/allocation/allocation.service';
import { AllocationStatus } from '../../server/modules/allocation/allocation.entity';
import { importFile } from '../../server/modules/imports/import.service';
import { setModelParameters } from '../../server/modules/scenario/parameters.service';
import { recordParameters } from '../../server/modules/funding/parameters-of-record';
import { startTestDatabase, TestDatabase, usingPostgres } from '../helpers/db';
import { applyClosures } from '../../server/modules/school/closure';

/*
 * Issue 11, item 2: approved allocations never exceed their pot, whoever writes. The database refuses any commit
 * that would break it (both engines); the races between writers run on PostgreSQL only (PGlite is one session),
 * each with one transaction held in the window by a row lock from a second connection, so the interleaving is
 * certain rather than hoped for.
 */

let db: TestDatabase;
let ds: DataSource;
beforeAll(async () => {
  db = await startTestDatabase({ realData: true });
  ds = db.dataSource;
});
afterAll(() => db?.stop());

const finance: Viewer = {
  subject: 'test:finance',
  name: 'Test finance officer',
  role: Role.FINANCE,
  communityCode: null,
  via: 'token',
};
const q = (sql: string, params: unknown[] = []): Promise<any[]> => ds.query(sql, params);

/** A member school of the nth community (by code) on a term's first day, and the community's pot. */
async function memberAndPot(offset: number, term = 'AUTUMN-2026') {
  const [m] = await q(
    `SELECT * FROM (SELECT DISTINCT ON (m.community_code) m.school_urn AS urn, m.community_code AS c, p.amount AS pot FROM community_membership m
       JOIN funding_term t ON t.code = $1
       JOIN community_pot p ON p.community_code = m.community_code AND p.term_code = t.code
      WHERE m.effective_from <= t.start_date AND (m.effective_to IS NULL OR m.effective_to > t.start_date)
      ORDER BY m.community_code, m.school_urn) x ORDER BY c OFFSET $2 LIMIT 1`,
    [term, offset],
  );
  return m as { urn: number; c: string; pot: string };
}

async function potState(c: string, term: string) {
  const [r] = await q(
    `SELECT p.amount AS pot, coalesce((SELECT sum(a.amount) FROM allocation a WHERE a.community_code = p.community_code AND a.term_code = p.term_code AND a.status = 'APPROVED'), 0)::numeric(14,2)::text AS approved
       FROM community_pot p WHERE p.community_code = $1 AND p.term_code = $2`,
    [c, term],
  );
  return r as { pot: string; approved: string };
}

const submit = (
  rows: {
    schoolUrn: number;
    communityCode: string;
    term: string;
    amount: string;
    purpose: string;
    status: AllocationStatus;
    baseVersion?: number;
  }[],
) =>
  submitAllocations(
    ds,
    finance,
    {
      idempotencyKey: `pot-${crypto.randomUUID()}`,
      decisionReference: 'HNFSG-TEST',
      reason: 'pot invariant test',
      dryRun: false,
      rows,
    },
    { source: 'API' },
  );

describe('the database keeps approved allocations within their pot, whoever writes', () => {
  it('refuses a commit that lowers a pot below what is approved from it, naming the pot, the approved total and the amount', async () => {
    const m = await memberAndPot(0);
    const p = await submit([
      {
        schoolUrn: m.urn,
        communityCode: m.c,
        term: 'AUTUMN-2026',
        amount: '5000.00',
        purpose: 'Rogue writer test',
        status: AllocationStatus.APPROVED,
      },
    ]);
    expect(p.applied).toBe(true);
    const attempt = ds.transaction(async (tx) => {
      await tx.query(
        `UPDATE community_pot SET amount = 4999.99 WHERE community_code = $1 AND term_code = 'AUTUMN-2026'`,
        [m.c],
      );
    });
    await expect(attempt).rejects.toMatchObject({
      code: '23514',
      message: `approved allocations for ${m.c} in AUTUMN-2026 total 5000.00, above its pot of 4999.99`,
    });
    expect(await potState(m.c, 'AUTUMN-2026')).toEqual({ pot: m.pot, approved: '5000.00' });
    // Deleting the pot would leave the approval unfunded: refused too.
    await expect(
      ds.query(`DELETE FROM community_pot WHERE community_code = $1 AND term_code = 'AUTUMN-2026'`, [m.c]),
    ).rejects.toMatchObject({ code: '23514' });
  });

  it('refuses a commit that approves more than the pot by a direct insert, and accepts one that fits to the penny', async () => {
    const m = await memberAndPot(1);
    const insert = (amount: string, purpose: string, status = 'APPROVED') =>
      ds.query(
        `INSERT INTO allocation (school_urn, community_code, term_code, purpose, amount, status, version, updated_by) VALUES ($1, $2, 'AUTUMN-2026', $3, $4, $5, 1, 'rogue')`,
        [m.urn, m.c, purpose, amount, status],
      );
    await expect(insert(new Decimal(m.pot).plus('0.01').toFixed(2), 'Too much')).rejects.toMatchObject({
      code: '23514',
    });
    await insert(m.pot, 'Exactly the pot');
    expect(await potState(m.c, 'AUTUMN-2026')).toEqual({ pot: m.pot, approved: m.pot });
    // A proposal does not spend the pot; approving it would.
    await insert('1.00', 'A proposal', 'PROPOSED');
    await expect(
      q(`UPDATE allocation SET status = 'APPROVED' WHERE purpose = 'A proposal' AND school_urn = $1`, [m.urn]),
    ).rejects.toMatchObject({ code: '23514' });
  });
});

const onPostgres = usingPostgres() ? describe : describe.skip;

onPostgres('races between writers, with one transaction held in the window (PostgreSQL)', () => {
  let blocker: Client;
  beforeEach(async () => {
    blocker = new Client({ connectionString: db.url });
    await blocker.connect();
  });
  afterEach(async () => {
    await blocker.query('ROLLBACK').catch(() => undefined);
    await blocker.end();
  });

  /** Backends of this database waiting on a lock (the writers we are holding). */
  const waiting = async () =>
    (
      await q(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      )
    )[0].n as number;
  async function until(n: number, settled: () => boolean) {
    for (let i = 0; i < 400; i++) {
      if ((await waiting()) >= n || settled()) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`expected ${n} writers waiting on a lock`);
  }
  type Outcome<T> = { ok: true; v: T } | { ok: false; e: any };
  const track = <T>(p: Promise<T>) => {
    const s: { done: boolean; p: Promise<Outcome<T>> } = { done: false, p: null as never };
    s.p = p.then(
      (v): Outcome<T> => ((s.done = true), { ok: true, v }),
      (e): Outcome<T> => ((s.done = true), { ok: false, e }),
    );
    return s;
  };

  /**
   * Finance approves `amount` for a proposal already in the pot: the approval locks the pot, reads it, and then
   * waits for the allocation row that the blocker holds. Anything the other writer does meanwhile happens inside
   * the approval's window.
   */
  async function approvalInTheWindow(m: { urn: number; c: string }, term: string, amount: string) {
    const purpose = `Race ${crypto.randomUUID()}`;
    const created = await submit([
      { schoolUrn: m.urn, communityCode: m.c, term, amount, purpose, status: AllocationStatus.PROPOSED },
    ]);
    expect(created.applied).toBe(true);
    await blocker.query('BEGIN');
    await blocker.query(`SELECT 1 FROM allocation WHERE id = $1 FOR UPDATE`, [created.results[0].allocationId]);
    const approval = track(
      submit([
        {
          schoolUrn: m.urn,
          communityCode: m.c,
          term,
          amount,
          purpose,
          status: AllocationStatus.APPROVED,
          baseVersion: 1,
        },
      ]),
    );
    await until(1, () => approval.done);
    return approval;
  }

  it('setModelParameters halving the pot while Finance approves 90% of it: the change is refused, the pot stays covered', async () => {
    const m = await memberAndPot(5);
    const ninety = new Decimal(m.pot).times('0.9').toFixed(2);
    const { parameters } = await recordParameters(ds.manager, '2026-09-01');
    const annual = parameters.communityPotAnnual['2026-27'];
    const approval = await approvalInTheWindow(m, 'AUTUMN-2026', ninety);
    const change = track(
      setModelParameters(
        ds.manager,
        finance,
        {
          effectiveFrom: '2026-09-01',
          note: 'halve the pot',
          parameters: {
            communityPotAnnual: [{ financialYear: '2026-27', amount: new Decimal(annual).div(2).toFixed(2) }],
          },
        },
        'API',
      ),
    );
    await until(2, () => change.done);
    await blocker.query('ROLLBACK');
    const [a, c] = [await approval.p, await change.p];
    expect(a.ok && a.v.applied).toBe(true);
    expect(c.ok).toBe(false);
    const err = (c as { e: any }).e;
    expect(err.extensions).toMatchObject({ code: 'CONFLICT', reason: 'OVER_POT' });
    expect(err.message).toMatch(
      new RegExp(`${m.c} AUTUMN-2026 \\(approved ${ninety.replace('.', '\\.')}, new pot \\d+\\.\\d{2}\\)`),
    );
    const s = await potState(m.c, 'AUTUMN-2026');
    expect(new Decimal(s.pot).gte(s.approved)).toBe(true);
    expect(s.pot).toBe(m.pot);
  });

  it('a £30,000 pot import racing a £60,000 approval: the import is refused naming the pot and the approved total', async () => {
    const m = await memberAndPot(9, 'SPRING-2027');
    const approval = await approvalInTheWindow(m, 'SPRING-2027', '60000.00');
    const file = Buffer.from(`communityCode,term,amount\n${m.c},SPRING-2027,30000.00\n`);
    const imported = track(
      importFile(ds, 'community-pots', file, { viewer: finance, source: 'API', fileName: 'pots.csv' }),
    );
    await until(2, () => imported.done);
    await blocker.query('ROLLBACK');
    const [a, r] = [await approval.p, await imported.p];
    expect(a.ok && a.v.applied).toBe(true);
    expect(r.ok).toBe(true);
    const report = (r as { v: any }).v;
    expect(report.applied).toBe(false);
    expect(report.errors).toEqual([
      {
        line: 2,
        column: 'amount',
        value: '30000.00',
        reason: `is below the £60000.00 already approved from this pot (${m.c} SPRING-2027): withdraw or reduce those allocations first`,
      },
    ]);
    const s = await potState(m.c, 'SPRING-2027');
    expect(s).toEqual({ pot: m.pot, approved: '60000.00' });
  });

  it('a closure racing an approval for the closing school: the closure waits for it and lists it as left after closure', async () => {
    const m = await memberAndPot(17);
    const approval = await approvalInTheWindow(m, 'AUTUMN-2026', '5000.00');
    const closing = track(
      ds.transaction(async (tx) => {
        await tx.query(`UPDATE school SET status = 'CLOSED', close_date = '2026-08-31' WHERE urn = $1`, [m.urn]);
        return applyClosures(tx, [{ urn: m.urn, closeDate: '2026-08-31' }], 'Closing a school');
      }),
    );
    await until(2, () => closing.done);
    await blocker.query('ROLLBACK');
    const [a, c] = [await approval.p, await closing.p];
    expect(a.ok && a.v.applied).toBe(true);
    expect(c.ok).toBe(true);
    const closure = (c as { v: Awaited<ReturnType<typeof applyClosures>> }).v;
    expect(closure.changes[0].allocationsAfterClosure).toEqual([
      expect.objectContaining({ term: 'AUTUMN-2026', status: 'APPROVED', amount: '5000.00' }),
    ]);
    const s = await potState(m.c, 'AUTUMN-2026');
    expect(new Decimal(s.pot).gte(s.approved)).toBe(true);
    // After the closure, a new approval for it is refused.
    const again = await submit([
      {
        schoolUrn: m.urn,
        communityCode: m.c,
        term: 'AUTUMN-2026',
        amount: '1.00',
        purpose: 'After closure',
        status: AllocationStatus.APPROVED,
      },
    ]);
    expect(again.results[0].userErrors.map((e) => e.code)).toEqual(['SCHOOL_CLOSED']);
  });

  it('two approvals on one pot, each fitting alone: the second waits for the first and is refused as OVER_POT', async () => {
    const m = await memberAndPot(13, 'SUMMER-2026');
    const half = new Decimal(m.pot).div(2).plus(1).toFixed(2);
    const approval = await approvalInTheWindow(m, 'SUMMER-2026', half);
    const [other] = await q(
      `SELECT m.school_urn AS urn FROM community_membership m WHERE m.community_code = $1 AND m.school_urn <> $2 AND m.effective_from <= '2026-04-01' AND (m.effective_to IS NULL OR m.effective_to > '2026-04-01') LIMIT 1`,
      [m.c, m.urn],
    );
    const second = track(
      submit([
        {
          schoolUrn: other.urn,
          communityCode: m.c,
          term: 'SUMMER-2026',
          amount: half,
          purpose: 'Second approval',
          status: AllocationStatus.APPROVED,
        },
      ]),
    );
    await until(2, () => second.done);
    await blocker.query('ROLLBACK');
    const [a, b] = [await approval.p, await second.p];
    expect(a.ok && a.v.applied).toBe(true);
    expect(b.ok && b.v.applied).toBe(false);
    expect((b as { v: any }).v.results[0].userErrors).toEqual([
      expect.objectContaining({ code: 'OVER_POT', pot: m.pot }),
    ]);
    const s = await potState(m.c, 'SUMMER-2026');
    expect(new Decimal(s.pot).gte(s.approved)).toBe(true);
  });
  /**
   * setModelParameters (every pot of 2026-27 up by a tenth) and a pots import (one pot set by hand) on one pot, with
   * the blocker holding that pot so both writers wait in the window; `first` says which of them queues first.
   * Neither may lose the other's write: the imported pot keeps its amount and provenance (a recompute leaves an
   * imported figure alone and reports it), its schools' shares follow it, the new parameter version is recorded,
   * and the computed pots around it take the new formula.
   */
  async function parametersAndImport(first: 'import' | 'parameters', offset: number) {
    const term = 'SPRING-2027';
    const m = await memberAndPot(offset, term);
    const bystander = await memberAndPot(offset + 1, term);
    expect(
      (
        await q(`SELECT source_kind AS k FROM community_pot WHERE community_code = $1 AND term_code = $2`, [
          bystander.c,
          term,
        ])
      )[0].k,
    ).toBe('COMPUTED');
    const imported = new Decimal(m.pot).plus('1234.56').toFixed(2);
    const { parameters } = await recordParameters(ds.manager, '2026-09-01');
    const annual = new Decimal(parameters.communityPotAnnual['2026-27']).times('1.1').toFixed(2);
    const [{ v: versionsBefore }] = await q(`SELECT count(*)::int AS v FROM model_parameter_set`);

    await blocker.query('BEGIN');
    await blocker.query(`SELECT 1 FROM community_pot WHERE community_code = $1 AND term_code = $2 FOR UPDATE`, [
      m.c,
      term,
    ]);
    const file = Buffer.from(`communityCode,term,amount\n${m.c},${term},${imported}\n`);
    const runImport = () =>
      track(importFile(ds, 'community-pots', file, { viewer: finance, source: 'API', fileName: 'pots-race.csv' }));
    const runParameters = () =>
      track(
        setModelParameters(
          ds.manager,
          finance,
          {
            effectiveFrom: '2026-09-01',
            note: `race with a pots import (${first} first)`,
            parameters: { communityPotAnnual: [{ financialYear: '2026-27', amount: annual }] },
          },
          'API',
        ),
      );
    const a = first === 'import' ? runImport() : runParameters();
    await until(1, () => a.done);
    const b = first === 'import' ? runParameters() : runImport();
    await until(2, () => b.done);
    await blocker.query('ROLLBACK');
    const [imp, par] = first === 'import' ? [await a.p, await b.p] : [await b.p, await a.p];

    expect(imp.ok).toBe(true);
    const report = (imp as { v: any }).v;
    expect(report.errors).toEqual([]);
    expect(report.applied).toBe(true);
    expect(par.ok).toBe(true);
    const change = (par as { v: Awaited<ReturnType<typeof setModelParameters>> }).v;
    const [{ v: versionsAfter }] = await q(`SELECT count(*)::int AS v FROM model_parameter_set`);
    expect(versionsAfter).toBe(versionsBefore + 1);
    expect(change.termsRecomputed).toContain(term);

    // The import's write: the pot as imported, with its provenance, and its schools' shares adding up to it.
    const [pot] = await q(
      `SELECT amount, source_kind AS kind, source_file AS file FROM community_pot WHERE community_code = $1 AND term_code = $2`,
      [m.c, term],
    );
    expect(pot).toEqual({ amount: imported, kind: 'IMPORTED', file: 'pots-race.csv' });
    const [{ shares }] = await q(
      `SELECT sum(f.community_share)::numeric(14,2)::text AS shares FROM school_term_funding f
         JOIN funding_term t ON t.code = f.term_code
         JOIN community_membership cm ON cm.school_urn = f.school_urn AND cm.community_code = $1
          AND cm.effective_from <= t.start_date AND (cm.effective_to IS NULL OR cm.effective_to > t.start_date)
        WHERE f.term_code = $2`,
      [m.c, term],
    );
    expect(shares).toBe(imported);
    // When the recompute ran after the import, it says it left the imported pot alone.
    if (first === 'import')
      expect(change.importedKept).toEqual(
        expect.arrayContaining([expect.objectContaining({ figure: 'POT', key: `${m.c}|${term}`, kind: 'IMPORTED' })]),
      );
    // The parameter change's write: a computed pot beside it is up by about a tenth.
    const [after] = await q(`SELECT amount FROM community_pot WHERE community_code = $1 AND term_code = $2`, [
      bystander.c,
      term,
    ]);
    const ratio = new Decimal(after.amount).div(bystander.pot);
    expect(ratio.gt('1.09') && ratio.lt('1.11')).toBe(true);
    const s = await potState(m.c, term);
    expect(new Decimal(s.pot).gte(s.approved)).toBe(true);
  }

  it('setModelParameters and a pots import on one pot, the import first: both writes stand, the recompute keeps the imported pot', async () => {
    await parametersAndImport('import', 21);
  });

  it('setModelParameters and a pots import on one pot, the parameters first: both writes stand, the import lands on the recomputed record', async () => {
    await parametersAndImport('parameters', 25);
  });
});
