import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Decimal from 'decimal.js';
import { Role, Viewer } from '../../server/auth/roles';
import { importGias, GiasSchool } from '../../server/modules/imports/gias';
import { giasRowOf, writeGiasSample } from '../../server/modules/imports/gias-sample';
import { SCHOOL_COLUMNS } from '../../server/modules/school/school.sql';
import { computeFunding } from '../../server/modules/funding/engine';
import { loadFundingInputs } from '../../server/modules/funding/funding-inputs';
import { parameterVersions, scenarioOn } from '../../server/modules/funding/parameters-of-record';
import { startTestHub, TestHub } from '../helpers/hub';

/*
 * Issue 11, item 3: a closure (GIAS or by hand) ends the school's membership on its close date, its shares in
 * later terms go to the schools still open (reported), allocations and proposals for it after closure are
 * refused as SCHOOL_CLOSED, and scenarios see the same.
 */
const finance: Viewer = {
  subject: 'test:finance',
  name: 'Test finance officer',
  role: Role.FINANCE,
  communityCode: null,
  via: 'token',
};
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hnh-closure-'));
let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ realData: true });
});
afterAll(async () => {
  await t?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});
const q = (sql: string, params: unknown[] = []): Promise<any[]> => t.db.dataSource.query(sql, params);

/** An open, funded member school of the Chair's community (ASH-01) on 1 September 2026, not its only member. */
async function memberOf(community: string, offset = 0) {
  const [m] = await q(
    `SELECT m.school_urn AS urn FROM community_membership m JOIN school s ON s.urn = m.school_urn
      JOIN school_term_funding f ON f.school_urn = m.school_urn AND f.term_code = 'AUTUMN-2026'
     WHERE m.community_code = $1 AND s.status = 'OPEN' AND m.effective_from <= '2026-09-01' AND (m.effective_to IS NULL OR m.effective_to > '2026-09-01')
     ORDER BY m.school_urn OFFSET $2 LIMIT 1`,
    [community, offset],
  );
  return m.urn as number;
}
const shares = async (community: string, term: string) =>
  q(
    `SELECT f.school_urn AS urn, f.community_share AS share FROM school_term_funding f JOIN community_membership m ON m.school_urn = f.school_urn
      JOIN funding_term t ON t.code = f.term_code
     WHERE f.term_code = $2 AND m.community_code = $1 AND m.effective_from <= t.start_date AND (m.effective_to IS NULL OR m.effective_to > t.start_date)`,
    [community, term],
  );
const SUBMIT = `mutation($i: SubmitAllocationsInput!) { submitAllocations(input: $i) { applied results { result userErrors { code field message } } } }`;
const row = (urn: number, term: string, status: string, extra: object = {}) => ({
  schoolUrn: urn,
  communityCode: 'ASH-01',
  term,
  amount: '5000.00',
  purpose: `Closure ${crypto.randomUUID()}`,
  status,
  ...extra,
});

