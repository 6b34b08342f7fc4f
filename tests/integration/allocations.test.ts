import crypto from 'node:crypto';
import { Client } from 'pg';
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { createHub, Hub } from '../../server/server';
import { Role, Viewer } from '../../server/auth/roles';
import { submitAllocations, MAX_BATCH_ROWS } from '../../server/modules/allocation/allocation.service';
import { AllocationStatus } from '../../server/modules/allocation/allocation.entity';
import type { SubmitAllocationsInput } from '../../server/modules/allocation/allocation.types';
import { usingPostgres } from '../helpers/db';
import { createToken } from '../../server/auth/tokens';
import { METRICS_AUTH, startTestHub, TestHub } from '../helpers/hub';

/*
 * Issue 3, items 3-6: the allocation workflow, the batch write-back `submitAllocations`, the audit log and roles.
 * Runs on PGlite by default and on a fresh PostgreSQL database when TEST_DATABASE_URL is set. Each test works on
 * its own communities (or its own purposes) so that the pots it checks are not touched by the others.
 */

let t: TestHub;
let communities: string[];
beforeAll(async () => {
  t = await startTestHub();
  communities = (await q(`SELECT code FROM community ORDER BY code`)).map((c: { code: string }) => c.code);
});
afterAll(() => t?.stop());

const q = (sql: string, params: unknown[] = []): Promise<any[]> => t.db.dataSource.query(sql, params);
const newKey = (label = 'test') => `${label}-${crypto.randomUUID()}`;

const PAYLOAD = `applied dryRun replayed idempotencyKey
  summary { created updated unchanged rejected }
  results { index result allocationId version before { amount status version } after { amount status version }
    userErrors { code field message theirs { amount status version } pot total } }
  totals { communityCode term pot approvedBefore approvedAfter remainingAfter }`;
const SUBMIT = `mutation Submit($input: SubmitAllocationsInput!) { submitAllocations(input: $input) { ${PAYLOAD} } }`;

interface Row {
  schoolUrn: number;
  communityCode: string;
  term: string;
  amount: string;
  purpose: string;
  status: 'PROPOSED' | 'APPROVED' | 'WITHDRAWN';
  baseVersion?: number | null;
}
interface Input {
  idempotencyKey?: string;
  decisionReference?: string | null;
  reason?: string | null;
  dryRun?: boolean;
  rows: Row[];
}

