import crypto from 'node:crypto';
import Decimal from 'decimal.js';
import { applyClosures } from '../../server/modules/school/closure';
import type { EntityManager } from 'typeorm';
import { allMigrations } from '../../migrations';
import { recomputeRecord } from '../../server/modules/scenario/parameters.service';
import { startTestDatabase, TestDatabase, usingPostgres } from '../helpers/db';
import { startTestHub } from '../helpers/hub';

/*
 * Issue 11, item 3, for schools closed before closures ended memberships: the data migration ends their open
 * memberships, and their figures of record follow. The migrations record the (community, term) pairs left stale;
 * the hub recomputes them at start-up, exactly as a closure does, audited, once.
 */
const CLOSE = '2026-08-31';
const MIGRATIONS = allMigrations()
  .map((M) => new M().name!)
  .filter((n) => /^(EndClosedSchoolMemberships|PendingClosureRecomputes)\d+$/.test(n));

let db: TestDatabase;
beforeAll(async () => {
  db = await startTestDatabase({ realData: true });
});
afterAll(async () => {
  await db?.stop();
});
const q = (sql: string, params: unknown[] = []): Promise<any[]> => db.dataSource.query(sql, params);

/** Every figure of record a closure's recompute writes, to the penny (read through `run`: a transaction, say). */
async function figures(run: (sql: string) => Promise<any[]> = (sql) => q(sql)) {
  return {
    shares: await run(
      `SELECT school_urn AS urn, term_code AS term, protection_rate AS rate, protected_amount AS protected, community_share AS share,
              banded_top_up AS banded, source_parameter_version AS version FROM school_term_funding ORDER BY 1, 2`,
    ),
    pots: await run(
      `SELECT community_code AS c, term_code AS t, amount, source_kind AS kind FROM community_pot ORDER BY 1, 2`,
    ),
    lines: await run(
      `SELECT financial_year_code AS fy, line_code AS code, budget, forecast FROM high_needs_block_line ORDER BY 1, 2`,
    ),
    notional: await run(
      `SELECT school_urn AS urn, financial_year_code AS fy, factor, sen_amount AS amount FROM notional_sen_factor ORDER BY 1, 2, 3`,
    ),
  };
}
type Figures = Awaited<ReturnType<typeof figures>>;

/** An open member school of a community on 1 September 2026 with funding rows, not its only member. */
async function memberOf(offset: number) {
  const [m] = await q(
    `SELECT m.school_urn AS urn, m.community_code AS c FROM community_membership m JOIN school s ON s.urn = m.school_urn
      JOIN school_term_funding f ON f.school_urn = m.school_urn AND f.term_code = 'AUTUMN-2026'
     WHERE s.status = 'OPEN' AND s.close_date IS NULL AND m.effective_from <= '2026-09-01' AND m.effective_to IS NULL
     ORDER BY m.community_code, m.school_urn OFFSET $1 LIMIT 1`,
    [offset],
  );
  return m as { urn: number; c: string };
}

/** The old state: the GIAS import of old marked the school closed and left its membership open. */
const closeTheOldWay = (urn: number) =>
  q(`UPDATE school SET status = 'CLOSED', close_date = $2 WHERE urn = $1`, [urn, CLOSE]);

/** The figures after `change` runs in a transaction on this database as it is now (rolled back). */
async function figuresAfter(change: (tx: EntityManager) => Promise<unknown>): Promise<Figures> {
  let out: Figures | null = null;
  const rollback = new Error('rollback');
  await db.dataSource
    .transaction(async (tx) => {
      await change(tx);
      out = await figures((sql) => tx.query(sql));
      throw rollback;
    })
    .catch((err) => {
      if (err !== rollback) throw err;
    });
  return out!;
}

/** Migrates as an upgrade from before the two migrations would: they run again, on the old state. */
async function migrateFromBefore() {
  await q(`DROP TABLE pending_recompute`);
  await q(`DELETE FROM typeorm_migrations WHERE name = ANY($1::text[])`, [MIGRATIONS]);
  const ran = await db.dataSource.runMigrations({ transaction: 'each' });
  expect(ran.map((m) => m.name)).toEqual(MIGRATIONS);
}

