import type { EntityManager } from 'typeorm';
import { Role, seesSmallCounts, Viewer } from '../../auth/roles';
import { MEMBERSHIP_ON } from '../school/school.sql';
import { CaseloadKind, CHILD_COUNT_KINDS } from './caseload.entity';
import { CaseloadGrouping, CaseloadTable } from './caseload.types';
import { suppressCells } from './suppression';

const GROUPS: Record<CaseloadGrouping, { key: string; label: string; join: string; needsSchool: boolean }> = {
  SCHOOL: { key: 'c.school_urn::text', label: 's.name', join: 'JOIN school s ON s.urn = c.school_urn', needsSchool: true },
  COMMUNITY: { key: 'm.community_code', label: 'co.name', join: 'JOIN community co ON co.code = m.community_code', needsSchool: true },
  DISTRICT: { key: 'c.district_code', label: 'd.name', join: 'JOIN district d ON d.ons_code = c.district_code', needsSchool: false },
  WORKER: { key: 'c.worker_code', label: "w.team || ' (' || w.code || ')'", join: 'JOIN caseload_worker w ON w.code = c.worker_code', needsSchool: false },
};

export async function caseloadTable(
  db: EntityManager,
  viewer: Viewer,
  args: { kind: CaseloadKind; groupBy: CaseloadGrouping; period?: string | null; districtCode?: string | null; communityCode?: string | null },
): Promise<CaseloadTable> {
  const g = GROUPS[args.groupBy];
  const params: unknown[] = [args.kind];
  const where = ['c.kind = $1'];
  if (args.period) {
    params.push(args.period);
    where.push(`c.period_code = $${params.length}`);
  }
  if (args.districtCode) {
    params.push(args.districtCode);
    where.push(`c.district_code = $${params.length}`);
  }
  const schoolScoped = g.needsSchool || Boolean(args.communityCode);
  if (schoolScoped) where.push('m.community_code IS NOT NULL');
  if (args.communityCode) {
    params.push(args.communityCode);
    where.push(`m.community_code = $${params.length}`);
  }
  // A row's community (at the start of its term) decides whether a Chair may see its small counts.
  const communityExpr = args.groupBy === CaseloadGrouping.SCHOOL || args.groupBy === CaseloadGrouping.COMMUNITY ? 'm.community_code' : 'NULL::text';
  const rows: { key: string; label: string; period: string; community: string | null; count: number }[] = await db.query(
    `SELECT ${g.key} AS key, ${g.label} AS label, c.period_code AS period, ${communityExpr} AS community, sum(c.count)::int AS count
       FROM caseload_count c
       JOIN school_term st ON st.code = c.period_code
       LEFT JOIN community_membership m ON m.school_urn = c.school_urn AND ${MEMBERSHIP_ON('m', 'st.start_date')}
       ${g.join}
      WHERE ${where.join(' AND ')}
      GROUP BY 1, 2, 3, 4, st.start_date
      ORDER BY st.start_date, 2, 1`,
    params,
  );
  const controlled = CHILD_COUNT_KINDS.has(args.kind);
  const everything = !controlled || viewer.role === Role.FINANCE || viewer.role === Role.SUBGROUP;
  const { cells, totals } = suppressCells(
    rows.map((r) => ({ group: r.period, count: r.count, exempt: everything || seesSmallCounts(viewer, r.community) })),
    { totalsExempt: everything || (viewer.role === Role.CHAIR && args.communityCode === viewer.communityCode && Boolean(args.communityCode)) },
  );
  return {
    kind: args.kind,
    groupBy: args.groupBy,
    disclosureControlled: controlled,
    rows: rows.map((r, i) => ({ key: r.key, label: r.label, period: r.period, ...cells[i] })),
    totals: [...totals].map(([period, t]) => ({ period, ...t })),
  };
}