/** POSTs to a hub (this test's, or another) with optional extra headers. */
async function post(
  query: string,
  variables: Record<string, unknown>,
  token: string,
  opts: { url?: string; headers?: Record<string, string>; operationName?: string } = {},
) {
  const res = await fetch(`${opts.url ?? t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...(opts.headers ?? {}) },
    body: JSON.stringify({ query, variables, operationName: opts.operationName }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

function withDefaults(input: Input) {
  return { idempotencyKey: newKey(), reason: 'Community meeting decision', dryRun: false, ...input };
}

/** Submits and returns the whole HTTP response. */
function submit(input: Input, token = t.tokens.FINANCE, opts: { url?: string; headers?: Record<string, string> } = {}) {
  return post(SUBMIT, { input: withDefaults(input) }, token, opts);
}

/** Submits and returns the payload, failing on a request-level error. */
async function submitOk(
  input: Input,
  token = t.tokens.FINANCE,
  opts: { url?: string; headers?: Record<string, string> } = {},
) {
  const r = await submit(input, token, opts);
  expect(r.body.errors).toBeUndefined();
  return r.body.data.submitAllocations;
}

/** Member schools of a community for a funding term (by the term's first day). */
async function members(community: string, term: string): Promise<number[]> {
  const rows = await q(
    `SELECT m.school_urn AS urn FROM community_membership m JOIN funding_term t ON t.code = $2
      WHERE m.community_code = $1 AND m.effective_from <= t.start_date AND (m.effective_to IS NULL OR m.effective_to > t.start_date)
      ORDER BY m.school_urn`,
    [community, term],
  );
  return rows.map((r) => r.urn);
}

async function potOf(community: string, term: string): Promise<string> {
  const [p] = await q(`SELECT amount::text AS amount FROM community_pot WHERE community_code = $1 AND term_code = $2`, [
    community,
    term,
  ]);
  return p.amount;
}

async function counts(): Promise<{ allocations: number; audit: number; idempotency: number }> {
  const [r] = await q(
    `SELECT (SELECT count(*)::int FROM allocation) AS allocations, (SELECT count(*)::int FROM audit_log) AS audit,
            (SELECT count(*)::int FROM idempotency_record) AS idempotency`,
  );
  return r;
}

async function allocation(urn: number, term: string, purpose: string) {
  const [a] = await q(
    `SELECT id, amount::text AS amount, status, version, decision_reference, approved_by, approved_at, updated_by
       FROM allocation WHERE school_urn = $1 AND term_code = $2 AND purpose = $3`,
    [urn, term, purpose],
  );
  return a;
}

const auditRowsForKey = (key: string) =>
  q(`SELECT entity_id, action, before, after FROM audit_log WHERE idempotency_key = $1 ORDER BY id`, [key]);

/** Pennies arithmetic for expected values: exact, no floats. */
const pence = (s: string) => BigInt(s.replace('.', ''));
const pounds = (p: bigint) => {
  const s = (p < 0n ? -p : p).toString().padStart(3, '0');
  return `${p < 0n ? '-' : ''}${s.slice(0, -2)}.${s.slice(-2)}`;
};

const errorsOf = (payload: any, index: number) =>
  payload.results[index].userErrors.map((e: any) => ({ code: e.code, field: e.field }));

// A school that moves community on 2026-09-01: a member of `from` in Summer 2026 and of `to` from Autumn 2026.
async function movedSchool(): Promise<{ urn: number; from: string; to: string }> {
  const [m] = await q(
    `SELECT a.school_urn AS urn, a.community_code AS "from", b.community_code AS "to"
       FROM community_membership a JOIN community_membership b ON b.school_urn = a.school_urn AND b.effective_from = a.effective_to
      WHERE a.effective_to = '2026-09-01' ORDER BY a.school_urn LIMIT 1`,
  );
  expect(m).toBeDefined();
  expect(m.from).not.toBe(m.to);
  return m;
}

describe('allocation workflow and roles', () => {
  it('lets a Chair propose an allocation for a member school of their own community', async () => {
    const c = t.tokens.chairCommunity;
    const [urn] = await members(c, 'SUMMER-2026');
    const before = await counts();
    const p = await submitOk(
      {
        rows: [
          {
            schoolUrn: urn,
            communityCode: c,
            term: 'SUMMER-2026',
            amount: '4500.00',
            purpose: 'Chair proposal',
            status: 'PROPOSED',
          },
        ],
      },
      t.tokens.CHAIR,
    );
    expect(p).toMatchObject({
      applied: true,
      dryRun: false,
      replayed: false,
      summary: { created: 1, updated: 0, unchanged: 0, rejected: 0 },
    });
    expect(p.results[0]).toMatchObject({
      result: 'CREATED',
      version: 1,
      before: null,
      after: { amount: '4500.00', status: 'PROPOSED', version: 1 },
      userErrors: [],
    });
    const a = await allocation(urn, 'SUMMER-2026', 'Chair proposal');
    expect(a).toMatchObject({
      id: p.results[0].allocationId,
      amount: '4500.00',
      status: 'PROPOSED',
      version: 1,
      decision_reference: null,
      approved_by: null,
      approved_at: null,
    });
    expect(a.updated_by).toMatch(/^Demo Chair of /);
    const after = await counts();
    expect(after.allocations).toBe(before.allocations + 1);
    expect(after.audit).toBe(before.audit + 1);
  });

  it('refuses a Chair, per row with FORBIDDEN, for another community and for APPROVED, and writes nothing', async () => {
    const own = t.tokens.chairCommunity;
    const other = communities.find((c) => c !== own)!;
    const [mine1, mine2] = await members(own, 'SUMMER-2026');
    const [theirs] = await members(other, 'SUMMER-2026');
    const before = await counts();
    const rows: Row[] = [
      {
        schoolUrn: theirs,
        communityCode: other,
        term: 'SUMMER-2026',
        amount: '100.00',
        purpose: 'Chair overreach',
        status: 'PROPOSED',
      },
      {
        schoolUrn: mine1,
        communityCode: own,
        term: 'SUMMER-2026',
        amount: '100.00',
        purpose: 'Chair approval',
        status: 'APPROVED',
      },
      {
        schoolUrn: mine2,
        communityCode: own,
        term: 'SUMMER-2026',
        amount: '100.00',
        purpose: 'Chair fine row',
        status: 'PROPOSED',
      },
    ];
    // With and without a decision reference: the refusal is FORBIDDEN on the row either way.
    for (const decisionReference of ['HNFSG-2026-01', null]) {
      const p = await submitOk({ decisionReference, rows }, t.tokens.CHAIR);
      expect(p.applied).toBe(false);
      expect(p.summary).toEqual({ created: 1, updated: 0, unchanged: 0, rejected: 2 });
      expect(errorsOf(p, 0)).toEqual([{ code: 'FORBIDDEN', field: 'communityCode' }]);
      expect(errorsOf(p, 1)).toEqual([{ code: 'FORBIDDEN', field: 'status' }]);
      expect(p.results[1].userErrors[0].message).toMatch(/Only Finance can approve/);
      expect(p.results[2]).toMatchObject({ result: 'CREATED', userErrors: [] });
    }
    expect(await counts()).toEqual(before);
  });

  it('refuses a Chair who tries to change an approved allocation of their own community', async () => {
    const own = t.tokens.chairCommunity;
    const [, , urn] = await members(own, 'SUMMER-2026');
    const created = await submitOk({
      decisionReference: 'HNFSG-2026-02',
      rows: [
        {
          schoolUrn: urn,
          communityCode: own,
          term: 'SUMMER-2026',
          amount: '250.00',
          purpose: 'Approved by Finance',
          status: 'APPROVED',
        },
      ],
    });
    expect(created.applied).toBe(true);
    const before = await counts();
    const p = await submitOk(
      {
        rows: [
          {
            schoolUrn: urn,
            communityCode: own,
            term: 'SUMMER-2026',
            amount: '999.00',
            purpose: 'Approved by Finance',
            status: 'PROPOSED',
            baseVersion: 1,
          },
        ],
      },
      t.tokens.CHAIR,
    );
    expect(p.applied).toBe(false);
    expect(errorsOf(p, 0)).toEqual([{ code: 'FORBIDDEN', field: 'status' }]);
    expect(await counts()).toEqual(before);
    expect(await allocation(urn, 'SUMMER-2026', 'Approved by Finance')).toMatchObject({
      amount: '250.00',
      status: 'APPROVED',
      version: 1,
    });
  });

  it.each(['SUBGROUP', 'ANALYST'] as const)('refuses a %s any write (FORBIDDEN) and writes nothing', async (role) => {
    const c = communities[2];
    const [urn] = await members(c, 'SUMMER-2026');
    const before = await counts();
    const r = await submit(
      {
        rows: [
          {
            schoolUrn: urn,
            communityCode: c,
            term: 'SUMMER-2026',
            amount: '10.00',
            purpose: `${role} write`,
            status: 'PROPOSED',
          },
        ],
      },
      t.tokens[role],
    );
    expect(r.body.data).toBeNull();
    expect(r.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(r.body.errors[0].message).toMatch(new RegExp(`A ${role} may not write allocations`));
    expect(await counts()).toEqual(before);
  });

  it('lets Finance approve a proposal with a decision reference, recording approver and date', async () => {
    const c = t.tokens.chairCommunity;
    const [urn] = await members(c, 'SUMMER-2026');
    const started = Date.now();
    const p = await submitOk({
      decisionReference: 'HNFSG-2026-03',
      reason: 'Approved at the Sub-Group',
      rows: [
        {
          schoolUrn: urn,
          communityCode: c,
          term: 'SUMMER-2026',
          amount: '4500.00',
          purpose: 'Chair proposal',
          status: 'APPROVED',
          baseVersion: 1,
        },
      ],
    });
    expect(p.applied).toBe(true);
    expect(p.results[0]).toMatchObject({
      result: 'UPDATED',
      version: 2,
      before: { amount: '4500.00', status: 'PROPOSED', version: 1 },
      after: { amount: '4500.00', status: 'APPROVED', version: 2 },
    });
    const r = await t.gql(
      `query($f: AllocationFilter) { allocations(filter: $f) { totalCount nodes { status version decisionReference approvedBy approvedAt updatedBy editable } } }`,
      { f: { schoolUrn: urn, term: 'SUMMER-2026', communityCode: c } },
    );
    const node = r.body.data.allocations.nodes.find((n: any) => n.version === 2);
    expect(node).toMatchObject({
      status: 'APPROVED',
      decisionReference: 'HNFSG-2026-03',
      approvedBy: 'Demo finance officer',
      updatedBy: 'Demo finance officer',
      editable: true,
    });
    expect(new Date(node.approvedAt).getTime()).toBeGreaterThanOrEqual(started - 5000);
    expect(new Date(node.approvedAt).getTime()).toBeLessThanOrEqual(Date.now() + 5000);
    // A Chair sees it as no longer editable.
    const asChair = await t.gql(
      `query($f: AllocationFilter) { allocations(filter: $f) { nodes { purpose editable } } }`,
      { f: { schoolUrn: urn, term: 'SUMMER-2026' } },
      t.tokens.CHAIR,
    );
    expect(asChair.body.data.allocations.nodes.find((n: any) => n.purpose === 'Chair proposal').editable).toBe(false);
  });

  it('refuses an approval without a decision reference (BAD_USER_INPUT) and writes nothing', async () => {
    const c = communities[2];
    const [urn] = await members(c, 'SUMMER-2026');
    const before = await counts();
    for (const decisionReference of [null, '   ']) {
      const r = await submit({
        decisionReference,
        rows: [
          {
            schoolUrn: urn,
            communityCode: c,
            term: 'SUMMER-2026',
            amount: '10.00',
            purpose: 'No decision',
            status: 'APPROVED',
          },
        ],
      });
      expect(r.body.errors[0].extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'input.decisionReference',
      });
      expect(r.body.errors[0].message).toMatch(/decision reference is required/);
    }
    expect(await counts()).toEqual(before);
  });

  it('refuses a real submit without a reason, but a dry run needs none', async () => {
    const c = communities[2];
    const [urn] = await members(c, 'SUMMER-2026');
    const row: Row = {
      schoolUrn: urn,
      communityCode: c,
      term: 'SUMMER-2026',
      amount: '10.00',
      purpose: 'No reason',
      status: 'PROPOSED',
    };
    const r = await submit({ reason: null, rows: [row] });
    expect(r.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'input.reason' });
    const dry = await submitOk({ reason: null, dryRun: true, rows: [row] });
    expect(dry).toMatchObject({ applied: false, dryRun: true, summary: { created: 1 } });
  });

  it('bumps the version on every change; an UNCHANGED row keeps its version and writes no audit; history lists changes oldest first', async () => {
    const c = communities[2];
    const [urn] = await members(c, 'AUTUMN-2026');
    const row = (amount: string, status: Row['status'], baseVersion: number | null): Row => ({
      schoolUrn: urn,
      communityCode: c,
      term: 'AUTUMN-2026',
      amount,
      purpose: 'Versioned',
      status,
      baseVersion,
    });
    const steps: [Row, string, number][] = [
      [row('1000.00', 'PROPOSED', null), 'CREATED', 1],
      [row('1200.50', 'PROPOSED', 1), 'UPDATED', 2],
      [row('1200.50', 'APPROVED', 2), 'UPDATED', 3],
      [row('1200.50', 'WITHDRAWN', 3), 'UPDATED', 4],
    ];
    for (const [r, result, version] of steps) {
      const p = await submitOk({ decisionReference: 'HNFSG-2026-04', rows: [r] });
      expect(p.applied).toBe(true);
      expect(p.results[0]).toMatchObject({ result, version, after: { amount: r.amount, status: r.status, version } });
    }
    const a = await allocation(urn, 'AUTUMN-2026', 'Versioned');
    expect(a).toMatchObject({
      amount: '1200.50',
      status: 'WITHDRAWN',
      version: 4,
      decision_reference: 'HNFSG-2026-04',
    });

    // The same values again: UNCHANGED, no version bump, no audit row.
    const before = await counts();
    const same = await submitOk({ rows: [row('1200.50', 'WITHDRAWN', 4)] });
    expect(same).toMatchObject({ applied: true, summary: { created: 0, updated: 0, unchanged: 1, rejected: 0 } });
    expect(same.results[0]).toMatchObject({
      result: 'UNCHANGED',
      version: 4,
      before: { version: 4 },
      after: { amount: '1200.50', status: 'WITHDRAWN', version: 4 },
    });
    expect((await allocation(urn, 'AUTUMN-2026', 'Versioned')).version).toBe(4);
    const after = await counts();
    expect(after.audit).toBe(before.audit);
    expect(after.allocations).toBe(before.allocations);

    // "1200.5" is the same amount as "1200.50".
    expect((await submitOk({ rows: [row('1200.5', 'WITHDRAWN', 4)] })).results[0].result).toBe('UNCHANGED');

    // Back to PROPOSED clears the approval.
    const back = await submitOk({ rows: [row('900.00', 'PROPOSED', 4)] });
    expect(back.results[0]).toMatchObject({ result: 'UPDATED', version: 5 });
    expect(await allocation(urn, 'AUTUMN-2026', 'Versioned')).toMatchObject({
      status: 'PROPOSED',
      version: 5,
      decision_reference: null,
      approved_by: null,
      approved_at: null,
    });

    const h = await t.gql(
      `query($f: AllocationFilter) { allocations(filter: $f, first: 20) { nodes { purpose version history { action actor role before after } } } }`,
      { f: { schoolUrn: urn, term: 'AUTUMN-2026' } },
    );
    expect(h.body.errors).toBeUndefined();
    const node = h.body.data.allocations.nodes.find((n: any) => n.purpose === 'Versioned');
    expect(node.version).toBe(5);
    expect(node.history.map((x: any) => x.action)).toEqual(['CREATE', 'UPDATE', 'APPROVE', 'WITHDRAW', 'UPDATE']);
    expect(node.history.map((x: any) => x.after.version)).toEqual([1, 2, 3, 4, 5]);
    expect(node.history.map((x: any) => x.before?.version ?? null)).toEqual([null, 1, 2, 3, 4]);
    expect(node.history[1]).toMatchObject({
      role: 'FINANCE',
      before: { amount: '1000.00', status: 'PROPOSED' },
      after: { amount: '1200.50', status: 'PROPOSED', purpose: 'Versioned', schoolUrn: urn },
    });
    expect(node.history[0].actor).toMatch(/^token:/);
  });
});

describe('submitAllocations validation (all or nothing)', () => {
  it('writes nothing when 3 rows of 10 are bad, and reports all 3 with their codes and fields', async () => {
    const c = communities[3];
    const moved = await movedSchool();
    const urns = await members(c, 'SUMMER-2026');
    const rows: Row[] = Array.from({ length: 10 }, (_, i) => ({
      schoolUrn: urns[i % urns.length],
      communityCode: c,
      term: 'SUMMER-2026',
      amount: `${100 + i}.00`,
      purpose: `Batch of ten ${i}`,
      status: 'PROPOSED' as const,
    }));
    rows[2] = { ...rows[2], schoolUrn: 999999 };
    rows[5] = { ...rows[5], schoolUrn: moved.urn, communityCode: moved.from, term: 'AUTUMN-2026' };
    rows[8] = { ...rows[8], amount: '12.345' };
    const before = await counts();
    const p = await submitOk({ rows });
    expect(p.applied).toBe(false);
    expect(p.summary).toEqual({ created: 7, updated: 0, unchanged: 0, rejected: 3 });
    expect(p.results.filter((r: any) => r.result === 'REJECTED').map((r: any) => r.index)).toEqual([2, 5, 8]);
    expect(errorsOf(p, 2)).toEqual([{ code: 'UNKNOWN_SCHOOL', field: 'schoolUrn' }]);
    expect(errorsOf(p, 5)).toEqual([{ code: 'NOT_MEMBER', field: 'schoolUrn' }]);
    expect(p.results[5].userErrors[0].message).toContain(`it belongs to ${moved.to}`);
    expect(errorsOf(p, 8)).toEqual([{ code: 'BAD_AMOUNT', field: 'amount' }]);
    for (const i of [0, 1, 3, 4, 6, 7, 9]) expect(p.results[i]).toMatchObject({ result: 'CREATED', userErrors: [] });
    expect(await counts()).toEqual(before);
    expect(await q(`SELECT 1 FROM allocation WHERE purpose LIKE 'Batch of ten%'`)).toHaveLength(0);
  });

  it('reports every validation code on its row and field, and writes nothing', async () => {
    const c = communities[3];
    const moved = await movedSchool();
    const [a, b, d] = await members(c, 'SUMMER-2026');
    const pot = await potOf(c, 'SUMMER-2026');
    const over = pounds(pence(pot) + 1n);
    const ok = (over: Partial<Row>): Row => ({
      schoolUrn: a,
      communityCode: c,
      term: 'SUMMER-2026',
      amount: '10.00',
      purpose: `Every code ${crypto.randomUUID()}`,
      status: 'PROPOSED',
      ...over,
    });
    const cases: [Row, string, string | null, RegExp?][] = [
      [ok({ schoolUrn: 999999 }), 'UNKNOWN_SCHOOL', 'schoolUrn', /No school has URN 999999/],
      [ok({ communityCode: 'NOPE-99' }), 'UNKNOWN_COMMUNITY', 'communityCode', /No community has code "NOPE-99"/],
      [
        ok({ schoolUrn: moved.urn, communityCode: moved.from, term: 'AUTUMN-2026' }),
        'NOT_MEMBER',
        'schoolUrn',
        new RegExp(`not a member of ${moved.from} in Autumn 2026 \\(it belongs to ${moved.to}\\)`),
      ],
      [
        ok({ schoolUrn: moved.urn, communityCode: moved.to, term: 'SUMMER-2026' }),
        'NOT_MEMBER',
        'schoolUrn',
        new RegExp(`it belongs to ${moved.from}`),
      ],
      [ok({ term: 'WINTER-2026' }), 'UNKNOWN_TERM', 'term', /Unknown funding term "WINTER-2026"/],
      [ok({ term: 'AUTUMN-2025' }), 'TERM_CLOSED', 'term', /Autumn 2025 is closed/],
      [ok({ amount: '-5.00' }), 'BAD_AMOUNT', 'amount', /negative/],
      [ok({ amount: '10.005' }), 'BAD_AMOUNT', 'amount', /more than 2 decimal places/],
      [ok({ amount: 'ten pounds' }), 'BAD_AMOUNT', 'amount', /not an amount of pounds and pence/],
      [ok({ amount: '2000000.01' }), 'BAD_AMOUNT', 'amount', /above the ceiling of 2000000.00/],
      [ok({ schoolUrn: b, purpose: 'Twice in one batch' }), 'DUPLICATE_ROW', null, /appears 2 times/],
      [ok({ schoolUrn: b, purpose: 'Twice in one batch', amount: '20.00' }), 'DUPLICATE_ROW', null, /appears 2 times/],
      [ok({ term: 'SUMMER-2027' }), 'NO_POT', 'term', /No pot is set/],
      [ok({ purpose: '   ' }), 'BAD_PURPOSE', 'purpose'],
      [ok({ baseVersion: 3 }), 'NOT_FOUND', 'baseVersion'],
      [ok({ schoolUrn: d, amount: over, status: 'APPROVED' }), 'OVER_POT', 'amount'],
    ];
    const valid = ok({ purpose: 'Every code valid row' });
    const before = await counts();
    const p = await submitOk({ decisionReference: 'HNFSG-2026-05', rows: [...cases.map((x) => x[0]), valid] });
    expect(p.applied).toBe(false);
    expect(p.summary.rejected).toBe(cases.length);
    cases.forEach(([, code, field, message], i) => {
      expect({ i, errors: errorsOf(p, i) }).toEqual({ i, errors: [{ code, field }] });
      if (message) expect(p.results[i].userErrors[0].message).toMatch(message);
      expect(p.results[i]).toMatchObject({ result: 'REJECTED', after: null });
    });
    const overPot = p.results[cases.length - 1].userErrors[0];
    expect(overPot).toMatchObject({ pot, total: over });
    expect(p.results[cases.length]).toMatchObject({ result: 'CREATED', userErrors: [] });
    expect(await counts()).toEqual(before);
  });

  it('refuses a comma that is not a thousands separator as BAD_AMOUNT naming value and field, and reads 1,250.00 as £1,250.00', async () => {
    const c = communities[3];
    const [a] = await members(c, 'SUMMER-2026');
    const bad = ['12,50', '0,99', '1,2,3,4', '1.2.3', '1e3', '12 50', '$12'];
    const rows = [...bad, '1,250.00'].map((amount, i) => ({
      schoolUrn: a,
      communityCode: c,
      term: 'SUMMER-2026',
      amount,
      purpose: `Comma ${i} ${crypto.randomUUID()}`,
      status: 'PROPOSED' as const,
    }));
    const p = await submitOk({ dryRun: true, rows });
    bad.forEach((amount, i) => {
      expect(p.results[i].userErrors).toEqual([
        expect.objectContaining({
          code: 'BAD_AMOUNT',
          field: 'amount',
          message: expect.stringContaining(
            `amount ${JSON.stringify(amount)} is not an amount of pounds and pence: it `,
          ),
        }),
      ]);
      expect(p.results[i].after).toBeNull();
    });
    expect(p.results[bad.length]).toMatchObject({ result: 'CREATED', after: { amount: '1250.00' } });
  });

  it('accepts a pot spent to the penny, then refuses a penny more as OVER_POT with the pot and the total', async () => {
    const c = communities[4];
    const term = 'SPRING-2027';
    const pot = await potOf(c, term);
    const [a, b] = await members(c, term);
    const half = pence(pot) / 2n;
    const rowA: Row = {
      schoolUrn: a,
      communityCode: c,
      term,
      amount: pounds(half),
      purpose: 'Half the pot',
      status: 'APPROVED',
    };
    const rowB: Row = {
      schoolUrn: b,
      communityCode: c,
      term,
      amount: pounds(pence(pot) - half),
      purpose: 'The rest of the pot',
      status: 'APPROVED',
    };
    const full = await submitOk({ decisionReference: 'HNFSG-2026-06', rows: [rowA, rowB] });
    expect(full.applied).toBe(true);
    expect(full.totals).toEqual([
      { communityCode: c, term, pot, approvedBefore: '0.00', approvedAfter: pot, remainingAfter: '0.00' },
    ]);

    const before = await counts();
    const more = await submitOk({
      decisionReference: 'HNFSG-2026-06',
      rows: [{ schoolUrn: a, communityCode: c, term, amount: '0.01', purpose: 'One penny more', status: 'APPROVED' }],
    });
    expect(more.applied).toBe(false);
    expect(more.results[0].userErrors).toEqual([
      expect.objectContaining({ code: 'OVER_POT', field: 'amount', pot, total: pounds(pence(pot) + 1n) }),
    ]);
    expect(more.results[0].userErrors[0].message).toContain(`above the pot of ${pot}`);
    // A proposal does not count against the pot.
    expect(
      (
        await submitOk({
          rows: [
            { schoolUrn: a, communityCode: c, term, amount: '0.01', purpose: 'One penny proposed', status: 'PROPOSED' },
          ],
        })
      ).applied,
    ).toBe(true);
    expect((await counts()).allocations).toBe(before.allocations + 1);

    // Moving money between schools within the pot is fine: one row down, another up, in one batch.
    const moved = await submitOk({
      decisionReference: 'HNFSG-2026-06',
      rows: [
        { ...rowA, amount: pounds(half - 100n), baseVersion: 1 },
        { ...rowB, amount: pounds(pence(pot) - half + 100n), baseVersion: 1 },
      ],
    });
    expect(moved.applied).toBe(true);
    expect(moved.totals[0]).toMatchObject({ approvedBefore: pot, approvedAfter: pot, remainingAfter: '0.00' });
    // ...but two increases over the pot are both reported.
    const both = await submitOk({
      decisionReference: 'HNFSG-2026-06',
      rows: [
        { ...rowA, amount: pounds(half), baseVersion: 2 },
        { ...rowB, amount: pounds(pence(pot) - half + 200n), baseVersion: 2 },
      ],
    });
    expect(both.applied).toBe(false);
    expect(both.results.map((r: any) => r.userErrors.map((e: any) => e.code))).toEqual([['OVER_POT'], ['OVER_POT']]);
    expect(both.results[0].userErrors[0].total).toBe(pounds(pence(pot) + 200n));
  });

  it('does not count rows rejected for another reason against the pot (no double-counted duplicates, no spurious OVER_POT)', async () => {
    const c = communities[4];
    const term = 'AUTUMN-2026';
    const pot = await potOf(c, term);
    const [outsider] = await members(communities[5], term);
    const [a, b] = await members(c, term);
    const sixty = pounds((pence(pot) * 6n) / 10n);
    const p = await submitOk({
      decisionReference: 'HNFSG-2026-15',
      dryRun: true,
      rows: [
        // The same row twice: one DUPLICATE_ROW each, not also OVER_POT for 120% of the pot.
        { schoolUrn: a, communityCode: c, term, amount: sixty, purpose: 'Sent twice', status: 'APPROVED' },
        { schoolUrn: a, communityCode: c, term, amount: sixty, purpose: 'Sent twice', status: 'APPROVED' },
        // A school of another community put in this pot: NOT_MEMBER, and it must not push the valid row over.
        { schoolUrn: outsider, communityCode: c, term, amount: pot, purpose: 'Wrong community', status: 'APPROVED' },
        { schoolUrn: b, communityCode: c, term, amount: '1.00', purpose: 'Valid small row', status: 'APPROVED' },
      ],
    });
    expect(p.results.map((r: any) => r.userErrors.map((e: any) => e.code))).toEqual([
      ['DUPLICATE_ROW'],
      ['DUPLICATE_ROW'],
      ['NOT_MEMBER'],
      [],
    ]);
    expect(p.totals).toEqual([
      {
        communityCode: c,
        term,
        pot,
        approvedBefore: '0.00',
        approvedAfter: '1.00',
        remainingAfter: pounds(pence(pot) - 100n),
      },
    ]);
  });

  it('returns the same diff and totals on a dry run as on the real submit, and the dry run writes nothing', async () => {
    const c = communities[5];
    const term = 'AUTUMN-2026';
    const urns = await members(c, term);
    const existing = await submitOk({
      decisionReference: 'HNFSG-2026-07',
      rows: [
        { schoolUrn: urns[0], communityCode: c, term, amount: '5000.00', purpose: 'Dry run base', status: 'APPROVED' },
      ],
    });
    expect(existing.applied).toBe(true);
    const rows: Row[] = [
      {
        schoolUrn: urns[0],
        communityCode: c,
        term,
        amount: '6000.00',
        purpose: 'Dry run base',
        status: 'APPROVED',
        baseVersion: 1,
      },
      { schoolUrn: urns[1], communityCode: c, term, amount: '2500.25', purpose: 'Dry run new', status: 'APPROVED' },
      { schoolUrn: urns[2], communityCode: c, term, amount: '700.00', purpose: 'Dry run proposal', status: 'PROPOSED' },
    ];
    const key = newKey('dry');
    const before = await counts();
    const dry = await submitOk({ idempotencyKey: key, decisionReference: 'HNFSG-2026-07', dryRun: true, rows });
    expect(dry).toMatchObject({
      applied: false,
      dryRun: true,
      replayed: false,
      summary: { created: 2, updated: 1, unchanged: 0, rejected: 0 },
    });
    expect(await counts()).toEqual(before);
    const pot = await potOf(c, term);
    expect(dry.totals).toEqual([
      {
        communityCode: c,
        term,
        pot,
        approvedBefore: '5000.00',
        approvedAfter: '8500.25',
        remainingAfter: pounds(pence(pot) - 850025n),
      },
    ]);
    expect(dry.results[0]).toMatchObject({
      result: 'UPDATED',
      before: { amount: '5000.00', status: 'APPROVED', version: 1 },
      after: { amount: '6000.00', status: 'APPROVED', version: 2 },
    });

    const real = await submitOk({ idempotencyKey: key, decisionReference: 'HNFSG-2026-07', rows });
    expect(real).toMatchObject({ applied: true, dryRun: false });
    const strip = (p: any) => p.results.map((r: any) => ({ ...r, allocationId: r.before ? r.allocationId : null }));
    expect(strip(real)).toEqual(strip(dry));
    expect(real.totals).toEqual(dry.totals);
    expect(real.summary).toEqual(dry.summary);
    expect((await counts()).allocations).toBe(before.allocations + 2);
    expect((await counts()).audit).toBe(before.audit + 3);
  });

  it('refuses the creation of an existing school/term/purpose as ALREADY_EXISTS with theirs', async () => {
    const c = communities[6];
    const [urn] = await members(c, 'SUMMER-2026');
    const row: Row = {
      schoolUrn: urn,
      communityCode: c,
      term: 'SUMMER-2026',
      amount: '300.00',
      purpose: 'Created twice',
      status: 'PROPOSED',
    };
    expect((await submitOk({ rows: [row] })).applied).toBe(true);
    const before = await counts();
    // Purpose is compared trimmed: " Created twice " is the same allocation.
    const p = await submitOk({ rows: [{ ...row, amount: '450.00', purpose: ' Created twice ' }] });
    expect(p.applied).toBe(false);
    expect(p.results[0].userErrors).toEqual([
      expect.objectContaining({
        code: 'ALREADY_EXISTS',
        field: 'baseVersion',
        theirs: { amount: '300.00', status: 'PROPOSED', version: 1 },
      }),
    ]);
    expect(p.results[0].before).toEqual({ amount: '300.00', status: 'PROPOSED', version: 1 });
    expect(await counts()).toEqual(before);
  });

  it('gives one success and one STALE_VERSION with theirs for two concurrent submits on the same base version', async () => {
    const c = communities[6];
    const [, urn] = await members(c, 'SUMMER-2026');
    const row: Row = {
      schoolUrn: urn,
      communityCode: c,
      term: 'SUMMER-2026',
      amount: '1000.00',
      purpose: 'Edited twice',
      status: 'PROPOSED',
    };
    expect((await submitOk({ rows: [row] })).applied).toBe(true);
    const before = await counts();
    const [x, y] = await Promise.all([
      submitOk({ rows: [{ ...row, amount: '1100.00', baseVersion: 1 }] }),
      submitOk({
        decisionReference: 'HNFSG-2026-08',
        rows: [{ ...row, amount: '1200.00', status: 'APPROVED', baseVersion: 1 }],
      }),
    ]);
    const winners = [x, y].filter((p) => p.applied);
    const losers = [x, y].filter((p) => !p.applied);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    const won = winners[0].results[0];
    expect(won).toMatchObject({ result: 'UPDATED', version: 2 });
    expect(losers[0].results[0].userErrors).toEqual([
      expect.objectContaining({
        code: 'STALE_VERSION',
        field: 'baseVersion',
        theirs: { amount: won.after.amount, status: won.after.status, version: 2 },
      }),
    ]);
    expect(losers[0].results[0].userErrors[0].message).toMatch(/you have version 1, the hub has version 2/);
    expect(await allocation(urn, 'SUMMER-2026', 'Edited twice')).toMatchObject({
      amount: won.after.amount,
      status: won.after.status,
      version: 2,
    });
    const after = await counts();
    expect(after.audit).toBe(before.audit + 1);
    expect(after.allocations).toBe(before.allocations);
  });

  it('refuses two concurrent creations of the same school/term/purpose: one CREATED, one ALREADY_EXISTS', async () => {
    const c = communities[6];
    const [, , urn] = await members(c, 'SUMMER-2026');
    const row: Row = {
      schoolUrn: urn,
      communityCode: c,
      term: 'SUMMER-2026',
      amount: '10.00',
      purpose: 'Created at once',
      status: 'PROPOSED',
    };
    const both = await Promise.all([submitOk({ rows: [row] }), submitOk({ rows: [{ ...row, amount: '20.00' }] })]);
    expect(both.filter((p) => p.applied)).toHaveLength(1);
    const loser = both.find((p) => !p.applied);
    const winner = both.find((p) => p.applied);
    expect(loser.results[0].userErrors[0]).toMatchObject({
      code: 'ALREADY_EXISTS',
      theirs: { amount: winner.results[0].after.amount, version: 1 },
    });
    expect(await q(`SELECT 1 FROM allocation WHERE purpose = 'Created at once'`)).toHaveLength(1);
  });
});

describe('idempotency', () => {
  it('returns the first result for the same key and payload (replayed) and writes nothing again', async () => {
    const c = communities[7];
    const urns = await members(c, 'SUMMER-2026');
    const input: Input = {
      idempotencyKey: newKey('idem'),
      decisionReference: 'HNFSG-2026-09',
      rows: urns.slice(0, 3).map((u, i) => ({
        schoolUrn: u,
        communityCode: c,
        term: 'SUMMER-2026',
        amount: `${i + 1}000.00`,
        purpose: 'Idempotent',
        status: 'APPROVED' as const,
      })),
    };
    const first = await submitOk(input);
    expect(first).toMatchObject({ applied: true, replayed: false, summary: { created: 3 } });
    const before = await counts();
    const again = await submitOk(input);
    expect(again).toEqual({ ...first, replayed: true });
    expect(await counts()).toEqual(before);
    expect(await auditRowsForKey(input.idempotencyKey!)).toHaveLength(3);

    // The same key with anything different is refused, whoever sends it.
    const changed = await submit({
      ...input,
      rows: input.rows.map((r, i) => (i === 0 ? { ...r, amount: '1000.01' } : r)),
    });
    expect(changed.body.errors[0].extensions).toMatchObject({ code: 'CONFLICT', reason: 'IDEMPOTENCY_KEY_REUSED' });
    expect(changed.body.errors[0].message).toMatch(/already used for a different batch/);
    const otherReason = await submit({ ...input, reason: 'Another reason' });
    expect(otherReason.body.errors[0].extensions.code).toBe('CONFLICT');
    const otherActor = await submit(
      { ...input, rows: input.rows.map((r) => ({ ...r, status: 'PROPOSED' as const })) },
      t.tokens.CHAIR,
    );
    expect(otherActor.body.errors[0].extensions.code).toBe('CONFLICT');
    expect(await counts()).toEqual(before);
  });

  it('applies once when the same key and payload arrive twice at the same time', async () => {
    const c = communities[7];
    const urns = await members(c, 'AUTUMN-2026');
    const input: Input = {
      idempotencyKey: newKey('idem-race'),
      rows: urns.slice(0, 4).map((u) => ({
        schoolUrn: u,
        communityCode: c,
        term: 'AUTUMN-2026',
        amount: '250.00',
        purpose: 'Sent twice at once',
        status: 'PROPOSED' as const,
      })),
    };
    const both = await Promise.all([submitOk(input), submitOk(input)]);
    expect(both.map((p) => p.applied)).toEqual([true, true]);
    expect(both.map((p) => p.replayed).sort((a, b) => Number(a) - Number(b))).toEqual([false, true]);
    expect(both[0].results).toEqual(both[1].results);
    expect(await q(`SELECT 1 FROM allocation WHERE purpose = 'Sent twice at once'`)).toHaveLength(4);
    expect(await auditRowsForKey(input.idempotencyKey!)).toHaveLength(4);
  });

  it('stores nothing for a rejected batch, so the same key works once the rows are fixed', async () => {
    const c = communities[7];
    const [urn] = await members(c, 'SPRING-2027');
    const key = newKey('idem-fix');
    const bad = await submitOk({
      idempotencyKey: key,
      rows: [
        {
          schoolUrn: urn,
          communityCode: c,
          term: 'SPRING-2027',
          amount: '1.001',
          purpose: 'Fixed later',
          status: 'PROPOSED',
        },
      ],
    });
    expect(bad.applied).toBe(false);
    const good = await submitOk({
      idempotencyKey: key,
      rows: [
        {
          schoolUrn: urn,
          communityCode: c,
          term: 'SPRING-2027',
          amount: '1.00',
          purpose: 'Fixed later',
          status: 'PROPOSED',
        },
      ],
    });
    expect(good).toMatchObject({ applied: true, replayed: false });
  });

  it('refuses a key shorter than 8 characters', async () => {
    const r = await submit({ idempotencyKey: 'short', rows: [] });
    expect(r.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'input.idempotencyKey' });
  });
});

describe('concurrency against one pot', () => {
  async function twentyAtOnce(community: string, term: string, urls: string[]) {
    const pot = await potOf(community, term);
    const urns = await members(community, term);
    const share = pence(pot) / 5n; // exactly 5 fit; a 6th would be 120% of the pot
    const amount = pounds(share);
    const auditBefore = (await counts()).audit;
    const inputs: Input[] = Array.from({ length: 20 }, (_, i) => ({
      idempotencyKey: newKey(`race-${i}`),
      decisionReference: 'HNFSG-2026-10',
      rows: [
        {
          schoolUrn: urns[i % urns.length],
          communityCode: community,
          term,
          amount,
          purpose: `Race ${i}`,
          status: 'APPROVED' as const,
        },
      ],
    }));
    const payloads = await Promise.all(
      inputs.map((input, i) => submitOk(input, t.tokens.FINANCE, { url: urls[i % urls.length] })),
    );
    const won = payloads.filter((p) => p.applied);
    expect(won).toHaveLength(5);
    for (const p of payloads.filter((x) => !x.applied)) {
      expect(p.results[0].userErrors).toEqual([expect.objectContaining({ code: 'OVER_POT', pot })]);
      expect(pence(p.results[0].userErrors[0].total)).toBe(share * 6n);
    }
    const [{ approved }] = await q(
      `SELECT coalesce(sum(amount), 0)::text AS approved FROM allocation WHERE community_code = $1 AND term_code = $2 AND status = 'APPROVED'`,
      [community, term],
    );
    expect(approved).toBe(pounds(share * 5n));
    expect(pence(approved) <= pence(pot)).toBe(true);
    // Every success has exactly its audit row; no failure has any.
    for (const [i, p] of payloads.entries()) {
      const rows = await auditRowsForKey(inputs[i].idempotencyKey!);
      if (p.applied) {
        expect(rows).toEqual([
          {
            entity_id: p.results[0].allocationId,
            action: 'APPROVE',
            before: null,
            after: expect.objectContaining({ amount, status: 'APPROVED', version: 1 }),
          },
        ]);
      } else {
        expect(rows).toEqual([]);
      }
    }
    expect((await counts()).audit).toBe(auditBefore + 5);
    // The pot view agrees.
    const v = await t.gql(
      `query($c: String!, $t: String!) { community(code: $c) { pot(term: $t) { amount approved remaining } } }`,
      { c: community, t: term },
    );
    expect(v.body.data.community.pot).toEqual({
      amount: pot,
      approved: pounds(share * 5n),
      remaining: pounds(pence(pot) - share * 5n),
    });
  }

  it('never overspends a pot with 20 concurrent submits to one hub, and every success has its audit row', async () => {
    await twentyAtOnce(communities[8], 'SUMMER-2026', [t.url]);
  });

  it('never overspends a pot with 20 concurrent submits spread over two hubs on separate DataSources', async () => {
    const ds2: DataSource = await t.db.connectAnother();
    const hub2: Hub = await createHub({
      dataSource: ds2,
      config: { bodyLimitBytes: 5 * 1024 * 1024, oidc: null },
      logger: pino({ level: 'silent' }),
    });
    const url2 = await hub2.listen(0);
    try {
      await twentyAtOnce(communities[9], 'SUMMER-2026', [t.url, url2]);
    } finally {
      await hub2.stop();
      await ds2.destroy();
    }
  });
});

describe('a lost connection in the middle of a submit', () => {
  const finance: () => Promise<Viewer> = async () => {
    const [tok] = await q(`SELECT id, name FROM api_token WHERE role = 'FINANCE' ORDER BY created_at LIMIT 1`);
    return { subject: `token:${tok.id}`, name: tok.name, role: Role.FINANCE, communityCode: null, via: 'token' };
  };
  const input = (c: string, urns: number[], key: string, purpose: string): SubmitAllocationsInput => ({
    idempotencyKey: key,
    decisionReference: 'HNFSG-2026-11',
    reason: 'Retry after a lost connection',
    dryRun: false,
    rows: urns.map((u) => ({
      schoolUrn: u,
      communityCode: c,
      term: 'AUTUMN-2026',
      amount: '321.00',
      purpose,
      status: AllocationStatus.APPROVED,
      baseVersion: null,
    })),
  });
  const written = async (key: string, purpose: string) => {
    const [r] = await q(
      `SELECT (SELECT count(*)::int FROM allocation WHERE purpose = $2) AS allocations, (SELECT count(*)::int FROM audit_log WHERE idempotency_key = $1) AS audit,
              (SELECT count(*)::int FROM idempotency_record WHERE key = $1) AS idempotency`,
      [key, purpose],
    );
    return r;
  };

  it('leaves nothing written when the transaction fails after its writes, and a retry with the same key succeeds exactly once', async () => {
    const c = communities[10];
    const urns = (await members(c, 'AUTUMN-2026')).slice(0, 3);
    const key = newKey('seam');
    const viewer = await finance();
    let sawWrites = 0;
    await expect(
      submitAllocations(t.db.dataSource, viewer, input(c, urns, key, 'Seam'), {
        source: 'API',
        beforeCommit: async (tx) => {
          // Inside the transaction the writes are there...
          sawWrites = (await tx.query(`SELECT count(*)::int AS n FROM allocation WHERE purpose = 'Seam'`))[0].n;
          throw new Error('connection lost before commit');
        },
      }),
    ).rejects.toThrow('connection lost before commit');
    expect(sawWrites).toBe(3);
    // ...and after the failure nothing is.
    expect(await written(key, 'Seam')).toEqual({ allocations: 0, audit: 0, idempotency: 0 });
    const retry = await submitAllocations(t.db.dataSource, viewer, input(c, urns, key, 'Seam'), { source: 'API' });
    expect(retry).toMatchObject({ applied: true, replayed: false, summary: { created: 3 } });
    const again = await submitAllocations(t.db.dataSource, viewer, input(c, urns, key, 'Seam'), { source: 'API' });
    expect(again).toMatchObject({ applied: true, replayed: true });
    expect(await written(key, 'Seam')).toEqual({ allocations: 3, audit: 3, idempotency: 1 });
  });

  it('leaves nothing written when the socket is dropped before commit, and the hub recovers', async () => {
    const c = communities[10];
    const urns = (await members(c, 'AUTUMN-2026')).slice(3, 5);
    const key = newKey('drop');
    const viewer = await finance();
    await expect(
      submitAllocations(t.db.dataSource, viewer, input(c, urns, key, 'Dropped'), {
        source: 'API',
        beforeCommit: async (tx) => {
          // The pg client under this transaction: cut its socket, as a network failure would.
          (
            tx.queryRunner as unknown as { databaseConnection: { connection: { stream: { destroy(): void } } } }
          ).databaseConnection.connection.stream.destroy();
        },
      }),
    ).rejects.toThrow();
    expect(await written(key, 'Dropped')).toEqual({ allocations: 0, audit: 0, idempotency: 0 });
    const retry = await submitOk({
      idempotencyKey: key,
      decisionReference: 'HNFSG-2026-11',
      reason: 'Retry after a lost connection',
      rows: input(c, urns, key, 'Dropped').rows as Row[],
    });
    expect(retry).toMatchObject({ applied: true, replayed: false, summary: { created: 2 } });
    expect(await written(key, 'Dropped')).toEqual({ allocations: 2, audit: 2, idempotency: 1 });
  });

  (usingPostgres() ? it : it.skip)(
    'PostgreSQL: pg_terminate_backend during the submit leaves nothing written; the retry succeeds exactly once',
    async () => {
      const c = communities[11];
      const urns = (await members(c, 'AUTUMN-2026')).slice(0, 4);
      const key = newKey('kill');
      const rows: Row[] = urns.map((u) => ({
        schoolUrn: u,
        communityCode: c,
        term: 'AUTUMN-2026',
        amount: '123.45',
        purpose: 'Killed',
        status: 'APPROVED',
      }));
      // Hold the idempotency key uncommitted, so the submit writes everything and then waits at its final insert.
      const holder = new Client({ connectionString: t.db.url });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query(
          `INSERT INTO idempotency_record (key, request_hash, actor, response) VALUES ($1, $2, 'holder', '{}')`,
          [key, '0'.repeat(64)],
        );
        const pending = submit({ idempotencyKey: key, decisionReference: 'HNFSG-2026-12', rows });
        let pid: number | undefined;
        for (let i = 0; i < 200 && !pid; i++) {
          const [w] = await q(
            `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'high-needs-hub'
              AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO idempotency_record%'`,
          );
          pid = w?.pid;
          if (!pid) await new Promise((r) => setTimeout(r, 50));
        }
        expect(pid).toBeDefined();
        // The writes were made (in its transaction) before it blocked: the backend has locked allocation rows.
        const [{ n }] = await q(
          `SELECT count(*)::int AS n FROM pg_locks WHERE pid = $1 AND relation = 'allocation'::regclass`,
          [pid],
        );
        expect(n).toBeGreaterThan(0);
        await q(`SELECT pg_terminate_backend($1)`, [pid]);
        const r = await pending;
        expect(r.body.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
        await holder.query('ROLLBACK');
      } finally {
        await holder.end();
      }
      expect(await written(key, 'Killed')).toEqual({ allocations: 0, audit: 0, idempotency: 0 });
      const retry = await submitOk({ idempotencyKey: key, decisionReference: 'HNFSG-2026-12', rows });
      expect(retry).toMatchObject({ applied: true, replayed: false, summary: { created: 4 } });
      const again = await submitOk({ idempotencyKey: key, decisionReference: 'HNFSG-2026-12', rows });
      expect(again.replayed).toBe(true);
      expect(await written(key, 'Killed')).toEqual({ allocations: 4, audit: 4, idempotency: 1 });
    },
  );
});