const openTermsFrom = async (date: string) =>
  (await q(`SELECT code FROM funding_term WHERE start_date >= $1 AND NOT closed ORDER BY start_date`, [date])).map(
    (r) => r.code as string,
  );
const SUBMIT = `mutation($i: SubmitAllocationsInput!) { submitAllocations(input: $i) { applied results { allocationId version userErrors { code message } } } }`;
const STATUS = `query($term: String) { dataStatus(term: $term) { datasets { key missing } } }`;

describe('a school closed before closures existed, after the migration', () => {
  let school: { urn: number; c: string };
  let allocationId: string;
  let expected: Figures;
  let before: Figures;
  let afterFirst: Figures;

  beforeAll(async () => {
    school = await memberOf(40);
    // While it was open, Finance approved £5,000 for it in Spring 2027 (the old hub allowed it after closure too).
    const hub = await startTestHub({ db });
    try {
      const r = await hub.gql(SUBMIT, {
        i: {
          idempotencyKey: `old-${crypto.randomUUID()}`,
          decisionReference: 'D-OLD',
          reason: 'test',
          rows: [
            {
              schoolUrn: school.urn,
              communityCode: school.c,
              term: 'SPRING-2027',
              amount: '5000.00',
              purpose: 'Before the closure',
              status: 'APPROVED',
            },
          ],
        },
      });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data.submitAllocations.applied).toBe(true);
      allocationId = r.body.data.submitAllocations.results[0].allocationId;
    } finally {
      await hub.stop();
    }
    await closeTheOldWay(school.urn);
    before = await figures();
    // What closing it by hand on this old state computes (closeSchool and the GIAS import run applyClosures).
    expected = await figuresAfter((tx) => applyClosures(tx, [{ urn: school.urn, closeDate: CLOSE }], 'expected'));
  });

  it('starts from stale figures: the closed school still has its shares in later terms', async () => {
    const [own] = await q(
      `SELECT community_share AS share FROM school_term_funding WHERE school_urn = $1 AND term_code = 'AUTUMN-2026'`,
      [school.urn],
    );
    expect(new Decimal(own.share).gt(0)).toBe(true);
    expect(before.shares).not.toEqual(expected.shares);
    expect(before.pots).not.toEqual(expected.pots);
  });

  it('the migrations end its membership and record every (community, term) pair left stale, changing no figure', async () => {
    await migrateFromBefore();
    const [m] = await q(
      `SELECT effective_to::text AS "to" FROM community_membership WHERE school_urn = $1 ORDER BY effective_from DESC LIMIT 1`,
      [school.urn],
    );
    expect(m.to).toBe(CLOSE);
    const pending = await q(
      `SELECT school_urn AS urn, community_code AS c, term_code AS t, close_date::text AS close FROM pending_recompute ORDER BY id`,
    );
    const terms = await openTermsFrom(CLOSE);
    expect(terms).toContain('AUTUMN-2026');
    expect(pending.map((p) => p.t).sort()).toEqual([...terms].sort());
    expect(pending.every((p) => p.urn === school.urn && p.c === school.c && p.close === CLOSE)).toBe(true);
    // The migration changes no figure itself: they are still the stale ones until a hub recomputes them.
    expect(await figures()).toEqual(before);
  });

  it('a hub starting recomputes them exactly as a closure does, to the penny, lists the later allocation and audits it', async () => {
    const hub = await startTestHub({ db });
    try {
      afterFirst = await figures();
      expect(afterFirst).toEqual(expected);
      expect(await q(`SELECT * FROM pending_recompute`)).toEqual([]);
      const [own] = await q(
        `SELECT community_share AS share FROM school_term_funding WHERE school_urn = $1 AND term_code = 'AUTUMN-2026'`,
        [school.urn],
      );
      expect(own.share).toBe('0.00');
      // Its community's pot is shared among the schools still open, to the penny.
      const open = await q(
        `SELECT sum(f.community_share)::text AS total FROM school_term_funding f JOIN community_membership m ON m.school_urn = f.school_urn
          WHERE f.term_code = 'AUTUMN-2026' AND m.community_code = $1 AND m.effective_from <= '2026-09-01' AND (m.effective_to IS NULL OR m.effective_to > '2026-09-01')`,
        [school.c],
      );
      const [pot] = await q(
        `SELECT amount FROM community_pot WHERE community_code = $1 AND term_code = 'AUTUMN-2026'`,
        [school.c],
      );
      expect(new Decimal(open[0].total).toFixed(2)).toBe(pot.amount);
      const audits = await q(
        `SELECT actor, role, source, after FROM audit_log WHERE entity = 'SCHOOL' AND action = 'RECOMPUTE_AFTER_CLOSURE'`,
      );
      expect(audits).toHaveLength(1);
      expect(audits[0]).toMatchObject({ actor: 'hub:pending-recompute', role: 'SYSTEM', source: 'MIGRATE' });
      expect(audits[0].after).toMatchObject({
        urn: school.urn,
        closeDate: CLOSE,
        communities: [school.c],
        allocationsAfterClosure: [{ id: allocationId, term: 'SPRING-2027', status: 'APPROVED', amount: '5000.00' }],
      });
      expect(audits[0].after.termsRecomputed).toEqual(await openTermsFrom(CLOSE));
      expect(audits[0].after.schoolTermRowsChanged).toBeGreaterThan(0);
      const s = await hub.gql(STATUS, { term: 'AUTUMN-2026' });
      expect(s.body.data.dataStatus.datasets.find((d: any) => d.key === 'pots').missing).toEqual([]);
    } finally {
      await hub.stop();
    }
  });

  it('a second start changes nothing and audits nothing more', async () => {
    const hub = await startTestHub({ db });
    try {
      expect(await figures()).toEqual(afterFirst);
      const [{ n }] = await q(
        `SELECT count(*)::int AS n FROM audit_log WHERE entity = 'SCHOOL' AND action = 'RECOMPUTE_AFTER_CLOSURE'`,
      );
      expect(n).toBe(1);
    } finally {
      await hub.stop();
    }
  });
});

