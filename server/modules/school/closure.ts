import type { EntityManager } from 'typeorm';
import { recomputeRecord, type Recomputed } from '../scenario/parameters.service';

/**
 * A closed school, written once. A school is closed for a funding term when its close date is on or before the
 * term's first day, or when it is marked CLOSED with no close date. A closure (GIAS import or by hand) ends its
 * community memberships on the close date, so its shares in later terms go to the schools still open; new
 * allocations and proposals for it in those terms are refused as SCHOOL_CLOSED.
 */
export const CLOSED_FOR_TERM_SQL = (school: string, termStart: string) =>
  `((${school}.close_date IS NOT NULL AND ${school}.close_date <= ${termStart}) OR (${school}.status = 'CLOSED' AND ${school}.close_date IS NULL))`;

export function closedForTerm(school: { status: string; closeDate: string | null }, termStart: string): boolean {
  return school.closeDate !== null ? school.closeDate <= termStart : school.status === 'CLOSED';
}

export interface ClosureChange {
  urn: number;
  closeDate: string;
  /** Communities whose membership now ends on the close date. */
  membershipsEnded: string[];
  /** Memberships that would have started on or after the close date, removed. */
  membershipsRemoved: string[];
  /** Allocations already made for terms starting on or after the close date (left for Finance to withdraw). */
  allocationsAfterClosure: { term: string; status: string; amount: string; id: string }[];
}

export interface ClosureResult {
  changes: ClosureChange[];
  /** The figures of record recomputed from the earliest close date (null when no membership changed). */
  recomputed: Recomputed | null;
}

/** Allocations (not withdrawn) made for a school in terms starting on or after its close date: for Finance to withdraw. */
export async function allocationsAfterClosure(
  tx: EntityManager,
  urn: number,
  closeDate: string,
): Promise<ClosureChange['allocationsAfterClosure']> {
  return tx.query(
    `SELECT a.id, a.term_code AS term, a.status, a.amount FROM allocation a JOIN funding_term t ON t.code = a.term_code
      WHERE a.school_urn = $1 AND t.start_date >= $2 AND a.status <> 'WITHDRAWN' ORDER BY t.start_date, a.id`,
    [urn, closeDate],
  );
}

/** Applies closures in the caller's transaction: memberships end, later terms' figures are recomputed (pots locked first). */
export async function applyClosures(
  tx: EntityManager,
  closures: { urn: number; closeDate: string }[],
  what: string,
): Promise<ClosureResult> {
  const changes: ClosureChange[] = [];
  for (const c of [...closures].sort((a, b) => a.urn - b.urn)) {
    // UPDATE and DELETE ... RETURNING come back from TypeORM as [rows, affected].
    const [ended]: [{ code: string }[], number] = await tx.query(
      `UPDATE community_membership SET effective_to = $2 WHERE school_urn = $1 AND effective_from < $2 AND (effective_to IS NULL OR effective_to > $2)
       RETURNING community_code AS code`,
      [c.urn, c.closeDate],
    );
    const [removed]: [{ code: string }[], number] = await tx.query(
      `DELETE FROM community_membership WHERE school_urn = $1 AND effective_from >= $2 RETURNING community_code AS code`,
      [c.urn, c.closeDate],
    );
    const later = await allocationsAfterClosure(tx, c.urn, c.closeDate);
    changes.push({
      urn: c.urn,
      closeDate: c.closeDate,
      membershipsEnded: ended.map((e) => e.code),
      membershipsRemoved: removed.map((e) => e.code),
      allocationsAfterClosure: later,
    });
  }
  const moved = changes.filter((c) => c.membershipsEnded.length || c.membershipsRemoved.length);
  if (moved.length === 0) return { changes, recomputed: null };
  const from = moved.map((c) => c.closeDate).sort()[0];
  return { changes, recomputed: await recomputeRecord(tx, { from, what }) };
}
