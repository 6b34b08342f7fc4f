import type { EntityManager } from 'typeorm';
import type { Viewer } from '../../auth/roles';
import { CaseloadKind, CHILD_COUNT_KINDS } from './caseload.entity';
import { CaseloadGrouping, CaseloadTable } from './caseload.types';
import { Atom, isShown } from './disclosure';
import { publishedFor } from './disclosure.store';

/** How a grouping keys an atom (null: the atom has no such group and is left out), and where its labels are. */
const GROUPS: Record<CaseloadGrouping, { key: (a: Atom) => string | null; labels: string; needsSchool: boolean }> = {
  SCHOOL: {
    key: (a) => (a.school === null ? null : String(a.school)),
    labels: `SELECT urn::text AS key, name AS label FROM school`,
    needsSchool: true,
  },
  COMMUNITY: { key: (a) => a.community, labels: `SELECT code AS key, name AS label FROM community`, needsSchool: true },
  DISTRICT: {
    key: (a) => a.district,
    labels: `SELECT ons_code AS key, name AS label FROM district`,
    needsSchool: false,
  },
  WORKER: {
    key: (a) => a.worker,
    labels: `SELECT code AS key, team || ' (' || code || ')' AS label FROM caseload_worker`,
    needsSchool: false,
  },
};

/**
 * A caseload table: the atoms of each period (the finest cells the hub keeps, see disclosure.ts) summed by
 * the grouping, within the filters. Every row and total is shown only where the viewer's suppression pattern
 * shows that same sum (or the viewer is exempt for all of it), so no table can say more than the pattern.
 */
export async function caseloadTable(
  ctx: { db: EntityManager; viewer: Viewer },
  args: {
    kind: CaseloadKind;
    groupBy: CaseloadGrouping;
    period?: string | null;
    districtCode?: string | null;
    communityCode?: string | null;
  },
): Promise<CaseloadTable> {
  const g = GROUPS[args.groupBy];
  const periods: string[] = args.period
    ? [args.period]
    : (
        await oncePerRequest(
          ctx,
          `SELECT st.code FROM school_term st WHERE EXISTS (SELECT 1 FROM caseload_count c WHERE c.kind = $1 AND c.period_code = st.code) ORDER BY st.start_date`,
          [args.kind],
        )
      ).map((r) => r.code);
  const schoolScoped = g.needsSchool || Boolean(args.communityCode);
  const controlled = CHILD_COUNT_KINDS.has(args.kind);
  const labels = new Map<string, string>();
  let labelsLoaded = false; // only when there are rows to label
  const table: CaseloadTable = {
    kind: args.kind,
    groupBy: args.groupBy,
    disclosureControlled: controlled,
    rows: [],
    totals: [],
  };
  for (const period of periods) {
    const pub = await publishedFor(ctx, args.kind, period);
    const groups = new Map<string, number[]>();
    pub.h.atoms.forEach((a, i) => {
      if (args.districtCode && a.district !== args.districtCode) return;
      if (schoolScoped && a.community === null) return;
      if (args.communityCode && a.community !== args.communityCode) return;
      const key = g.key(a);
      if (key === null) return;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key)!.push(i);
    });
    if (groups.size === 0) continue;
    if (!labelsLoaded) {
      for (const r of await oncePerRequest(ctx, g.labels)) labels.set(r.key, r.label);
      labelsLoaded = true;
    }
    const publish = (atoms: number[]) => {
      const count = atoms.reduce((s, i) => s + pub.h.atoms[i].count, 0);
      return isShown(pub.h, pub.pattern, pub.exempt, atoms)
        ? { count, suppressed: false }
        : { count: null, suppressed: true };
    };
    const rows = [...groups].map(([key, atoms]) => ({ key, label: labels.get(key) ?? key, period, ...publish(atoms) }));
    rows.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    table.rows.push(...rows);
    table.totals.push({ period, ...publish([...groups.values()].flat()) });
  }
  return table;
}

/** A read that many tables of one request share (labels, the periods of a kind): asked once per request. */
const memo = new WeakMap<object, Map<string, Promise<Record<string, string>[]>>>();
function oncePerRequest(
  ctx: { db: EntityManager },
  sql: string,
  params: unknown[] = [],
): Promise<Record<string, string>[]> {
  let m = memo.get(ctx);
  if (!m) memo.set(ctx, (m = new Map()));
  const key = `${sql}|${JSON.stringify(params)}`;
  let p = m.get(key);
  if (!p) m.set(key, (p = ctx.db.query(sql, params)));
  return p;
}
