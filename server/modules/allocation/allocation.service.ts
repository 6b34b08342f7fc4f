import crypto from 'node:crypto';
import Decimal from 'decimal.js';
import type { DataSource, EntityManager } from 'typeorm';
import { Role, Viewer } from '../../auth/roles';
import { BadInput, Conflict, Forbidden } from '../../errors';
import { readMoney } from '../../common/money';
import { fromPotTrigger } from './pot-lock';
import { closedForTerm } from '../school/closure';
import { loadPeriodCatalogue } from '../period/period.service';
import { MEMBERSHIP_ON } from '../community/membership';
import { writeAudit, AuditEntry } from '../audit/audit.service';
import { AllocationStatus } from './allocation.entity';
import type {
  AllocationRowError,
  AllocationRowResultType,
  AllocationValues,
  CommunityTermTotal,
  SubmitAllocationsInput,
  SubmitAllocationsPayload,
} from './allocation.types';
import { RowResult } from './allocation.types';

export const MAX_BATCH_ROWS = 10_000;
/** No single allocation from a community pot comes near this; a larger figure is a typing error. */
export const AMOUNT_CEILING = new Decimal('2000000.00');

export interface SubmitOptions {
  source: 'ADDIN' | 'API' | 'IMPORT';
  /** Test seam: runs after every write and before commit, to prove that a failure there leaves nothing written. */
  beforeCommit?: (tx: EntityManager) => Promise<void>;
}

interface Existing {
  id: string;
  schoolUrn: number;
  communityCode: string;
  termCode: string;
  purpose: string;
  amount: string;
  status: AllocationStatus;
  version: number;
  decisionReference: string | null;
  approvedBy: string | null;
  approvedAt: string | null;
}

const key = (urn: number, term: string, purpose: string) => `${urn}|${term}|${purpose.trim()}`;
const ctKey = (community: string, term: string) => `${community}|${term}`;
const values = (a: { amount: string; status: AllocationStatus; version: number | null }): AllocationValues => ({
  amount: new Decimal(a.amount).toFixed(2),
  status: a.status,
  version: a.version,
});

function requestHash(input: SubmitAllocationsInput): string {
  const canonical = JSON.stringify({
    d: input.decisionReference?.trim() || null,
    r: input.reason?.trim() || null,
    rows: input.rows.map((r) => [
      r.schoolUrn,
      r.communityCode,
      r.term,
      r.amount.trim(),
      r.purpose.trim(),
      r.status,
      r.baseVersion ?? null,
    ]),
  });
  return crypto.createHash('sha256').update(canonical).digest('hex');
}

function checkBatch(viewer: Viewer, input: SubmitAllocationsInput): void {
  if (viewer.role !== Role.FINANCE && viewer.role !== Role.CHAIR) {
    throw new Forbidden(
      `A ${viewer.role} may not write allocations: Finance records them and Chairs propose them for their community.`,
    );
  }
  const k = input.idempotencyKey?.trim() ?? '';
  if (k.length < 8 || k.length > 200)
    throw new BadInput('idempotencyKey must be 8-200 characters (a UUID is ideal).', 'input.idempotencyKey');
  if (input.rows.length === 0) throw new BadInput('rows is empty: send at least one allocation.', 'input.rows');
  if (input.rows.length > MAX_BATCH_ROWS) {
    throw new BadInput(
      `A batch takes at most ${MAX_BATCH_ROWS} rows; got ${input.rows.length}. Split it into several batches.`,
      'input.rows',
      {
        maxRows: MAX_BATCH_ROWS,
      },
    );
  }
  // A Chair's APPROVED rows are refused per row (FORBIDDEN), which says more than a missing decision reference.
  if (
    viewer.role === Role.FINANCE &&
    input.rows.some((r) => r.status === AllocationStatus.APPROVED) &&
    !input.decisionReference?.trim()
  ) {
    throw new BadInput('A decision reference is required to approve allocations.', 'input.decisionReference');
  }
  if (!input.dryRun && !input.reason?.trim())
    throw new BadInput('A reason is required (it goes in the audit log).', 'input.reason');
}

