import type { EntityManager } from 'typeorm';

/**
 * The pending (community, term) pairs a recompute from `from` covers, removed in the caller's transaction (its pots
 * already locked by recomputeRecord), grouped per school. recomputeRecord calls this, so any recompute that covers a
 * pending closure (a start-up's, a parameter change's, another closure's) settles it.
 */
export async function takePending(
  tx: EntityManager,
  from: string,
): Promise<{ urn: number; closeDate: string; communities: string[]; terms: string[] }[]> {
  const [rows]: [{ urn: number; close: string; community: string; term: string }[], number] = await tx.query(
    `DELETE FROM pending_recompute WHERE close_date >= $1
     RETURNING school_urn AS urn, close_date::text AS close, community_code AS community, term_code AS term`,
    [from],
  );
  const by = new Map<number, { urn: number; closeDate: string; communities: string[]; terms: string[] }>();
  for (const r of rows) {
    const s = by.get(r.urn) ?? { urn: r.urn, closeDate: r.close, communities: [], terms: [] };
    if (!s.communities.includes(r.community)) s.communities.push(r.community);
    if (!s.terms.includes(r.term)) s.terms.push(r.term);
    by.set(r.urn, s);
  }
  return [...by.values()]
    .map((s) => ({ ...s, communities: s.communities.sort(), terms: s.terms.sort() }))
    .sort((a, b) => a.urn - b.urn);
}
