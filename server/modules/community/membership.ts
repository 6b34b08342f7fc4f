/**
 * Membership of a Community of Schools on a date: the one rule, in SQL and in TypeScript.
 *
 * A membership is in force from `effective_from` (inclusive) to `effective_to` (exclusive; null = open).
 * Should two memberships of one school ever overlap on a date, the one that started last is the school's
 * community on that date, and the other does not count at all: not for the school's community, nor for the
 * community's members, member count, pot shares, filters, caseload totals or allocation checks. A school's
 * start dates are unique (index on school_urn, effective_from), so this picks exactly one.
 *
 * Every reader uses MEMBERSHIP_ON (SQL) or communityOn / membersOn (TypeScript); nothing else restates it.
 */

/**
 * SQL: membership row `m` (an alias of community_membership) is the one in force for its school on `date`
 * (a SQL expression of type date). Usable in WHERE, JOIN ON and EXISTS alike: it admits at most one row per
 * school, so no reader needs an ORDER BY or LIMIT of its own.
 */
export function MEMBERSHIP_ON(m: string, date: string): string {
  const later = `${m}_later`;
  return `(${inForceSql(m, date)} AND NOT EXISTS (
      SELECT 1 FROM community_membership ${later}
       WHERE ${later}.school_urn = ${m}.school_urn AND ${later}.effective_from > ${m}.effective_from AND ${inForceSql(later, date)}))`;
}

function inForceSql(m: string, date: string): string {
  return `${m}.effective_from <= ${date} AND (${m}.effective_to IS NULL OR ${m}.effective_to > ${date})`;
}

export interface MembershipSpan {
  schoolUrn: number;
  communityCode: string;
  /** YYYY-MM-DD */
  effectiveFrom: string;
  /** YYYY-MM-DD, exclusive; null when open. */
  effectiveTo: string | null;
}

function inForce(m: MembershipSpan, date: string): boolean {
  return m.effectiveFrom <= date && (m.effectiveTo === null || date < m.effectiveTo);
}

/** Each school's community on `date` (YYYY-MM-DD), by URN; schools with none are absent. */
export function communityOn(memberships: Iterable<MembershipSpan>, date: string): Map<number, string> {
  const winner = new Map<number, MembershipSpan>();
  for (const m of memberships) {
    if (!inForce(m, date)) continue;
    const held = winner.get(m.schoolUrn);
    if (!held || m.effectiveFrom > held.effectiveFrom) winner.set(m.schoolUrn, m);
  }
  return new Map([...winner].map(([urn, m]) => [urn, m.communityCode]));
}

/** Each community's member schools on `date`, in the order the memberships are given. */
export function membersOn(memberships: Iterable<MembershipSpan>, date: string): Map<string, number[]> {
  const list = [...memberships];
  const of = communityOn(list, date);
  const out = new Map<string, number[]>();
  for (const m of list) {
    if (of.get(m.schoolUrn) !== m.communityCode || !inForce(m, date)) continue;
    const members = out.get(m.communityCode) ?? [];
    if (!members.includes(m.schoolUrn)) members.push(m.schoolUrn);
    out.set(m.communityCode, members);
  }
  return out;
}