/**
 * Validates a whole batch, then writes all of it or none of it. Every rejected row is reported.
 * Concurrency: the pots of every (community, term) touched are locked FOR UPDATE in a fixed order, then the
 * allocations themselves, so concurrent batches on one pot serialise and can neither overspend it nor lose
 * an update. Idempotency records live in the same transaction as the writes.
 */
export async function submitAllocations(
  ds: DataSource,
  viewer: Viewer,
  input: SubmitAllocationsInput,
  opts: SubmitOptions,
): Promise<SubmitAllocationsPayload> {
  checkBatch(viewer, input);
  const hash = requestHash(input);
  const idemKey = input.idempotencyKey.trim();
  try {
    return await ds.transaction(async (tx) => {
      if (!input.dryRun) {
        // Serialise submits with the same key (on any hub process) and look for a stored result only once we
        // hold the lock: a retry sent while the first attempt is still running then waits for it and replays
        // its result, rather than validating against the first attempt's writes (ALREADY_EXISTS, STALE_VERSION).
        await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`idempotency|${idemKey}`]);
        const replay = await findReplay(tx, idemKey, hash, viewer);
        if (replay) return replay;
      }
      const payload = await validateAndDiff(tx, viewer, input, !input.dryRun);
      if (input.dryRun || payload.summary.rejected > 0) return payload;
      await write(tx, viewer, input, payload, opts.source);
      payload.applied = true;
      await tx.query(`INSERT INTO idempotency_record (key, request_hash, actor, response) VALUES ($1, $2, $3, $4)`, [
        idemKey,
        hash,
        viewer.subject,
        JSON.stringify(payload),
      ]);
      await opts.beforeCommit?.(tx);
      return payload;
    });
  } catch (err) {
    // Two submits with one key raced: the loser's insert waited for the winner and hit the primary key.
    if (
      (err as { code?: string }).code === '23505' &&
      /idempotency_record/.test(String((err as { detail?: string; table?: string }).table ?? (err as Error).message))
    ) {
      const replay = await findReplay(ds.manager, idemKey, hash, viewer);
      if (replay) return replay;
    }
    throw fromPotTrigger(err, 'These allocations') ?? err;
  }
}

async function findReplay(
  db: EntityManager,
  key: string,
  hash: string,
  viewer: Viewer,
): Promise<SubmitAllocationsPayload | null> {
  const [rec] = await db.query(`SELECT request_hash, actor, response FROM idempotency_record WHERE key = $1`, [key]);
  if (!rec) return null;
  if (rec.request_hash !== hash || rec.actor !== viewer.subject) {
    throw new Conflict(
      `The idempotency key "${key}" was already used for a different batch. Use a new key for new changes; reuse a key only to retry the same batch.`,
      { reason: 'IDEMPOTENCY_KEY_REUSED' },
    );
  }
  return { ...(rec.response as SubmitAllocationsPayload), replayed: true };
}

