import { startBenchHub } from './setup';
import { CaseloadKind, CHILD_COUNT_KINDS } from '../server/modules/caseload/caseload.entity';
import { forgetPatterns, warmPatterns } from '../server/modules/caseload/disclosure.store';
import type { Scope } from '../server/modules/caseload/disclosure';

/**
 * Disclosure control (BENCH_ONLY=disclosure runs only this): the time to choose the suppression patterns of
 * every controlled kind and period of the demo data, for the Analyst scope and for one Chair's scope (each
 * Chair's patterns are computed on that Chair's first read and stored), and what a `caseloads` read costs
 * with the pattern cached, beside the same read for Finance (no pattern).
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
    const time = async (label: string, scope: Scope) => {
      await db.query(`DELETE FROM disclosure_pattern`);
      await db.query(`DELETE FROM disclosure_school_cell`);
      forgetPatterns();
      const t0 = Date.now();
      await warmPatterns(db, scope, kinds, periods);
      const ms = Date.now() - t0;
      const [{ hidden }] = await db.query(
        `SELECT coalesce(sum(cardinality(hidden)), 0)::int AS hidden FROM disclosure_pattern`,
      );
      rows.push({
        what: `patterns, ${label}: ${kinds.length} kinds x ${periods.length} periods`,
        ms,
        'hidden cells': hidden,
      });
      return ms;
    };
    await time('ANALYST', { kind: 'ANALYST' });
    const chairMs = await time(`CHAIR ${hub.tokens.chairCommunity}`, {
      kind: 'CHAIR',
      community: hub.tokens.chairCommunity,
    });
    rows.push({
      what: `patterns, all ${communities} Chairs (estimated: ${communities} x one Chair; each computed on first read)`,
      ms: chairMs * communities,
    });

    const read = async (token: string, label: string) => {
      const body = JSON.stringify({
        query: `{ caseloads(kind: EHCP_PLANS, groupBy: SCHOOL, period: "2025/26-T1") { rows { key count suppressed } totals { count } } }`,
      });
      const post = (): Promise<any> =>
        fetch(`${hub.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body,
        }).then((r) => r.json());
      const first = await post();
      if (first.errors) throw new Error(JSON.stringify(first.errors));
      const times: number[] = [];
      for (let i = 0; i < 30; i++) {
        const t0 = process.hrtime.bigint();
        await post();
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      times.sort((a, b) => a - b);
      rows.push({
        what: `caseloads(EHCP_PLANS, SCHOOL, one term) as ${label}, median of 30`,
        ms: +times[15].toFixed(1),
        'hidden cells': first.data.caseloads.rows.filter((r: any) => r.suppressed).length,
      });
    };
    await warmPatterns(db, { kind: 'ANALYST' }, kinds, periods);
    await read(hub.tokens.FINANCE, 'FINANCE (no pattern)');
    await read(hub.tokens.ANALYST, 'ANALYST (pattern cached)');
    forgetPatterns();
    const t0 = Date.now();
    await warmPatterns(db, { kind: 'ANALYST' }, kinds, periods);
    rows.push({
      what: 'patterns read back from the database by a fresh process (all kinds and periods, ANALYST)',
      ms: Date.now() - t0,
    });
    return rows;
  } finally {
    await hub.stop();
  }
}
