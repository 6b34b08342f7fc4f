import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * GIAS as the DfE publishes it (issue 13): LAESTAB unique among open schools only (a closed predecessor and the
 * academy that succeeds it may share one), districts the register creates before any area holds them, and
 * school_link for the GIAS links file. (The district FK is dropped and re-added by TypeORM around the change.)
 */

export class GiasLinksAndOpenLaestab1796183902323 implements MigrationInterface {
  name = 'GiasLinksAndOpenLaestab1796183902323';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."IDX_ffa67276495ec52cbb5660a3a5"`);
    await queryRunner.query(`CREATE TABLE "school_link" ("urn" integer NOT NULL, "link_urn" integer NOT NULL, "link_type" character varying(80) NOT NULL, "established_date" date, "conversion_handled_at" TIMESTAMP WITH TIME ZONE, "source_kind" character varying(10) NOT NULL DEFAULT 'IMPORTED', "source_file" character varying(200), "source_by" character varying(160), "source_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "CHK_b5039ac6102ade80cc0562ff59" CHECK ("source_kind" IN ('COMPUTED', 'IMPORTED', 'MANUAL')), CONSTRAINT "CHK_64f37c60431cbb90d555fd14c8" CHECK ("urn" <> "link_urn"), CONSTRAINT "PK_f66e52e2368cd29f75c058dcb50" PRIMARY KEY ("urn", "link_urn", "link_type"))`);
    await queryRunner.query(`CREATE INDEX "IDX_fc6bc430f779a0a110e4a5aa27" ON "school_link"  ("link_urn") `);
    await queryRunner.query(`ALTER TABLE "district" DROP CONSTRAINT "FK_6857a775e33f330daab6c53024e"`);
    await queryRunner.query(`ALTER TABLE "district" ALTER COLUMN "area_code" DROP NOT NULL`);
    await queryRunner.query(`CREATE INDEX "IDX_school_laestab" ON "school"  ("laestab") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_school_laestab_open" ON "school"  ("laestab") WHERE "status" IN ('OPEN', 'PROPOSED_TO_CLOSE')`);
    await queryRunner.query(`ALTER TABLE "district" ADD CONSTRAINT "FK_6857a775e33f330daab6c53024e" FOREIGN KEY ("area_code") REFERENCES "area"("code") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "school_link" ADD CONSTRAINT "FK_c990de07f655521c42d27de2f57" FOREIGN KEY ("urn") REFERENCES "school"("urn") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "school_link" ADD CONSTRAINT "FK_fc6bc430f779a0a110e4a5aa272" FOREIGN KEY ("link_urn") REFERENCES "school"("urn") ON DELETE RESTRICT ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "school_link" DROP CONSTRAINT "FK_fc6bc430f779a0a110e4a5aa272"`);
    await queryRunner.query(`ALTER TABLE "school_link" DROP CONSTRAINT "FK_c990de07f655521c42d27de2f57"`);
    await queryRunner.query(`ALTER TABLE "district" DROP CONSTRAINT "FK_6857a775e33f330daab6c53024e"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_school_laestab_open"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_school_laestab"`);
    await queryRunner.query(`ALTER TABLE "district" ALTER COLUMN "area_code" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "district" ADD CONSTRAINT "FK_6857a775e33f330daab6c53024e" FOREIGN KEY ("area_code") REFERENCES "area"("code") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    await queryRunner.query(`DROP INDEX "public"."IDX_fc6bc430f779a0a110e4a5aa27"`);
    await queryRunner.query(`DROP TABLE "school_link"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_ffa67276495ec52cbb5660a3a5" ON "school" USING btree ("laestab") `);
  }
}