async function validateAndDiff(
  tx: EntityManager,
  viewer: Viewer,
  input: SubmitAllocationsInput,
  lock: boolean,
): Promise<SubmitAllocationsPayload> {
  const rows = input.rows;
  const periods = await loadPeriodCatalogue(tx);
  const errors: AllocationRowError[][] = rows.map(() => []);
  const err = (
    i: number,
    code: string,
    field: string | null,
    message: string,
    extra: Partial<AllocationRowError> = {},
  ) => errors[i].push({ code, field, message, ...extra });

  // Row-local checks.
  const amounts: (Decimal | null)[] = rows.map((r, i) => {
    const read = readMoney(r.amount, { field: 'amount' });
    if (!read.ok) {
      err(i, 'BAD_AMOUNT', 'amount', read.problem.message);
      return null;
    }
    const d = new Decimal(read.value);
    if (d.gt(AMOUNT_CEILING)) {
      err(
        i,
        'BAD_AMOUNT',
        'amount',
        `Amount ${d.toFixed(2)} is above the ceiling of ${AMOUNT_CEILING.toFixed(2)} for one allocation.`,
      );
      return null;
    }
    return d;
  });
  rows.forEach((r, i) => {
    const p = r.purpose?.trim() ?? '';
    if (!p || p.length > 120) err(i, 'BAD_PURPOSE', 'purpose', 'Purpose must be 1-120 characters.');
    const t = periods.fundingTermByCode.get(r.term);
    if (!t)
      err(
        i,
        'UNKNOWN_TERM',
        'term',
        `Unknown funding term "${r.term}". Valid terms: ${periods.fundingTerms.map((x) => x.code).join(', ')}.`,
      );
    else if (t.closed) err(i, 'TERM_CLOSED', 'term', `${t.name} is closed: allocations can no longer change.`);
    if (viewer.role === Role.CHAIR) {
      if (r.communityCode !== viewer.communityCode)
        err(
          i,
          'FORBIDDEN',
          'communityCode',
          `A Chair may only write allocations for their own community (${viewer.communityCode}).`,
        );
      if (r.status === AllocationStatus.APPROVED)
        err(i, 'FORBIDDEN', 'status', 'Only Finance can approve allocations; a Chair proposes them.');
    }
  });

  // Duplicates within the batch.
  const seen = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const k = key(r.schoolUrn, r.term, r.purpose ?? '');
    seen.set(k, [...(seen.get(k) ?? []), i]);
  });
  for (const idx of seen.values()) {
    if (idx.length > 1)
      for (const i of idx)
        err(
          i,
          'DUPLICATE_ROW',
          null,
          `The same school, term and purpose appears ${idx.length} times in this batch (rows ${idx.map((x) => x + 1).join(', ')}).`,
        );
  }

  // Reference data, one statement each.
  const urns = [...new Set(rows.map((r) => r.schoolUrn))];
  const codes = [...new Set(rows.map((r) => r.communityCode))];
  // FOR SHARE: a closure of one of these schools (which updates its row) waits for this batch, or this batch for it,
  // so a batch never writes for a school whose closure commits alongside it. Schools before pots, as closures do.
  // One after the other: a transaction has one connection.
  const schools: { urn: number; status: string; closeDate: string | null }[] = await tx.query(
    `SELECT urn, status, close_date::text AS "closeDate" FROM school WHERE urn = ANY($1::int[]) ORDER BY urn ${lock ? 'FOR SHARE' : ''}`,
    [urns],
  );
  const communities: { code: string }[] = await tx.query(`SELECT code FROM community WHERE code = ANY($1::text[])`, [
    codes,
  ]);
  const schoolSet = new Set(schools.map((s) => s.urn));
  const schoolBy = new Map(schools.map((s) => [s.urn, s]));
  const communitySet = new Set(codes.filter((c) => communities.some((x) => x.code === c)));
  const pairs = rows.map((r) => ({
    urn: r.schoolUrn,
    start: periods.fundingTermByCode.get(r.term)?.startDate ?? null,
  }));
  const members: { urn: number; start: string; community: string }[] = await tx.query(
    `SELECT x.urn, x.start::text AS start, m.community_code AS community
       FROM unnest($1::int[], $2::date[]) AS x(urn, start)
       JOIN community_membership m ON m.school_urn = x.urn AND ${MEMBERSHIP_ON('m', 'x.start')}`,
    [pairs.map((p) => p.urn), pairs.map((p) => p.start)],
  );
  const memberOf = new Map(members.map((m) => [`${m.urn}|${m.start}`, m.community]));
  rows.forEach((r, i) => {
    if (!schoolSet.has(r.schoolUrn)) err(i, 'UNKNOWN_SCHOOL', 'schoolUrn', `No school has URN ${r.schoolUrn}.`);
    if (!communitySet.has(r.communityCode))
      err(i, 'UNKNOWN_COMMUNITY', 'communityCode', `No community has code "${r.communityCode}".`);
    const t = periods.fundingTermByCode.get(r.term);
    const school = schoolBy.get(r.schoolUrn);
    if (t && school && closedForTerm(school, t.startDate)) {
      // Withdrawing what a closed school was given is allowed (its membership has ended, so no NOT_MEMBER either).
      if (r.status !== AllocationStatus.WITHDRAWN) {
        err(
          i,
          'SCHOOL_CLOSED',
          'schoolUrn',
          `School ${r.schoolUrn} is closed${school.closeDate ? ` from ${school.closeDate}` : ''}: it takes no allocations in ${t.name} or later.`,
        );
      }
    } else if (t && schoolSet.has(r.schoolUrn) && communitySet.has(r.communityCode)) {
      const actual = memberOf.get(`${r.schoolUrn}|${t.startDate}`);
      if (actual !== r.communityCode) {
        err(
          i,
          'NOT_MEMBER',
          'schoolUrn',
          `School ${r.schoolUrn} is not a member of ${r.communityCode} in ${t.name}${actual ? ` (it belongs to ${actual})` : ''}.`,
        );
      }
    }
  });

  // Pots (locked in the one order of pot-lock.ts, so concurrent writers cannot deadlock), then the allocations.
  const cts = [
    ...new Set(rows.filter((r) => periods.fundingTermByCode.has(r.term)).map((r) => ctKey(r.communityCode, r.term))),
  ].sort();
  const ctPairs = cts.map((k) => k.split('|'));
  const pots: { community: string; term: string; amount: string }[] = await tx.query(
    `SELECT p.community_code AS community, p.term_code AS term, p.amount FROM community_pot p
      WHERE (p.community_code, p.term_code) IN (SELECT * FROM unnest($1::text[], $2::text[]))
      ORDER BY p.community_code, p.term_code ${lock ? 'FOR UPDATE' : ''}`,
    [ctPairs.map((p) => p[0]), ctPairs.map((p) => p[1])],
  );
  const potOf = new Map(pots.map((p) => [ctKey(p.community, p.term), new Decimal(p.amount)]));
  const existingRows: Existing[] = await tx.query(
    `SELECT a.id, a.school_urn AS "schoolUrn", a.community_code AS "communityCode", a.term_code AS "termCode", a.purpose, a.amount,
            a.status, a.version, a.decision_reference AS "decisionReference", a.approved_by AS "approvedBy", a.approved_at AS "approvedAt"
       FROM allocation a
       JOIN unnest($1::int[], $2::text[], $3::text[]) AS x(urn, term, purpose)
         ON a.school_urn = x.urn AND a.term_code = x.term AND a.purpose = x.purpose
      ORDER BY a.id ${lock ? 'FOR UPDATE OF a' : ''}`,
    [rows.map((r) => r.schoolUrn), rows.map((r) => r.term), rows.map((r) => (r.purpose ?? '').trim())],
  );
  const existing = new Map(existingRows.map((e) => [key(e.schoolUrn, e.termCode, e.purpose), e]));
  const approvedRows: { community: string; term: string; total: string }[] = await tx.query(
    `SELECT community_code AS community, term_code AS term, sum(amount)::text AS total FROM allocation
      WHERE status = 'APPROVED' AND (community_code, term_code) IN (SELECT * FROM unnest($1::text[], $2::text[]))
      GROUP BY 1, 2`,
    [ctPairs.map((p) => p[0]), ctPairs.map((p) => p[1])],
  );
  const approvedBefore = new Map(approvedRows.map((a) => [ctKey(a.community, a.term), new Decimal(a.total)]));

  // Per-row diff against the current values.
  const results: AllocationRowResultType[] = rows.map((r, i) => {
    const cur = existing.get(key(r.schoolUrn, r.term, r.purpose ?? ''));
    const amount = amounts[i];
    const before = cur ? values(cur) : null;
    if (cur) {
      const theirs = values(cur);
      if (r.baseVersion == null) {
        err(
          i,
          'ALREADY_EXISTS',
          'baseVersion',
          `An allocation for this school, term and purpose already exists (version ${cur.version}); send its version to change it.`,
          { theirs },
        );
      } else if (r.baseVersion !== cur.version) {
        err(
          i,
          'STALE_VERSION',
          'baseVersion',
          `Changed by someone else since you read it: you have version ${r.baseVersion}, the hub has version ${cur.version}.`,
          { theirs },
        );
      }
      if (cur.communityCode !== r.communityCode) {
        err(
          i,
          'COMMUNITY_MISMATCH',
          'communityCode',
          `This allocation is paid from ${cur.communityCode}'s pot, not ${r.communityCode}'s.`,
        );
      }
      if (viewer.role === Role.CHAIR && cur.status === AllocationStatus.APPROVED) {
        err(i, 'FORBIDDEN', 'status', 'This allocation is approved: only Finance can change it.');
      }
    } else if (r.baseVersion != null) {
      err(
        i,
        'NOT_FOUND',
        'baseVersion',
        `No allocation exists for this school, term and purpose, but a base version ${r.baseVersion} was sent.`,
      );
    }
    if (
      periods.fundingTermByCode.has(r.term) &&
      communitySet.has(r.communityCode) &&
      !potOf.has(ctKey(r.communityCode, r.term))
    ) {
      err(i, 'NO_POT', 'term', `No pot is set for ${r.communityCode} in ${r.term}.`);
    }
    const after = amount ? { amount: amount.toFixed(2), status: r.status, version: cur ? cur.version + 1 : 1 } : null;
    const unchanged = cur && after && new Decimal(cur.amount).eq(after.amount) && cur.status === after.status;
    const result = errors[i].length
      ? RowResult.REJECTED
      : !cur
        ? RowResult.CREATED
        : unchanged
          ? RowResult.UNCHANGED
          : RowResult.UPDATED;
    return {
      index: i,
      result,
      allocationId: cur?.id ?? null,
      version:
        result === RowResult.UNCHANGED
          ? cur!.version
          : result === RowResult.REJECTED
            ? (cur?.version ?? null)
            : after!.version,
      before,
      after: result === RowResult.REJECTED ? null : result === RowResult.UNCHANGED ? before : after,
      userErrors: errors[i],
    };
  });

  // Approved totals per pot: what is already approved, minus what these rows replace, plus what they approve.
  // Only rows that could be applied count: a row already rejected (a duplicate, a school of another community,
  // a stale version...) would otherwise be double-counted or push valid rows into a spurious OVER_POT.
  const approvedAfter = new Map<string, Decimal>(cts.map((k) => [k, approvedBefore.get(k) ?? new Decimal(0)]));
  const increases = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const k = ctKey(r.communityCode, r.term);
    if (!approvedAfter.has(k) || !amounts[i] || errors[i].length > 0) return;
    const cur = existing.get(key(r.schoolUrn, r.term, r.purpose ?? ''));
    const wasApproved =
      cur && cur.status === AllocationStatus.APPROVED && cur.communityCode === r.communityCode
        ? new Decimal(cur.amount)
        : new Decimal(0);
    const nowApproved = r.status === AllocationStatus.APPROVED ? amounts[i]! : new Decimal(0);
    approvedAfter.set(k, approvedAfter.get(k)!.minus(wasApproved).plus(nowApproved));
    if (nowApproved.gt(wasApproved)) increases.set(k, [...(increases.get(k) ?? []), i]);
  });
  for (const [k, total] of approvedAfter) {
    const pot = potOf.get(k);
    if (pot && total.gt(pot)) {
      for (const i of increases.get(k) ?? []) {
        err(
          i,
          'OVER_POT',
          'amount',
          `Approved allocations for ${k.replace('|', ' in ')} would total ${total.toFixed(2)}, above the pot of ${pot.toFixed(2)}.`,
          {
            pot: pot.toFixed(2),
            total: total.toFixed(2),
          },
        );
        results[i].result = RowResult.REJECTED;
        results[i].after = null;
      }
    }
  }

  const totals: CommunityTermTotal[] = cts.map((k) => {
    const [communityCode, term] = k.split('|');
    const pot = potOf.get(k);
    const after = approvedAfter.get(k)!;
    return {
      communityCode,
      term,
      pot: pot?.toFixed(2) ?? null,
      approvedBefore: (approvedBefore.get(k) ?? new Decimal(0)).toFixed(2),
      approvedAfter: after.toFixed(2),
      remainingAfter: pot ? pot.minus(after).toFixed(2) : null,
    };
  });
  const count = (r: RowResult) => results.filter((x) => x.result === r).length;
  const rejected = count(RowResult.REJECTED);
  return {
    applied: false,
    dryRun: input.dryRun,
    replayed: false,
    idempotencyKey: input.idempotencyKey.trim(),
    summary: {
      created: count(RowResult.CREATED),
      updated: count(RowResult.UPDATED),
      unchanged: count(RowResult.UNCHANGED),
      rejected,
    },
    // When anything is rejected nothing is written, so no row is "created" or "updated": say what each would have done.
    results,
    totals,
  };
}