describe('audit log', () => {
  it('records who, role, source, idempotency key, decision reference, reason, before and after', async () => {
    const c = communities[12];
    const [urn] = await members(c, 'SUMMER-2026');
    const key = newKey('audit');
    // The add-in's own token: its writes are audited as ADDIN (a header claiming it would not be).
    const addinToken = (
      await createToken(t.db.dataSource.manager, { role: 'FINANCE', name: 'Demo finance officer', client: 'addin' })
    ).token;
    const created = await submitOk(
      {
        idempotencyKey: key,
        decisionReference: 'HNFSG-2026-13',
        reason: 'Agreed at the community meeting on 12 May',
        rows: [
          {
            schoolUrn: urn,
            communityCode: c,
            term: 'SUMMER-2026',
            amount: '7777.77',
            purpose: 'Audited',
            status: 'APPROVED',
          },
        ],
      },
      addinToken,
    );
    const id = created.results[0].allocationId;
    const key2 = newKey('audit');
    await submitOk({
      idempotencyKey: key2,
      reason: 'Reduced after review',
      rows: [
        {
          schoolUrn: urn,
          communityCode: c,
          term: 'SUMMER-2026',
          amount: '7000.00',
          purpose: 'Audited',
          status: 'PROPOSED',
          baseVersion: 1,
        },
      ],
    });
    const [tok] = await q(
      `SELECT id FROM api_token WHERE name = 'Demo finance officer' ORDER BY created_at DESC LIMIT 1`,
    );
    const r = await t.gql(
      `query($f: AuditFilter) { auditLog(filter: $f, first: 10) { endCursor nodes { id at actor actorName role source entity entityId action idempotencyKey decisionReference reason before after } } }`,
      { f: { entity: 'ALLOCATION', entityId: id } },
    );
    expect(r.body.errors).toBeUndefined();
    const [second, first] = r.body.data.auditLog.nodes; // newest first
    expect(r.body.data.auditLog.endCursor).toBeNull();
    expect(first).toMatchObject({
      actorName: 'Demo finance officer',
      role: 'FINANCE',
      source: 'ADDIN',
      entity: 'ALLOCATION',
      entityId: id,
      action: 'APPROVE',
      idempotencyKey: key,
      decisionReference: 'HNFSG-2026-13',
      reason: 'Agreed at the community meeting on 12 May',
      before: null,
      after: {
        schoolUrn: urn,
        communityCode: c,
        term: 'SUMMER-2026',
        purpose: 'Audited',
        amount: '7777.77',
        status: 'APPROVED',
        version: 1,
      },
    });
    expect(first.actor).toBe(`token:${tok.id}`);
    expect(Math.abs(new Date(first.at).getTime() - Date.now())).toBeLessThan(60_000);
    expect(second).toMatchObject({
      source: 'API',
      action: 'UPDATE',
      idempotencyKey: key2,
      decisionReference: null,
      reason: 'Reduced after review',
      before: { amount: '7777.77', status: 'APPROVED', version: 1 },
      after: { amount: '7000.00', status: 'PROPOSED', version: 2 },
    });
    expect(BigInt(second.id) > BigInt(first.id)).toBe(true);
  });

  it('records the Chair as the actor of a proposal', async () => {
    const c = t.tokens.chairCommunity;
    const [, , , urn] = await members(c, 'AUTUMN-2026');
    const key = newKey('audit-chair');
    await submitOk(
      {
        idempotencyKey: key,
        rows: [
          {
            schoolUrn: urn,
            communityCode: c,
            term: 'AUTUMN-2026',
            amount: '50.00',
            purpose: 'Chair audited',
            status: 'PROPOSED',
          },
        ],
      },
      t.tokens.CHAIR,
    );
    const r = await t.gql(
      `query($k: String) { auditLog(filter: { idempotencyKey: $k }) { nodes { role actorName action } } }`,
      { k: key },
    );
    expect(r.body.data.auditLog.nodes).toEqual([
      { role: 'CHAIR', actorName: expect.stringMatching(/^Demo Chair of /), action: 'CREATE' },
    ]);
  });

  it('pages newest first with cursors, matching the table', async () => {
    const all: string[] = (await q(`SELECT l.id::text AS id FROM audit_log l ORDER BY l.id DESC`)).map((r) => r.id);
    expect(all.length).toBeGreaterThan(10);
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 1000; page++) {
      const r: any = await t.gql(`query($a: String) { auditLog(first: 7, after: $a) { endCursor nodes { id } } }`, {
        a: after,
      });
      expect(r.body.errors).toBeUndefined();
      seen.push(...r.body.data.auditLog.nodes.map((n: any) => n.id));
      after = r.body.data.auditLog.endCursor;
      if (!after) break;
    }
    expect(seen).toEqual(all);
    const filtered = await t.gql(
      `{ auditLog(filter: { decisionReference: "HNFSG-2026-10" }, first: 3) { endCursor nodes { decisionReference } } }`,
    );
    expect(filtered.body.data.auditLog.nodes).toHaveLength(3);
    expect(filtered.body.data.auditLog.endCursor).not.toBeNull();
    const bad = await t.gql(`{ auditLog(first: 1001) { endCursor } }`);
    expect(bad.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'first' });
    const forged = await t.gql(`{ auditLog(after: "x; DROP TABLE audit_log") { endCursor } }`);
    expect(forged.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after' });
  });

  it.each(['CHAIR', 'SUBGROUP', 'ANALYST'] as const)('is Finance-only: a %s is FORBIDDEN', async (role) => {
    const r = await t.gql(`{ auditLog(first: 5) { nodes { id } } }`, {}, t.tokens[role]);
    expect(r.body.data).toBeNull();
    expect(r.body.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('is append-only: UPDATE, DELETE and TRUNCATE fail with the append-only message', async () => {
    const [{ id, reason }] = await q(`SELECT id::text AS id, reason FROM audit_log ORDER BY id DESC LIMIT 1`);
    await expect(q(`UPDATE audit_log SET reason = 'rewritten' WHERE id = $1`, [id])).rejects.toThrow(
      /audit_log is append-only: UPDATE is not allowed/,
    );
    await expect(q(`DELETE FROM audit_log WHERE id = $1`, [id])).rejects.toThrow(
      /audit_log is append-only: DELETE is not allowed/,
    );
    await expect(q(`TRUNCATE audit_log`)).rejects.toThrow(/audit_log is append-only: TRUNCATE is not allowed/);
    const [row] = await q(`SELECT reason FROM audit_log WHERE id = $1`, [id]);
    expect(row.reason).toBe(reason);
  });
});

describe('Community.pot', () => {
  it('reflects approvals and proposals: approved, proposed and remaining', async () => {
    const c = communities[13];
    const term = 'SUMMER-2026';
    const urns = await members(c, term);
    const Q = `query($c: String!, $t: String!) { community(code: $c) { pot(term: $t) { amount approved proposed remaining } } }`;
    const before = (await t.gql(Q, { c, t: term })).body.data.community.pot;
    const pot = await potOf(c, term);
    expect(before).toEqual({ amount: pot, approved: '0.00', proposed: '0.00', remaining: pot });
    await submitOk({
      decisionReference: 'HNFSG-2026-14',
      rows: [
        { schoolUrn: urns[0], communityCode: c, term, amount: '10000.10', purpose: 'Pot view', status: 'APPROVED' },
        { schoolUrn: urns[1], communityCode: c, term, amount: '2500.05', purpose: 'Pot view', status: 'APPROVED' },
        { schoolUrn: urns[2], communityCode: c, term, amount: '999.99', purpose: 'Pot view', status: 'PROPOSED' },
        { schoolUrn: urns[3], communityCode: c, term, amount: '123.00', purpose: 'Pot view', status: 'WITHDRAWN' },
      ],
    });
    const after = (await t.gql(Q, { c, t: term })).body.data.community.pot;
    expect(after).toEqual({
      amount: pot,
      approved: '12500.15',
      proposed: '999.99',
      remaining: pounds(pence(pot) - 1250015n),
    });
  });
});

describe('big batches', () => {
  /** Valid PROPOSED rows over every community and every open term that has pots. */
  async function validRows(n: number, label: string): Promise<Row[]> {
    const pairs: { urn: number; community: string; term: string }[] = await q(
      `SELECT m.school_urn AS urn, m.community_code AS community, t.code AS term
         FROM funding_term t JOIN community_membership m ON m.effective_from <= t.start_date AND (m.effective_to IS NULL OR m.effective_to > t.start_date)
        WHERE NOT t.closed AND EXISTS (SELECT 1 FROM community_pot p WHERE p.term_code = t.code)
        ORDER BY t.code, m.community_code, m.school_urn`,
    );
    return Array.from({ length: n }, (_, i) => {
      const p = pairs[i % pairs.length];
      return {
        schoolUrn: p.urn,
        communityCode: p.community,
        term: p.term,
        amount: `${(i % 900) + 100}.${String(i % 100).padStart(2, '0')}`,
        purpose: `${label} ${Math.floor(i / pairs.length)}`,
        status: 'PROPOSED',
      };
    });
  }
  const SMALL = `mutation Big($input: SubmitAllocationsInput!) { submitAllocations(input: $input) { applied summary { created updated unchanged rejected } results { index result userErrors { code field } } } }`;

  it(`accepts ${MAX_BATCH_ROWS.toLocaleString('en-GB')} valid rows as a whole, within the default 5 MB body limit`, async () => {
    const rows = await validRows(MAX_BATCH_ROWS, 'Bulk');
    const key = newKey('bulk');
    const body = JSON.stringify({ query: SMALL, variables: { input: withDefaults({ idempotencyKey: key, rows }) } });
    const bytes = Buffer.byteLength(body);
    expect(bytes).toBeLessThan(5 * 1024 * 1024);
    console.log(
      `${MAX_BATCH_ROWS} rows: request body ${bytes} bytes (${(bytes / 1024 / 1024).toFixed(2)} MB) on ${t.db.engine}`,
    );
    const before = await counts();
    const r = await post(SMALL, { input: withDefaults({ idempotencyKey: key, rows }) }, t.tokens.FINANCE);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.submitAllocations).toMatchObject({
      applied: true,
      summary: { created: MAX_BATCH_ROWS, updated: 0, unchanged: 0, rejected: 0 },
    });
    const after = await counts();
    expect(after.allocations).toBe(before.allocations + MAX_BATCH_ROWS);
    expect(after.audit).toBe(before.audit + MAX_BATCH_ROWS);
    const [{ n }] = await q(`SELECT count(*)::int AS n FROM audit_log WHERE idempotency_key = $1`, [key]);
    expect(n).toBe(MAX_BATCH_ROWS);
  });

  it(`refuses ${MAX_BATCH_ROWS.toLocaleString('en-GB')} rows as a whole when one is bad, reporting that row`, async () => {
    const rows = await validRows(MAX_BATCH_ROWS, 'Bulk refused');
    rows[MAX_BATCH_ROWS - 1] = { ...rows[MAX_BATCH_ROWS - 1], amount: '-1.00' };
    const before = await counts();
    const r = await post(SMALL, { input: withDefaults({ rows }) }, t.tokens.FINANCE);
    expect(r.body.errors).toBeUndefined();
    const p = r.body.data.submitAllocations;
    expect(p).toMatchObject({ applied: false, summary: { created: MAX_BATCH_ROWS - 1, rejected: 1 } });
    expect(p.results[MAX_BATCH_ROWS - 1]).toEqual({
      index: MAX_BATCH_ROWS - 1,
      result: 'REJECTED',
      userErrors: [{ code: 'BAD_AMOUNT', field: 'amount' }],
    });
    expect(await counts()).toEqual(before);
  });

  it(`refuses ${(MAX_BATCH_ROWS + 1).toLocaleString('en-GB')} rows with BAD_USER_INPUT saying the maximum`, async () => {
    const rows = await validRows(MAX_BATCH_ROWS + 1, 'Too many');
    const before = await counts();
    const r = await post(SMALL, { input: withDefaults({ rows }) }, t.tokens.FINANCE);
    expect(r.body.errors[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'input.rows',
      maxRows: MAX_BATCH_ROWS,
    });
    expect(r.body.errors[0].message).toMatch(/at most 10000 rows; got 10001/);
    expect(await counts()).toEqual(before);
  });

  it('refuses a body above the limit with 413 and a message saying the maximum', async () => {
    const rows = await validRows(10, 'Padded');
    const padding = 'x'.repeat(5 * 1024 * 1024);
    const r = await post(SMALL, { input: withDefaults({ rows }), padding }, t.tokens.FINANCE);
    expect(r.status).toBe(413);
    expect(r.body.errors[0].message).toBe(
      `Request body too large: the maximum is ${5 * 1024 * 1024} bytes (BODY_LIMIT_BYTES). Split the batch.`,
    );
    expect(r.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', maxBytes: 5 * 1024 * 1024 });
  });

  it('runs a small constant number of SQL statements, the same for 50 rows as for 5,000', async () => {
    const sqlCounter = async (op: string) => {
      const text = await (await fetch(`${t.url}/metrics`, METRICS_AUTH)).text();
      const m = new RegExp(`hub_graphql_sql_statements_sum\\{operation="${op}"\\} (\\d+)`).exec(text);
      return m ? Number(m[1]) : 0;
    };
    const statements = async (n: number, op: string) => {
      const rows = await validRows(n, `Sql ${op}`);
      const before = await sqlCounter(op);
      const r = await post(
        SMALL.replace('mutation Big', `mutation ${op}`),
        { input: withDefaults({ rows }) },
        t.tokens.FINANCE,
        { operationName: op },
      );
      expect(r.body.data.submitAllocations.applied).toBe(true);
      return (await sqlCounter(op)) - before;
    };
    const fifty = await statements(50, 'Submit50');
    const fiveThousand = await statements(5000, 'Submit5000');
    console.log(`SQL statements per submit on ${t.db.engine}: 50 rows ${fifty}, 5,000 rows ${fiveThousand}`);
    expect(fiveThousand).toBe(fifty);
    expect(fiveThousand).toBeLessThanOrEqual(20);
  });
});
