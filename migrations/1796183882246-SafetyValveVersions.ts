import { MigrationInterface, QueryRunner } from 'typeorm';

export class SafetyValveVersions1796183882246 implements MigrationInterface {
  name = 'SafetyValveVersions1796183882246';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" ADD "source_kind" text NOT NULL DEFAULT 'COMPUTED'`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" ADD "source_file" text`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" ADD "source_by" text`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" ADD "source_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" ADD "source_parameter_version" integer`);
    // Each agreement held so far becomes its version 1, in effect from the date its starting deficit was measured, reporting
    // quarterly as the reports held so far do.
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" ADD "version" integer NOT NULL DEFAULT 1`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" ALTER COLUMN "version" DROP DEFAULT`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" DROP CONSTRAINT "PK_3e42f81d92d60a12a40f92a4ea9"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" ADD CONSTRAINT "PK_72439099aa90b09c58e9a362222" PRIMARY KEY ("code", "version")`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" ADD "effective_from" date`);
    await queryRunner.query(`UPDATE "safety_valve_agreement" SET "effective_from" = "deficit_at_start_date"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" ALTER COLUMN "effective_from" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" ADD "reports_per_year" integer NOT NULL DEFAULT 4`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" ALTER COLUMN "reports_per_year" DROP DEFAULT`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" ADD "note" character varying(200)`);
    await queryRunner.query(`ALTER TABLE "safety_valve_report" ADD "source_kind" text NOT NULL DEFAULT 'COMPUTED'`);
    await queryRunner.query(`ALTER TABLE "safety_valve_report" ADD "source_file" text`);
    await queryRunner.query(`ALTER TABLE "safety_valve_report" ADD "source_by" text`);
    await queryRunner.query(`ALTER TABLE "safety_valve_report" ADD "source_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "safety_valve_report" ADD "source_parameter_version" integer`);
    await queryRunner.query(`ALTER TABLE "safety_valve_kpi" ADD "source_kind" text NOT NULL DEFAULT 'COMPUTED'`);
    await queryRunner.query(`ALTER TABLE "safety_valve_kpi" ADD "source_file" text`);
    await queryRunner.query(`ALTER TABLE "safety_valve_kpi" ADD "source_by" text`);
    await queryRunner.query(`ALTER TABLE "safety_valve_kpi" ADD "source_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "safety_valve_kpi" ADD "source_parameter_version" integer`);
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_c7d68bf16d7319e0d325b6aaba" ON "safety_valve_agreement"  ("code", "effective_from") `);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" ADD CONSTRAINT "CHK_2ac118c9b86a698a4112c233ba" CHECK ("first_financial_year" <= "last_financial_year")`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" ADD CONSTRAINT "CHK_1773ed946859bbf9486905ff19" CHECK ("reports_per_year" BETWEEN 1 AND 12)`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" ADD CONSTRAINT "CHK_d1a5c7f905eb9a307597b0a495" CHECK ("source_kind" IN ('COMPUTED', 'IMPORTED', 'MANUAL'))`);
    await queryRunner.query(`ALTER TABLE "safety_valve_report" ADD CONSTRAINT "CHK_c5a5def2faa27428a4f411b7ee" CHECK ("quarter" BETWEEN 1 AND 12)`);
    await queryRunner.query(`ALTER TABLE "safety_valve_report" ADD CONSTRAINT "CHK_1549803531ff0d43f9069da0c1" CHECK ("source_kind" IN ('COMPUTED', 'IMPORTED', 'MANUAL'))`);
    await queryRunner.query(`ALTER TABLE "safety_valve_kpi" ADD CONSTRAINT "CHK_3c05499cb47e6dab9214991c94" CHECK ("unit" IN ('COUNT', 'PERCENT', 'GBP'))`);
    await queryRunner.query(`ALTER TABLE "safety_valve_kpi" ADD CONSTRAINT "CHK_ae9c7d14b0893a7d88581c1324" CHECK ("source_kind" IN ('COMPUTED', 'IMPORTED', 'MANUAL'))`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "safety_valve_kpi" DROP CONSTRAINT "CHK_ae9c7d14b0893a7d88581c1324"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_kpi" DROP CONSTRAINT "CHK_3c05499cb47e6dab9214991c94"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_report" DROP CONSTRAINT "CHK_1549803531ff0d43f9069da0c1"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_report" DROP CONSTRAINT "CHK_c5a5def2faa27428a4f411b7ee"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" DROP CONSTRAINT "CHK_d1a5c7f905eb9a307597b0a495"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" DROP CONSTRAINT "CHK_1773ed946859bbf9486905ff19"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" DROP CONSTRAINT "CHK_2ac118c9b86a698a4112c233ba"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_c7d68bf16d7319e0d325b6aaba"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_kpi" DROP COLUMN "source_parameter_version"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_kpi" DROP COLUMN "source_at"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_kpi" DROP COLUMN "source_by"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_kpi" DROP COLUMN "source_file"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_kpi" DROP COLUMN "source_kind"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_report" DROP COLUMN "source_parameter_version"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_report" DROP COLUMN "source_at"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_report" DROP COLUMN "source_by"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_report" DROP COLUMN "source_file"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_report" DROP COLUMN "source_kind"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" DROP COLUMN "note"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" DROP COLUMN "reports_per_year"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" DROP COLUMN "effective_from"`);
    // One row per agreement again: its latest version.
    await queryRunner.query(
      `DELETE FROM "safety_valve_agreement" a USING "safety_valve_agreement" b WHERE a.code = b.code AND a.version < b.version`,
    );
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" DROP CONSTRAINT "PK_72439099aa90b09c58e9a362222"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" ADD CONSTRAINT "PK_3e42f81d92d60a12a40f92a4ea9" PRIMARY KEY ("code")`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" DROP COLUMN "version"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" DROP COLUMN "source_parameter_version"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" DROP COLUMN "source_at"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" DROP COLUMN "source_by"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" DROP COLUMN "source_file"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" DROP COLUMN "source_kind"`);
  }
}
