import { startBenchHub } from './setup';
import { Role, Viewer } from '../server/auth/roles';
import { CaseloadKind, CHILD_COUNT_KINDS } from '../server/modules/caseload/caseload.entity';
import {
  forgetPatterns,
  precomputePatterns,
  published,
  warmPatterns,
} from '../server/modules/caseload/disclosure.store';
import { chooseGreedyPattern, choosePattern, Hierarchy, Pattern, Scope } from '../server/modules/caseload/disclosure';

/**
 * Disclosure control (BENCH_ONLY=disclosure runs only this): the time to choose the suppression patterns of
 * every controlled kind and period of the demo data, for the Analyst scope and for one Chair's scope (a Chair's
 * starts from the Analyst's), what the background computation ahead costs for every Chair token, what the
 * first and later `caseloads` reads cost, and how many cells the patterns hide beside the greedy choice they
 * replaced.
 */
export async function benchDisclosure(): Promise<Record<string, unknown>[]> {
  const hub = await startBenchHub(null);
  try {
    const db = hub.dataSource.manager;
    const kinds = [...CHILD_COUNT_KINDS] as CaseloadKind[];
    const periods: string[] = (await db.query(`SELECT DISTINCT period_code AS p FROM caseload_count ORDER BY 1`)).map(
      (r: { p: string }) => r.p,
    );
    const [{ n: communities }] = await db.query(`SELECT count(*)::int AS n FROM community`);
    const rows: Record<string, unknown>[] = [];
    const clear = async () => {
      await db.query(`DELETE FROM disclosure_pattern`);
      await db.query(`DELETE FROM disclosure_school_cell`);
      forgetPatterns();
    };
    const storedHidden = async (scope: string) =>
      (
        await db.query(
          `SELECT coalesce(sum(cardinality(hidden)), 0)::int AS hidden FROM disclosure_pattern WHERE scope = $1`,
          [scope],
        )
      )[0].hidden;
    const chair: Scope = { kind: 'CHAIR', community: hub.tokens.chairCommunity };

    // 1. Choosing the patterns (the Analyst's from scratch; a Chair's with the Analyst's stored).
    await clear();
    let t0 = Date.now();
    await warmPatterns(db, { kind: 'ANALYST' }, kinds, periods);
    rows.push({
      what: `patterns, ANALYST: ${kinds.length} kinds x ${periods.length} periods`,
      ms: Date.now() - t0,
      'hidden cells': await storedHidden('ANALYST'),
    });
    t0 = Date.now();
    await warmPatterns(db, chair, kinds, periods);
    const chairMs = Date.now() - t0;
    rows.push({
      what: `patterns, CHAIR ${hub.tokens.chairCommunity} (from the Analyst's, stored): ${kinds.length} x ${periods.length}`,
      ms: chairMs,
      'hidden cells': await storedHidden(`CHAIR:${hub.tokens.chairCommunity}`),
    });
    rows.push({
      what: `patterns, all ${communities} Chairs (estimated: ${communities} x one Chair)`,
      ms: chairMs * communities,
    });
    // 2. The background computation ahead, from nothing stored: the Analyst and the demo's one Chair token.
    await clear();
    t0 = Date.now();
    await precomputePatterns(db);
    const ms = Date.now() - t0;
    const [{ n: stored }] = await db.query(`SELECT count(*)::int AS n FROM disclosure_pattern`);
    rows.push({
      what: `computed ahead in the background from nothing (ANALYST + 1 Chair token): ${stored} patterns stored`,
      ms,
    });

    // 3. Reads.
    const post = (token: string, query: string): Promise<any> =>
      fetch(`${hub.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query }),
      }).then((r) => r.json());
    const ONE = `{ caseloads(kind: EHCP_PLANS, groupBy: SCHOOL, period: "2025/26-T1") { rows { key count suppressed } totals { count } } }`;
    const ALL = `{ caseloads(kind: EHCP_PLANS, groupBy: SCHOOL) { rows { key count suppressed } totals { count } } }`;
    const read = async (token: string, label: string, query = ONE) => {
      const first = await post(token, query);
      if (first.errors) throw new Error(JSON.stringify(first.errors));
      const times: number[] = [];
      for (let i = 0; i < 30; i++) {
        const t = process.hrtime.bigint();
        await post(token, query);
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      times.sort((a, b) => a - b);
      rows.push({
        what: `${label}, median of 30`,
        ms: +times[15].toFixed(1),
        'hidden cells': first.data.caseloads.rows.filter((r: any) => r.suppressed).length,
      });
    };
    await read(hub.tokens.FINANCE, 'caseloads(EHCP_PLANS, SCHOOL, one term) as FINANCE (no pattern)');
    await read(hub.tokens.ANALYST, 'caseloads(EHCP_PLANS, SCHOOL, one term) as ANALYST (pattern cached)');
    await read(hub.tokens.ANALYST, 'caseloads(EHCP_PLANS, SCHOOL, all 8 terms) as ANALYST (pattern cached)', ALL);
    // A Chair's first read of every term: computed ahead (stored), and for a new Chair with only the Analyst's.
    forgetPatterns();
    t0 = Date.now();
    await post(hub.tokens.CHAIR, ALL);
    rows.push({ what: "a Chair's first all-terms read, patterns computed ahead", ms: Date.now() - t0 });
    await db.query(`DELETE FROM disclosure_pattern WHERE scope LIKE 'CHAIR:%'`);
    await db.query(`DELETE FROM disclosure_school_cell WHERE scope LIKE 'CHAIR:%'`);
    forgetPatterns();
    t0 = Date.now();
    await post(hub.tokens.CHAIR, ALL);
    rows.push({
      what: "a new Chair's first all-terms read (computes the Chair's 8 EHCP patterns)",
      ms: Date.now() - t0,
    });
    forgetPatterns();
    t0 = Date.now();
    await warmPatterns(db, { kind: 'ANALYST' }, kinds, periods);
    rows.push({
      what: 'patterns read back from the database by a fresh process (all kinds and periods, ANALYST)',
      ms: Date.now() - t0,
    });

    // 4. Hidden cells, ANALYST, over every term: the programme against the greedy choice it replaced.
    const finance = { role: Role.FINANCE, communityCode: null } as Viewer;
    const count = (h: Hierarchy, p: Pattern, prefix: string) =>
      h.forms.filter((f, i) => p.hidden[i] && f.names.some((n) => n.startsWith(prefix))).length;
    for (const [kind, prefix, label] of [
      [CaseloadKind.SIPS_CHILDREN, 'WD:', 'SIPS worker-in-district cells'],
      [CaseloadKind.SIPS_CHILDREN, '', 'SIPS sums of every level'],
      [CaseloadKind.EHCP_PLANS, 'S:', 'EHCP school cells'],
    ] as const) {
      let greedy = 0;
      let programme = 0;
      let all = 0;
      let primary = 0;
      for (const period of periods) {
        const { h } = await published(db, finance, kind, period);
        const g = await chooseGreedyPattern(h, { kind: 'ANALYST' });
        const p = await choosePattern(h, { kind: 'ANALYST' });
        greedy += count(h, g, prefix);
        programme += count(h, p, prefix);
        primary += h.forms.filter((f, i) => p.primary[i] && f.names.some((n) => n.startsWith(prefix))).length;
        all += h.forms.filter((f) => f.names.some((n) => n.startsWith(prefix))).length;
      }
      rows.push({
        what: `hidden ${label}, ANALYST, ${periods.length} terms: of ${all} (${primary} primary), greedy ${greedy}`,
        'hidden cells': programme,
      });
    }
    return rows;
  } finally {
    await hub.stop();
  }
}
