import { startTestHub, TestHub } from '../helpers/hub';

/**
 * Disclosure patterns computed ahead: a hub with DISCLOSURE_PRECOMPUTE_MS computes the Analyst's and every Chair
 * token's patterns in the background, so a first read finds them stored; when counts change, the read that meets
 * the new version computes its own pattern (never showing the old one's cells) and the background the rest.
 */
let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ disclosurePrecomputeMs: 3_600_000 });
}, 120_000);
afterAll(() => t?.stop());

const TABLE = `query($kind: CaseloadKind!, $period: String) {
  caseloads(kind: $kind, groupBy: SCHOOL, period: $period) { rows { key count suppressed } }
}`;

const stale = () =>
  t.db.dataSource.query(
    `SELECT s.scope, v.kind, v.period_code AS period FROM caseload_version v
       CROSS JOIN (VALUES ('ANALYST'), ('CHAIR:' || $1::text)) AS s(scope)
      WHERE v.kind IN ('SIPS_CHILDREN', 'EHCP_PLANS', 'EYPRG_REFERRALS')
        AND NOT EXISTS (SELECT 1 FROM disclosure_pattern p WHERE p.scope = s.scope AND p.kind = v.kind
                           AND p.period_code = v.period_code AND p.data_version = v.version)
      ORDER BY 1, 2, 3`,
    [t.tokens.chairCommunity],
  );

describe('disclosure patterns computed ahead', () => {
  it("stores every pattern of the Analyst and of each Chair token before anyone reads, so a Chair's first read computes none", async () => {
    const reading = t.gql(TABLE, { kind: 'EHCP_PLANS', period: '2025/26-T1' }, t.tokens.ANALYST);
    await t.hub.precomputeIdle();
    expect(await stale()).toEqual([]);
    const [{ n }] = await t.db.dataSource.query(
      `SELECT count(*)::int AS n FROM disclosure_pattern WHERE scope IN ('ANALYST', 'CHAIR:' || $1::text)`,
      [t.tokens.chairCommunity],
    );
    expect(n).toBe(2 * 3 * 8); // two scopes, three kinds, eight terms
    // A read that came in while the background was busy waited for its pattern: it is the stored one.
    const during = (await reading).body.data.caseloads.rows;
    const after = (await t.gql(TABLE, { kind: 'EHCP_PLANS', period: '2025/26-T1' }, t.tokens.ANALYST)).body.data
      .caseloads.rows;
    expect(during).toEqual(after);
    expect(during.filter((r: any) => r.suppressed).length).toBeGreaterThan(100);

    const [before] = await t.db.dataSource.query(
      `SELECT max(computed_at) AS at, count(*)::int AS n FROM disclosure_pattern`,
    );
    const started = Date.now();
    const chair = await t.gql(
      `{ caseloads(kind: EHCP_PLANS, groupBy: SCHOOL) { rows { key count suppressed } } }`,
      {},
      t.tokens.CHAIR,
    );
    expect(chair.body.errors).toBeUndefined();
    console.log(`a Chair's first all-terms read, patterns computed ahead: ${Date.now() - started} ms`);
    const [afterRead] = await t.db.dataSource.query(
      `SELECT max(computed_at) AS at, count(*)::int AS n FROM disclosure_pattern`,
    );
    expect(afterRead).toEqual(before);
  }, 300_000);

  it('after the counts change, hides the new small count at once and recomputes every scope in the background', async () => {
    // A school the Analyst sees with 5 or more plans in one term becomes a school with 2.
    const rows = (await t.gql(TABLE, { kind: 'EHCP_PLANS', period: '2025/26-T2' }, t.tokens.ANALYST)).body.data
      .caseloads.rows;
    const [{ urn }] = await t.db.dataSource.query(
      `SELECT c.school_urn AS urn FROM caseload_count c
        WHERE c.kind = 'EHCP_PLANS' AND c.period_code = '2025/26-T2' AND c.school_urn = ANY($1::int[])
          AND NOT EXISTS (SELECT 1 FROM community_membership m WHERE m.school_urn = c.school_urn AND m.community_code = $2)
        GROUP BY 1 HAVING count(*) = 1 ORDER BY 1 LIMIT 1`,
      [rows.filter((r: any) => !r.suppressed && r.count >= 5).map((r: any) => Number(r.key)), t.tokens.chairCommunity],
    );
    await t.db.dataSource.query(
      `UPDATE caseload_count SET count = 2 WHERE kind = 'EHCP_PLANS' AND period_code = '2025/26-T2' AND school_urn = $1`,
      [urn],
    );
    expect(await stale()).toEqual([
      { scope: 'ANALYST', kind: 'EHCP_PLANS', period: '2025/26-T2' },
      { scope: `CHAIR:${t.tokens.chairCommunity}`, kind: 'EHCP_PLANS', period: '2025/26-T2' },
    ]);
    const compiled = async (token: string) =>
      (
        await t.gql(`{ school(urn: ${urn}) { caseloads(period: "2025/26-T2") { kind count suppressed } } }`, {}, token)
      ).body.data.school.caseloads.find((c: any) => c.kind === 'EHCP_PLANS');
    // The Analyst's read meets the new version: it computes the Analyst's pattern, with the school hidden...
    const now = (await t.gql(TABLE, { kind: 'EHCP_PLANS', period: '2025/26-T2' }, t.tokens.ANALYST)).body.data.caseloads
      .rows;
    expect(now.find((r: any) => r.key === String(urn))).toEqual({ key: String(urn), count: null, suppressed: true });
    // ...and wakes the background, which computes the Chair's without a Chair reading.
    await t.hub.precomputeIdle();
    expect(await stale()).toEqual([]);
    expect(await compiled(t.tokens.CHAIR)).toEqual({ kind: 'EHCP_PLANS', count: null, suppressed: true });
    expect(await compiled(t.tokens.FINANCE)).toEqual({ kind: 'EHCP_PLANS', count: 2, suppressed: false });
  }, 300_000);

  it('recomputes on its own, with no read, when another process changes the counts (an import elsewhere)', async () => {
    // A second hub on the same database, polling often: the change below is made behind both hubs' backs.
    const poller = await startTestHub({ db: t.db, disclosurePrecomputeMs: 300 });
    try {
      await poller.hub.precomputeIdle();
      expect(await stale()).toEqual([]);
      await t.db.dataSource.query(
        `UPDATE caseload_count SET count = count + 3 WHERE kind = 'SIPS_CHILDREN' AND period_code = '2025/26-T3'
            AND worker_code = (SELECT min(worker_code) FROM caseload_count WHERE kind = 'SIPS_CHILDREN')`,
      );
      expect((await stale()).map((r: any) => `${r.scope} ${r.kind} ${r.period}`)).toEqual([
        'ANALYST SIPS_CHILDREN 2025/26-T3',
        `CHAIR:${t.tokens.chairCommunity} SIPS_CHILDREN 2025/26-T3`,
      ]);
      const deadline = Date.now() + 120_000;
      while ((await stale()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(await stale()).toEqual([]);
    } finally {
      await poller.stop();
    }
  }, 300_000);
});