describe('a school closed by the GIAS register', () => {
  let closedUrn: number;
  let report: Awaited<ReturnType<typeof importGias>>;

  beforeAll(async () => {
    closedUrn = await memberOf('ASH-01');
    const kent: GiasSchool[] = await q(`SELECT ${SCHOOL_COLUMNS} FROM school s ORDER BY urn`);
    const rows = kent.map((s) => {
      const r = giasRowOf(s);
      if (s.urn === closedUrn) Object.assign(r, { 'EstablishmentStatus (name)': 'Closed', CloseDate: '31-08-2026' });
      return r;
    });
    const file = path.join(dir, 'edubasealldata20260601.csv');
    await writeGiasSample(file, { laRows: rows, totalRows: 1000 });
    report = await importGias(t.db.dataSource, fs.createReadStream(file), {
      la: 886,
      viewer: finance,
      source: 'IMPORT',
      fileName: 'edubasealldata20260601.csv',
    });
  });

  it('ends its membership on the close date and gives its later shares to the schools still open, reporting the change', async () => {
    expect(report.errors).toEqual([]);
    expect(report.closures).toEqual([
      {
        urn: closedUrn,
        closeDate: '2026-08-31',
        membershipsEnded: ['ASH-01'],
        membershipsRemoved: [],
        allocationsAfterClosure: [],
      },
    ]);
    expect(report.recomputed!.termsRecomputed).toEqual(expect.arrayContaining(['AUTUMN-2026', 'SPRING-2027']));
    expect(report.message).toMatch(
      /Memberships of 1 closed school\(s\) end on their close date; shares recomputed for .*AUTUMN-2026/,
    );
    const [m] = await q(
      `SELECT effective_to::text AS "to" FROM community_membership WHERE school_urn = $1 ORDER BY effective_from DESC LIMIT 1`,
      [closedUrn],
    );
    expect(m.to).toBe('2026-08-31');
    const [own] = await q(
      `SELECT community_share AS share FROM school_term_funding WHERE school_urn = $1 AND term_code = 'AUTUMN-2026'`,
      [closedUrn],
    );
    expect(own.share).toBe('0.00');
    const [pot] = await q(
      `SELECT amount FROM community_pot WHERE community_code = 'ASH-01' AND term_code = 'AUTUMN-2026'`,
    );
    const open = await shares('ASH-01', 'AUTUMN-2026');
    expect(open.map((s) => s.urn)).not.toContain(closedUrn);
    expect(open.reduce((a, s) => a.plus(s.share), new Decimal(0)).toFixed(2)).toBe(pot.amount);
    // The summer term began before the closure: the school keeps its share there.
    const [summer] = await q(
      `SELECT community_share AS share FROM school_term_funding WHERE school_urn = $1 AND term_code = 'SUMMER-2026'`,
      [closedUrn],
    );
    expect(new Decimal(summer.share).gt(0)).toBe(true);
  });

  it("refuses Finance's approval and a Chair's proposal for it after closure as SCHOOL_CLOSED, but not before it", async () => {
    const approve = await t.gql(SUBMIT, {
      i: {
        idempotencyKey: `closed-${crypto.randomUUID()}`,
        decisionReference: 'D-1',
        reason: 'test',
        rows: [row(closedUrn, 'AUTUMN-2026', 'APPROVED')],
      },
    });
    expect(approve.body.data.submitAllocations.results[0].userErrors).toEqual([
      {
        code: 'SCHOOL_CLOSED',
        field: 'schoolUrn',
        message: `School ${closedUrn} is closed from 2026-08-31: it takes no allocations in Autumn 2026 or later.`,
      },
    ]);
    const propose = await t.gql(
      SUBMIT,
      {
        i: {
          idempotencyKey: `closed-${crypto.randomUUID()}`,
          reason: 'test',
          rows: [row(closedUrn, 'SPRING-2027', 'PROPOSED')],
        },
      },
      t.tokens.CHAIR,
    );
    expect(propose.body.data.submitAllocations.results[0].userErrors.map((e: any) => e.code)).toEqual([
      'SCHOOL_CLOSED',
    ]);
    const before = await t.gql(
      SUBMIT,
      {
        i: {
          idempotencyKey: `closed-${crypto.randomUUID()}`,
          reason: 'test',
          rows: [row(closedUrn, 'SUMMER-2026', 'PROPOSED')],
        },
      },
      t.tokens.CHAIR,
    );
    expect(before.body.data.submitAllocations.applied).toBe(true);
  });

  it('is seen the same way by scenarios: no share for the closed school in later terms', async () => {
    const db = t.db.dataSource.manager;
    const model = computeFunding(
      await loadFundingInputs(db),
      scenarioOn(await parameterVersions(db), { protectionRate: '0.6' }),
    );
    const r = model.schoolTerms.find((x) => x.schoolUrn === closedUrn && x.termCode === 'AUTUMN-2026')!;
    expect(r.communityShare).toBe('0.00');
  });
});

describe('a school closed by hand', () => {
  it('closes it with closeSchool: memberships end, later shares move, an earlier proposal is listed, and it is audited', async () => {
    const urn = await memberOf('ASH-01', 2);
    const proposed = await t.gql(
      SUBMIT,
      {
        i: {
          idempotencyKey: `hand-${crypto.randomUUID()}`,
          reason: 'test',
          rows: [row(urn, 'SPRING-2027', 'PROPOSED')],
        },
      },
      t.tokens.CHAIR,
    );
    expect(proposed.body.data.submitAllocations.applied).toBe(true);
    const r =
      await t.gql(`mutation { closeSchool(urn: ${urn}, closeDate: "2026-12-31", reason: "Amalgamated with its neighbour") {
      urn closeDate membershipsEnded termsRecomputed schoolTermRowsChanged allocationsAfterClosure } }`);
    expect(r.body.errors).toBeUndefined();
    const c = r.body.data.closeSchool;
    expect(c).toMatchObject({ urn, closeDate: '2026-12-31', membershipsEnded: ['ASH-01'] });
    expect(c.termsRecomputed[0]).toBe('SPRING-2027');
    expect(c.allocationsAfterClosure).toHaveLength(1);
    const [own] = await q(
      `SELECT community_share AS share FROM school_term_funding WHERE school_urn = $1 AND term_code = 'SPRING-2027'`,
      [urn],
    );
    expect(own.share).toBe('0.00');
    const [audit] = await q(`SELECT action, reason FROM audit_log WHERE entity = 'SCHOOL' AND entity_id = $1`, [
      String(urn),
    ]);
    expect(audit).toEqual({ action: 'CLOSE', reason: 'Amalgamated with its neighbour' });
    const chair = await t.gql(
      `mutation { closeSchool(urn: ${urn}, closeDate: "2026-12-31", reason: "x") { urn } }`,
      undefined,
      t.tokens.CHAIR,
    );
    expect(chair.body.errors[0].extensions.code).toBe('FORBIDDEN');
    // The policy table's words (auth/policy.ts): the one Finance-only rule, not a resolver's own.
    expect(chair.body.errors[0].message).toBe(
      'A CHAIR may not use closeSchool: ends memberships and recomputes the figures of record.',
    );
  });
});