async function write(
  tx: EntityManager,
  viewer: Viewer,
  input: SubmitAllocationsInput,
  payload: SubmitAllocationsPayload,
  source: SubmitOptions['source'],
) {
  const decision = input.decisionReference?.trim() || null;
  const reason = input.reason?.trim() || null;
  const creates = payload.results.filter((r) => r.result === RowResult.CREATED);
  const updates = payload.results.filter((r) => r.result === RowResult.UPDATED);
  const audit: AuditEntry[] = [];
  if (creates.length) {
    const rows = creates.map((r) => input.rows[r.index]);
    const inserted: { id: string; school_urn: number; term_code: string; purpose: string }[] = await tx.query(
      `INSERT INTO allocation (school_urn, community_code, term_code, purpose, amount, status, version, decision_reference, approved_by, approved_at, updated_by)
       SELECT x.urn, x.community, x.term, x.purpose, x.amount, x.status, 1,
              CASE WHEN x.status = 'APPROVED' THEN $7 END, CASE WHEN x.status = 'APPROVED' THEN $8 END,
              CASE WHEN x.status = 'APPROVED' THEN now() END, $8
         FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::text[]) AS x(urn, community, term, purpose, amount, status)
       RETURNING id, school_urn, term_code, purpose`,
      [
        rows.map((r) => r.schoolUrn),
        rows.map((r) => r.communityCode),
        rows.map((r) => r.term),
        rows.map((r) => r.purpose.trim()),
        creates.map((r) => r.after!.amount),
        rows.map((r) => r.status),
        decision,
        viewer.name,
      ],
    );
    const idByKey = new Map(inserted.map((x) => [key(x.school_urn, x.term_code, x.purpose), x.id]));
    creates.forEach((res, j) => {
      const r = rows[j];
      res.allocationId = idByKey.get(key(r.schoolUrn, r.term, r.purpose))!;
      audit.push({
        entity: 'ALLOCATION',
        entityId: res.allocationId,
        action: r.status === AllocationStatus.APPROVED ? 'APPROVE' : 'CREATE',
        before: null,
        after: {
          schoolUrn: r.schoolUrn,
          communityCode: r.communityCode,
          term: r.term,
          purpose: r.purpose.trim(),
          ...res.after,
        },
      });
    });
  }
  if (updates.length) {
    await tx.query(
      `UPDATE allocation a SET amount = x.amount, status = x.status, version = a.version + 1, updated_by = $4, updated_at = now(),
              decision_reference = CASE WHEN x.status = 'APPROVED' THEN $5 WHEN x.status = 'PROPOSED' THEN NULL ELSE a.decision_reference END,
              approved_by = CASE WHEN x.status = 'APPROVED' THEN $4 WHEN x.status = 'PROPOSED' THEN NULL ELSE a.approved_by END,
              approved_at = CASE WHEN x.status = 'APPROVED' THEN now() WHEN x.status = 'PROPOSED' THEN NULL ELSE a.approved_at END
         FROM unnest($1::uuid[], $2::numeric[], $3::text[]) AS x(id, amount, status)
        WHERE a.id = x.id`,
      [
        updates.map((r) => r.allocationId),
        updates.map((r) => r.after!.amount),
        updates.map((r) => r.after!.status),
        viewer.name,
        decision,
      ],
    );
    for (const res of updates) {
      const r = input.rows[res.index];
      const action =
        res.after!.status === AllocationStatus.WITHDRAWN && res.before!.status !== AllocationStatus.WITHDRAWN
          ? 'WITHDRAW'
          : res.after!.status === AllocationStatus.APPROVED && res.before!.status !== AllocationStatus.APPROVED
            ? 'APPROVE'
            : 'UPDATE';
      const base = { schoolUrn: r.schoolUrn, communityCode: r.communityCode, term: r.term, purpose: r.purpose.trim() };
      audit.push({
        entity: 'ALLOCATION',
        entityId: res.allocationId!,
        action,
        before: { ...base, ...res.before },
        after: { ...base, ...res.after },
      });
    }
  }
  await writeAudit(
    tx,
    { viewer, source, idempotencyKey: payload.idempotencyKey, decisionReference: decision, reason },
    audit,
  );
}
