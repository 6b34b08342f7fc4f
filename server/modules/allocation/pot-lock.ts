import Decimal from 'decimal.js';
import type { EntityManager } from 'typeorm';
import { Conflict } from '../../errors';

/**
 * Every writer that changes a pot or what is approved from it (allocations, setModelParameters, the pots import,
 * closures) locks the pots it touches first, in this one order: community code, then term code. So concurrent
 * writers queue on the first pot they share instead of deadlocking, and a check of "approved <= pot" made
 * after the lock stays true until commit. The database re-checks at commit (trigger pot_covers_approved), so a
 * writer that forgets this is refused rather than trusted.
 */
export interface PotKey {
  communityCode: string;
  term: string;
}

export const potKey = (communityCode: string, term: string) => `${communityCode}|${term}`;

/** Locks the pots of these (community, term) pairs that exist, in the one order; returns their amounts by potKey. */
export async function lockPots(tx: EntityManager, pots: PotKey[]): Promise<Map<string, Decimal>> {
  if (pots.length === 0) return new Map();
  const rows: { c: string; t: string; amount: string }[] = await tx.query(
    `SELECT p.community_code AS c, p.term_code AS t, p.amount FROM community_pot p
      WHERE (p.community_code, p.term_code) IN (SELECT * FROM unnest($1::text[], $2::text[]))
      ORDER BY p.community_code, p.term_code FOR UPDATE`,
    [pots.map((p) => p.communityCode), pots.map((p) => p.term)],
  );
  return new Map(rows.map((r) => [potKey(r.c, r.t), new Decimal(r.amount)]));
}

/** Locks every pot of these terms, in the one order; returns their amounts by potKey. */
export async function lockPotsOfTerms(tx: EntityManager, terms: string[]): Promise<Map<string, Decimal>> {
  if (terms.length === 0) return new Map();
  const rows: { c: string; t: string; amount: string }[] = await tx.query(
    `SELECT p.community_code AS c, p.term_code AS t, p.amount FROM community_pot p WHERE p.term_code = ANY($1::text[])
      ORDER BY p.community_code, p.term_code FOR UPDATE`,
    [terms],
  );
  return new Map(rows.map((r) => [potKey(r.c, r.t), new Decimal(r.amount)]));
}

/** Approved totals of these pots, read after lockPots so they cannot change before commit. */
export async function approvedTotals(tx: EntityManager, pots: PotKey[]): Promise<Map<string, Decimal>> {
  if (pots.length === 0) return new Map();
  const rows: { c: string; t: string; total: string }[] = await tx.query(
    `SELECT community_code AS c, term_code AS t, sum(amount)::text AS total FROM allocation
      WHERE status = 'APPROVED' AND (community_code, term_code) IN (SELECT * FROM unnest($1::text[], $2::text[])) GROUP BY 1, 2`,
    [pots.map((p) => p.communityCode), pots.map((p) => p.term)],
  );
  return new Map(rows.map((r) => [potKey(r.c, r.t), new Decimal(r.total)]));
}

export interface OverspentPot {
  communityCode: string;
  term: string;
  /** What is approved from the pot now. */
  approved: string;
  /** The amount the writer would set the pot to. */
  newAmount: string;
}

/** The pots whose new amount would be below what is approved from them. */
export async function overspentPots(
  tx: EntityManager,
  next: { communityCode: string; term: string; amount: string }[],
): Promise<OverspentPot[]> {
  const approved = await approvedTotals(tx, next);
  return next
    .filter((p) => (approved.get(potKey(p.communityCode, p.term)) ?? new Decimal(0)).gt(p.amount))
    .map((p) => ({
      communityCode: p.communityCode,
      term: p.term,
      approved: approved.get(potKey(p.communityCode, p.term))!.toFixed(2),
      newAmount: new Decimal(p.amount).toFixed(2),
    }))
    .sort((a, b) => (potKey(a.communityCode, a.term) < potKey(b.communityCode, b.term) ? -1 : 1));
}

/** One message for a pot that would fall below its approved allocations, whoever the writer. */
export function overPotConflict(what: string, pots: OverspentPot[]): Conflict {
  const list = pots
    .slice(0, 5)
    .map((p) => `${p.communityCode} ${p.term} (approved ${p.approved}, new pot ${p.newAmount})`)
    .join(', ');
  return new Conflict(
    `${what} would set ${pots.length === 1 ? 'a pot' : `${pots.length} pots`} below what is already approved: ${list}${pots.length > 5 ? ` and ${pots.length - 5} more` : ''}. Withdraw or reduce those allocations first.`,
    { reason: 'OVER_POT', pots: pots.slice(0, 100) },
  );
}

/** The database's own refusal (trigger pot_covers_approved) as the same CONFLICT, or null for any other error. */
export function fromPotTrigger(err: unknown, what: string): Conflict | null {
  const e = err as { code?: string; detail?: string };
  if (e?.code !== '23514' || !e.detail?.startsWith('{')) return null;
  try {
    const d = JSON.parse(e.detail) as {
      reason?: string;
      communityCode: string;
      term: string;
      approved: string;
      pot: string | null;
    };
    if (d.reason !== 'OVER_POT') return null;
    return overPotConflict(what, [
      {
        communityCode: d.communityCode,
        term: d.term,
        approved: new Decimal(d.approved).toFixed(2),
        newAmount: d.pot === null ? 'none' : new Decimal(d.pot).toFixed(2),
      },
    ]);
  } catch {
    return null;
  }
}
