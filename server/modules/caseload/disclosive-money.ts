import type { EntityManager } from 'typeorm';
import type { Viewer } from '../../auth/roles';
import { MEMBERSHIP_ON } from '../community/membership';
import { CaseloadKind } from './caseload.entity';
import { publishedFor, scopeOf } from './disclosure.store';
import { SMALL_MAX, SMALL_MIN } from './small-counts';

/**
 * Money that encodes a count of children. A school's banded top-up for a term is
 * sum(plans in band x annual band value) x months / 12: with five band values, the figure decodes to the
 * plans in each band (3666.67 for a four-month term is one band-A and one band-D plan), and the plans sum to
 * the school's EHCP caseload. So for a viewer without exemption it is shown only where
 * - no band count behind it is from 1 to 4 (the primary rule on the school-by-band cells it publishes), and
 * - the school's EHCP count is shown in every school term of that funding term (its pattern), and
 * - at least two schools' figures are hidden in the term, or none (the county block line is their sum).
 * Otherwise it is null, as is the school's `total`, which contains it. The county's BANDED_TOP_UP block line
 * (the sum over some 560 schools) is the aggregate at which it stays published.
 */
const perRequest = new WeakMap<object, Map<string, Set<number> | Promise<Set<number>>>>();
const NONE: ReadonlySet<number> = new Set();

/** URNs whose banded top-up in `term` the viewer may not see (a value once known, so 600 schools stay synchronous). */
export function hiddenBandedTopUps(
  ctx: { db: EntityManager; viewer: Viewer },
  term: string,
): ReadonlySet<number> | Promise<ReadonlySet<number>> {
  if (scopeOf(ctx.viewer, CaseloadKind.EHCP_PLANS).kind === 'ALL') return NONE;
  let memo = perRequest.get(ctx);
  if (!memo) perRequest.set(ctx, (memo = new Map()));
  const hit = memo.get(term);
  if (hit) return hit;
  const m = memo;
  const p = compute(ctx, term).then((set) => {
    m.set(term, set);
    return set;
  });
  p.catch(() => m.delete(term));
  memo.set(term, p);
  return p;
}

async function compute(ctx: { db: EntityManager; viewer: Viewer }, term: string): Promise<Set<number>> {
  const rows: { urn: number; banded: string; small: boolean; community: string | null }[] = await ctx.db.query(
    `SELECT f.school_urn AS urn, f.banded_top_up::text AS banded,
            coalesce((SELECT bool_or(b.plans BETWEEN $2 AND $3) FROM ehcp_band_count b WHERE b.school_urn = f.school_urn AND b.term_code = f.term_code), false) AS small,
            (SELECT m.community_code FROM community_membership m WHERE m.school_urn = f.school_urn AND ${MEMBERSHIP_ON('m', 'ft.start_date')}) AS community
       FROM school_term_funding f JOIN funding_term ft ON ft.code = f.term_code
      WHERE f.term_code = $1`,
    [term, SMALL_MIN, SMALL_MAX],
  );
  // Banding applies to the term when any school has a banded top-up in it; before that every figure is 0.
  if (!rows.some((r) => Number(r.banded) !== 0)) return new Set();
  const periods: string[] = (
    await ctx.db.query(
      `SELECT st.code FROM school_term st WHERE st.funding_term_code = $1 AND EXISTS (SELECT 1 FROM caseload_count c WHERE c.kind = $2 AND c.period_code = st.code)`,
      [term, CaseloadKind.EHCP_PLANS],
    )
  ).map((r: { code: string }) => r.code);
  const pubs = await Promise.all(periods.map((p) => publishedFor(ctx, CaseloadKind.EHCP_PLANS, p)));
  const scope = scopeOf(ctx.viewer, CaseloadKind.EHCP_PLANS);
  const hidden = new Set<number>();
  for (const r of rows) {
    if (scope.kind === 'CHAIR' && r.community === scope.community) continue;
    const countHidden = pubs.some((pub) => {
      const f = pub.h.byName.get(`S:${r.urn}`);
      return f !== undefined && pub.pattern.hidden[f] && !pub.h.forms[f].atoms.every((i) => pub.exempt[i]);
    });
    if (r.small || countHidden) hidden.add(r.urn);
  }
  if (hidden.size === 1) {
    // One hidden figure would be the block line minus the rest: hide the smallest other non-zero one too.
    const next = rows
      .filter(
        (r) =>
          !hidden.has(r.urn) && Number(r.banded) !== 0 && !(scope.kind === 'CHAIR' && r.community === scope.community),
      )
      .sort((a, b) => Number(a.banded) - Number(b.banded) || a.urn - b.urn)[0];
    if (next) hidden.add(next.urn);
  }
  return hidden;
}
