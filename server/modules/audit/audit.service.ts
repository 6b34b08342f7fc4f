import type { EntityManager } from 'typeorm';
import type { Viewer } from '../../auth/roles';

export const AUDIT_COLUMNS = `l.id::text AS id, l.at, l.actor, l.actor_name AS "actorName", l.role, l.source, l.entity, l.entity_id AS "entityId",
  l.action, l.idempotency_key AS "idempotencyKey", l.decision_reference AS "decisionReference", l.reason, l.before, l.after`;

export interface AuditEntry {
  entity: 'ALLOCATION' | 'MODEL_PARAMETERS' | 'SCENARIO' | 'IMPORT' | 'SCHOOL' | 'SAFETY_VALVE';
  entityId: string;
  action: string;
  before: object | null;
  after: object | null;
}

export interface AuditContext {
  viewer: Viewer;
  source: 'ADDIN' | 'API' | 'IMPORT';
  idempotencyKey?: string | null;
  decisionReference?: string | null;
  reason?: string | null;
}

/** Writes audit rows in the caller's transaction, in one statement however many there are. */
export async function writeAudit(tx: EntityManager, ctx: AuditContext, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await tx.query(
    `INSERT INTO audit_log (actor, actor_name, role, source, entity, entity_id, action, idempotency_key, decision_reference, reason, before, after)
     SELECT $1, $2, $3, $4, x.entity, x.entity_id, x.action, $5, $6, $7, x.before, x.after
       FROM unnest($8::text[], $9::text[], $10::text[], $11::jsonb[], $12::jsonb[]) AS x(entity, entity_id, action, before, after)`,
    [
      ctx.viewer.subject,
      ctx.viewer.name,
      ctx.viewer.role,
      ctx.source,
      ctx.idempotencyKey ?? null,
      ctx.decisionReference ?? null,
      ctx.reason ?? null,
      entries.map((e) => e.entity),
      entries.map((e) => e.entityId),
      entries.map((e) => e.action),
      entries.map((e) => (e.before ? JSON.stringify(e.before) : null)),
      entries.map((e) => (e.after ? JSON.stringify(e.after) : null)),
    ],
  );
}