describe('schools closed before closures ended memberships: the data migration', () => {
  it('ends their open memberships on the close date, removes those starting after it, audits each school and changes nothing on a second run', async () => {
    const { EndClosedSchoolMemberships1796185315297: Migration } =
      await import('../../migrations/1796185315297-EndClosedSchoolMemberships');
    const [c1, c2, c3] = await q(`SELECT code FROM community ORDER BY code OFFSET 20 LIMIT 3`);
    const a = await memberOf(c1.code);
    const b = await memberOf(c2.code);
    const undated = await memberOf(c3.code);
    const open = await memberOf(c3.code, 1);
    // The old state: the GIAS import of old marked a school closed and left its memberships as they were.
    await q(`UPDATE school SET status = 'CLOSED', close_date = '2026-01-01' WHERE urn = $1`, [a]);
    await q(`UPDATE school SET status = 'CLOSED', close_date = '2025-12-31' WHERE urn = $1`, [b]);
    await q(
      `INSERT INTO community_membership (school_urn, community_code, effective_from, effective_to) VALUES ($1, $2, '2027-01-01', NULL)`,
      [b, c1.code],
    );
    await q(`UPDATE school SET status = 'CLOSED', close_date = NULL WHERE urn = $1`, [undated]);
    const memberships = async (urn: number) =>
      q(
        `SELECT community_code AS c, effective_from::text AS "from", effective_to::text AS "to" FROM community_membership WHERE school_urn = $1 ORDER BY effective_from`,
        [urn],
      );
    const before = {
      a: await memberships(a),
      b: await memberships(b),
      undated: await memberships(undated),
      open: await memberships(open),
    };
    expect(before.a.at(-1)).toMatchObject({ c: c1.code, to: null });
    const [{ n: audits0 }] = await q(
      `SELECT count(*)::int AS n FROM audit_log WHERE entity = 'SCHOOL' AND action = 'END_MEMBERSHIPS'`,
    );

    const runner = t.db.dataSource.createQueryRunner();
    try {
      await new Migration().up(runner);
    } finally {
      await runner.release();
    }

    /** What a closure on `close` does to these memberships: those open on it end on it, those starting on or after it go. */
    const closed = (ms: any[], close: string) =>
      ms.filter((m) => m.from < close).map((m) => (m.to === null || m.to > close ? { ...m, to: close } : m));
    const ended = (ms: any[], close: string) =>
      ms.filter((m) => m.from < close && (m.to === null || m.to > close)).map((m) => m.c);
    const removed = (ms: any[], close: string) => ms.filter((m) => m.from >= close).map((m) => m.c);
    // Open on the close date no more: ended on it, as a closure now does.
    expect(await memberships(a)).toEqual(closed(before.a, '2026-01-01'));
    expect((await memberships(a)).at(-1)).toMatchObject({ to: '2026-01-01' });
    // The membership that would have started after the close date is gone; the earlier one ends on it.
    expect(await memberships(b)).toEqual(closed(before.b, '2025-12-31'));
    expect(removed(before.b, '2025-12-31')).toContain(c1.code);
    // Without a close date there is no date to end on: left alone. An open school is not touched.
    expect(await memberships(undated)).toEqual(before.undated);
    expect(await memberships(open)).toEqual(before.open);
    const audits = await q(
      `SELECT entity_id AS urn, actor, before, after FROM audit_log WHERE entity = 'SCHOOL' AND action = 'END_MEMBERSHIPS' ORDER BY id OFFSET $1`,
      [audits0],
    );
    expect(audits.map((x: any) => Number(x.urn)).sort()).toEqual([a, b].sort());
    const auditA = audits.find((x: any) => Number(x.urn) === a);
    expect(auditA.actor).toBe('migration:EndClosedSchoolMemberships');
    expect(auditA.after).toEqual({
      closeDate: '2026-01-01',
      membershipsEnded: ended(before.a, '2026-01-01'),
      membershipsRemoved: removed(before.a, '2026-01-01'),
    });
    expect(auditA.before).toEqual({ memberships: before.a });
    const auditB = audits.find((x: any) => Number(x.urn) === b);
    expect(auditB.after).toEqual({
      closeDate: '2025-12-31',
      membershipsEnded: ended(before.b, '2025-12-31'),
      membershipsRemoved: removed(before.b, '2025-12-31'),
    });

    // A second run finds nothing to do.
    const again = t.db.dataSource.createQueryRunner();
    try {
      await new Migration().up(again);
    } finally {
      await again.release();
    }
    expect(await memberships(a)).toEqual(closed(before.a, '2026-01-01'));
    const [{ n: audits2 }] = await q(
      `SELECT count(*)::int AS n FROM audit_log WHERE entity = 'SCHOOL' AND action = 'END_MEMBERSHIPS'`,
    );
    expect(audits2).toBe(audits0 + 2);
  });
});
