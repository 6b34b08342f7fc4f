import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Schema and data: pending_recompute, the (community, term) pairs whose pot and shares still count a school that
 * has left the community. EndClosedSchoolMemberships ended the open memberships of schools closed before closures
 * existed but could not run the funding model (a migration's schema may be older than the code), so every pair it
 * left stale is recorded here, from its audit entries: each community it ended or removed, for every open term
 * starting on or after the close date (an entry the hub has already settled, audited RECOMPUTE_AFTER_CLOSURE after
 * it, is not recorded again). The hub recomputes them at start-up, under the pot locks, exactly as a
 * closure does (server/modules/school/pending-recompute.ts), and dataStatus reports them until then.
 */
export class PendingClosureRecomputes1796187921758 implements MigrationInterface {
  name = 'PendingClosureRecomputes1796187921758';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "pending_recompute" ("id" SERIAL NOT NULL, "school_urn" integer NOT NULL, "community_code" character varying(16) NOT NULL, "term_code" character varying(16) NOT NULL, "close_date" date NOT NULL, "reason" character varying(200) NOT NULL, "recorded_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "attempts" integer NOT NULL DEFAULT '0', "last_error" text, "last_attempt_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_303adec5ce11bb2efa2a63898e6" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_44c5ea6b33776f2a9d68cb9cf2" ON "pending_recompute"  ("school_urn", "community_code", "term_code") `);
    await queryRunner.query(`ALTER TABLE "pending_recompute" ADD CONSTRAINT "FK_105873832ea7b17a50d0e20f06c" FOREIGN KEY ("school_urn") REFERENCES "school"("urn") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "pending_recompute" ADD CONSTRAINT "FK_37f24bd05c30c960939e4a865c9" FOREIGN KEY ("community_code") REFERENCES "community"("code") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "pending_recompute" ADD CONSTRAINT "FK_42da2607121e567eb27317d98d6" FOREIGN KEY ("term_code") REFERENCES "funding_term"("code") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    await queryRunner.query(
      `INSERT INTO pending_recompute (school_urn, community_code, term_code, close_date, reason)
       SELECT DISTINCT a.entity_id::int, c.code, t.code, (a.after->>'closeDate')::date,
              'Closed before closures ended memberships (migration EndClosedSchoolMemberships)'
         FROM audit_log a
         CROSS JOIN LATERAL (SELECT jsonb_array_elements_text(coalesce(a.after->'membershipsEnded', '[]'::jsonb) || coalesce(a.after->'membershipsRemoved', '[]'::jsonb)) AS code) c
         JOIN funding_term t ON t.start_date >= (a.after->>'closeDate')::date AND NOT t.closed
        WHERE a.entity = 'SCHOOL' AND a.action = 'END_MEMBERSHIPS' AND a.actor = 'migration:EndClosedSchoolMemberships'
          AND NOT EXISTS (SELECT 1 FROM audit_log r WHERE r.entity = 'SCHOOL' AND r.entity_id = a.entity_id AND r.action = 'RECOMPUTE_AFTER_CLOSURE' AND r.id > a.id)
          AND EXISTS (SELECT 1 FROM school s WHERE s.urn = a.entity_id::int) AND EXISTS (SELECT 1 FROM community k WHERE k.code = c.code)
       ON CONFLICT DO NOTHING`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "pending_recompute" DROP CONSTRAINT "FK_42da2607121e567eb27317d98d6"`);
    await queryRunner.query(`ALTER TABLE "pending_recompute" DROP CONSTRAINT "FK_37f24bd05c30c960939e4a865c9"`);
    await queryRunner.query(`ALTER TABLE "pending_recompute" DROP CONSTRAINT "FK_105873832ea7b17a50d0e20f06c"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_44c5ea6b33776f2a9d68cb9cf2"`);
    await queryRunner.query(`DROP TABLE "pending_recompute"`);
  }
}
