import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Data: schools closed before closures ended memberships (the GIAS import used to mark a school closed and leave
 * its memberships open) get what a closure now does (server/modules/school/closure.ts): memberships open on the
 * close date end on it, memberships starting on or after it are removed. One audit entry per school changed, with
 * its memberships before. A closed school without a close date has no date to end on and is left as it is. A
 * migration does not run the funding model (its code may be newer than this schema): the next migration,
 * PendingClosureRecomputes, records from these audit entries the (community, term) pairs left stale, and the hub
 * recomputes them at start-up as a closure does (server/modules/school/pending-recompute.ts).
 */
export class EndClosedSchoolMemberships1796185315297 implements MigrationInterface {
  name = 'EndClosedSchoolMemberships1796185315297';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const schools: { urn: number; close: string; memberships: unknown[] }[] = await queryRunner.query(
      `SELECT s.urn, s.close_date::text AS close,
              json_agg(json_build_object('c', m.community_code, 'from', m.effective_from::text, 'to', m.effective_to::text) ORDER BY m.effective_from) AS memberships
         FROM school s JOIN community_membership m ON m.school_urn = s.urn
        WHERE s.close_date IS NOT NULL AND s.status IN ('CLOSED', 'PROPOSED_TO_CLOSE')
        GROUP BY s.urn, s.close_date
       HAVING bool_or(m.effective_to IS NULL OR m.effective_to > s.close_date)
        ORDER BY s.urn`,
    );
    for (const s of schools) {
      const [ended]: [{ code: string }[], number] = await queryRunner.query(
        `UPDATE community_membership SET effective_to = $2 WHERE school_urn = $1 AND effective_from < $2 AND (effective_to IS NULL OR effective_to > $2)
         RETURNING community_code AS code`,
        [s.urn, s.close],
      );
      const [removed]: [{ code: string }[], number] = await queryRunner.query(
        `DELETE FROM community_membership WHERE school_urn = $1 AND effective_from >= $2 RETURNING community_code AS code`,
        [s.urn, s.close],
      );
      await queryRunner.query(
        `INSERT INTO audit_log (actor, actor_name, role, source, entity, entity_id, action, reason, before, after)
         VALUES ('migration:EndClosedSchoolMemberships', 'Data migration', 'SYSTEM', 'MIGRATE', 'SCHOOL', $1, 'END_MEMBERSHIPS', $2, $3, $4)`,
        [
          String(s.urn),
          'Closed before closures ended memberships: ended on the close date',
          JSON.stringify({ memberships: s.memberships }),
          JSON.stringify({
            closeDate: s.close,
            membershipsEnded: ended.map((e) => e.code),
            membershipsRemoved: removed.map((e) => e.code),
          }),
        ],
      );
    }
  }

  public async down(): Promise<void> {
    // Data only: the memberships as they were are in the audit entries' `before`; nothing is undone here.
  }
}
