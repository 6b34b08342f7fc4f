import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { lockPotsOfTerms } from '../allocation/pot-lock';
import { recomputeRecord } from '../scenario/parameters.service';
import { allocationsAfterClosure, type ClosureChange } from './closure';

/** What settling the pending recomputes of one closed school did (its audit entry's `after`). */
export interface SettledClosure {
  urn: number;
  closeDate: string;
  communities: string[];
  terms: string[];
  /** Allocations already made for the school in terms after its closure: for Finance to withdraw. */
  allocationsAfterClosure: ClosureChange['allocationsAfterClosure'];
}

export interface PendingSettled {
  schools: SettledClosure[];
  termsRecomputed: string[];
  schoolTermRowsChanged: number;
  potsChanged: number;
}

const ACTOR = {
  subject: 'hub:pending-recompute',
  name: 'Hub start-up (recompute after closure)',
  role: 'SYSTEM',
  source: 'MIGRATE',
};

/**
 * Settles what closures left pending (migration PendingClosureRecomputes): recomputes the figures of record from the
 * earliest pending close date exactly as a closure does (applyClosures: recomputeRecord, pots locked first in the one
 * order), lists the allocations made for each school after its closure, and audits one entry per school. Idempotent
 * and safe beside other processes on one database: the pots are locked before the pending rows are read again, so a
 * second hub starting at the same time waits, then finds nothing left. When the recompute is refused (a pot would
 * fall below what is approved from it), nothing changes, the rows stay with the reason (dataStatus reports it), and
 * the next start-up or any covering recompute tries again. Returns null when nothing was pending.
 */
export async function settlePendingRecomputes(ds: DataSource, logger?: Logger): Promise<PendingSettled | null> {
  const [first]: { from: string | null }[] = await ds.query(
    `SELECT min(close_date)::text AS "from" FROM pending_recompute`,
  );
  if (!first?.from) return null;
  const from = first.from;
  const what = 'Recomputing after schools closed before closures ended memberships';
  try {
    return await ds.transaction(async (tx) => {
      const terms: { code: string }[] = await tx.query(
        `SELECT code FROM funding_term WHERE start_date >= $1 AND NOT closed ORDER BY code`,
        [from],
      );
      await lockPotsOfTerms(
        tx,
        terms.map((t) => t.code),
      );
      const [still] = await tx.query(`SELECT 1 FROM pending_recompute WHERE close_date >= $1 FOR UPDATE`, [from]);
      if (!still) return null;
      const recomputed = await recomputeRecord(tx, { from, what });
      const schools: SettledClosure[] = [];
      for (const s of recomputed.pendingSettled)
        schools.push({ ...s, allocationsAfterClosure: await allocationsAfterClosure(tx, s.urn, s.closeDate) });
      await tx.query(
        `INSERT INTO audit_log (actor, actor_name, role, source, entity, entity_id, action, reason, before, after)
         SELECT $1, $2, $3, $4, 'SCHOOL', x.urn, 'RECOMPUTE_AFTER_CLOSURE', $5, NULL, x.after
           FROM unnest($6::text[], $7::jsonb[]) AS x(urn, after)`,
        [
          ACTOR.subject,
          ACTOR.name,
          ACTOR.role,
          ACTOR.source,
          'Closed before closures ended memberships: its shares in later open terms go to the schools still open',
          schools.map((s) => String(s.urn)),
          schools.map((s) =>
            JSON.stringify({
              ...s,
              termsRecomputed: recomputed.termsRecomputed,
              schoolTermRowsChanged: recomputed.schoolTermRowsChanged,
              potsChanged: recomputed.potsChanged,
              importedKept: recomputed.importedKept,
            }),
          ),
        ],
      );
      const result: PendingSettled = {
        schools,
        termsRecomputed: recomputed.termsRecomputed,
        schoolTermRowsChanged: recomputed.schoolTermRowsChanged,
        potsChanged: recomputed.potsChanged,
      };
      logger?.info(
        {
          schools: schools.map((s) => s.urn),
          terms: result.termsRecomputed,
          rows: result.schoolTermRowsChanged,
          allocationsAfterClosure: schools.flatMap((s) => s.allocationsAfterClosure.map((a) => a.id)),
        },
        'figures recomputed after closures left pending',
      );
      return result;
    });
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    await ds.query(`UPDATE pending_recompute SET attempts = attempts + 1, last_error = $1, last_attempt_at = now()`, [
      message.slice(0, 2000),
    ]);
    logger?.warn({ err }, 'figures after closures left pending could not be recomputed: dataStatus reports them');
    return null;
  }
}