describe('a recompute the pots refuse', () => {
  it('leaves every figure as it was, keeps the pending pairs with the reason, which dataStatus reports, and settles once Finance has made room', async () => {
    const school = await memberOf(80);
    const [pot] = await q(`SELECT amount FROM community_pot WHERE community_code = $1 AND term_code = 'SPRING-2027'`, [
      school.c,
    ]);
    const other = (
      await q(
        `SELECT m.school_urn AS urn FROM community_membership m JOIN school s ON s.urn = m.school_urn
          WHERE m.community_code = $1 AND m.school_urn <> $2 AND s.status = 'OPEN' AND m.effective_to IS NULL ORDER BY 1 LIMIT 1`,
        [school.c, school.urn],
      )
    )[0].urn as number;
    // The whole pot approved for another school: the pot a closure makes is smaller, so the recompute is refused.
    let hub = await startTestHub({ db });
    let version: number;
    try {
      const r = await hub.gql(SUBMIT, {
        i: {
          idempotencyKey: `full-${crypto.randomUUID()}`,
          decisionReference: 'D-FULL',
          reason: 'test',
          rows: [
            {
              schoolUrn: other,
              communityCode: school.c,
              term: 'SPRING-2027',
              amount: pot.amount,
              purpose: 'The whole pot',
              status: 'APPROVED',
            },
          ],
        },
      });
      expect(r.body.data.submitAllocations.applied).toBe(true);
      version = r.body.data.submitAllocations.results[0].version;
    } finally {
      await hub.stop();
    }
    await closeTheOldWay(school.urn);
    await migrateFromBefore();
    const stale = await figures();

    hub = await startTestHub({ db });
    try {
      expect(await figures()).toEqual(stale);
      const pending = await q(
        `SELECT term_code AS t, attempts, last_error AS error FROM pending_recompute WHERE school_urn = $1 ORDER BY t`,
        [school.urn],
      );
      expect(pending.map((p) => p.t).sort()).toEqual((await openTermsFrom(CLOSE)).sort());
      expect(pending.every((p) => p.attempts === 1)).toBe(true);
      const s = await hub.gql(STATUS, { term: 'SPRING-2027' });
      expect(s.body.errors).toBeUndefined();
      const missing: string[] = s.body.data.dataStatus.datasets.find((d: any) => d.key === 'pots').missing;
      const refused = `Recomputing after schools closed before closures ended memberships would set a pot below what is already approved: ${school.c} SPRING-2027 (approved ${pot.amount}, new pot `;
      expect(pending.every((p) => p.error.startsWith(refused))).toBe(true);
      expect(missing).toEqual([
        `SPRING-2027: the pot and shares of ${school.c} still count school ${school.urn} (closed ${CLOSE}); the hub recomputes them at start-up (last attempt refused: ${pending[0].error})`,
      ]);
      // Finance withdraws the approval; the next start settles the closure, as a closure would have.
      const w = await hub.gql(`mutation($i: SubmitAllocationsInput!) { submitAllocations(input: $i) { applied } }`, {
        i: {
          idempotencyKey: `withdraw-${crypto.randomUUID()}`,
          reason: 'make room',
          rows: [
            {
              baseVersion: version!,
              schoolUrn: other,
              communityCode: school.c,
              term: 'SPRING-2027',
              amount: pot.amount,
              purpose: 'The whole pot',
              status: 'WITHDRAWN',
            },
          ],
        },
      });
      expect(w.body.errors).toBeUndefined();
    } finally {
      await hub.stop();
    }
    // Its membership already ended by the migration, a closure's recompute from the close date is what is owed.
    const expected = await figuresAfter((tx) => recomputeRecord(tx, { from: CLOSE, what: 'expected' }));
    expect(expected.shares).not.toEqual(stale.shares);
    hub = await startTestHub({ db });
    try {
      expect(await figures()).toEqual(expected);
      expect(await q(`SELECT * FROM pending_recompute`)).toEqual([]);
    } finally {
      await hub.stop();
    }
  });
});

(usingPostgres() ? describe : describe.skip)('two hubs starting at once on one PostgreSQL database', () => {
  it('settle a pending closure once: one waits on the pot locks, then finds nothing left', async () => {
    const school = await memberOf(120);
    await closeTheOldWay(school.urn);
    await migrateFromBefore();
    const expected = await figuresAfter((tx) => recomputeRecord(tx, { from: CLOSE, what: 'expected' }));
    const [{ n: audits0 }] = await q(
      `SELECT count(*)::int AS n FROM audit_log WHERE entity = 'SCHOOL' AND action = 'RECOMPUTE_AFTER_CLOSURE'`,
    );
    // A third connection holds the first pot both will lock, so both hubs are certainly in the window together.
    const holder = await db.connectAnother(1);
    const other = await db.connectAnother(2);
    const lock = holder.createQueryRunner();
    await lock.startTransaction();
    await lock.query(
      `SELECT 1 FROM community_pot WHERE term_code = ANY($1::text[]) ORDER BY community_code, term_code LIMIT 1 FOR UPDATE`,
      [await openTermsFrom(CLOSE)],
    );
    const a = startTestHub({ db });
    const b = startTestHub({ db: { ...db, dataSource: other } });
    const waiting = async () =>
      (
        await q(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        )
      )[0].n as number;
    const until = Date.now() + 60_000;
    while ((await waiting()) < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    const bothWaited = await waiting();
    await lock.rollbackTransaction();
    await lock.release();
    const hubs = await Promise.all([a, b]);
    try {
      expect(bothWaited).toBe(2);
      expect(await figures()).toEqual(expected);
      expect(await q(`SELECT * FROM pending_recompute`)).toEqual([]);
      const audits = await q(
        `SELECT entity_id AS urn FROM audit_log WHERE entity = 'SCHOOL' AND action = 'RECOMPUTE_AFTER_CLOSURE' ORDER BY id OFFSET $1`,
        [audits0],
      );
      expect(audits).toEqual([{ urn: String(school.urn) }]);
    } finally {
      for (const h of hubs) await h.stop();
    }
  });
});
