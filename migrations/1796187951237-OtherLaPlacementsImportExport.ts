import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The commissioning and the providing authority: OTHER_LA placements (the LA's children in other authorities'
 * schools, count x the top-up the LA pays) compute the OTHER_LA_PLACEMENTS line, and the pupils imported and
 * exported per financial year give the import/export adjustment in the block's income. Existing income rows
 * keep null counts (not recorded: dataStatus reports them, no adjustment is counted).
 */
export class OtherLaPlacementsImportExport1796187951237 implements MigrationInterface {
  name = 'OtherLaPlacementsImportExport1796187951237';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "placement" DROP CONSTRAINT "CHK_3c92d25dcf7026ad045785d613"`);
    await queryRunner.query(`ALTER TABLE "dsg_income_year" ADD "imported_pupils" integer`);
    await queryRunner.query(`ALTER TABLE "dsg_income_year" ADD "exported_pupils" integer`);
    await queryRunner.query(`ALTER TABLE "placement" ADD CONSTRAINT "CHK_6c846417539b12c554262147df" CHECK ("kind" IN ('INDEPENDENT_NMSS', 'POST_16_FE', 'OTHER_LA'))`);
    await queryRunner.query(`ALTER TABLE "dsg_income_year" ADD CONSTRAINT "CHK_9b5a9f0bdd89b72ae2c7c5c448" CHECK ("imported_pupils" >= 0 AND "exported_pupils" >= 0)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "dsg_income_year" DROP CONSTRAINT "CHK_9b5a9f0bdd89b72ae2c7c5c448"`);
    await queryRunner.query(`ALTER TABLE "placement" DROP CONSTRAINT "CHK_6c846417539b12c554262147df"`);
    await queryRunner.query(`ALTER TABLE "dsg_income_year" DROP COLUMN "exported_pupils"`);
    await queryRunner.query(`ALTER TABLE "dsg_income_year" DROP COLUMN "imported_pupils"`);
    await queryRunner.query(`ALTER TABLE "placement" ADD CONSTRAINT "CHK_3c92d25dcf7026ad045785d613" CHECK (((kind)::text = ANY ((ARRAY['INDEPENDENT_NMSS'::character varying, 'POST_16_FE'::character varying])::text[])))`);
  }
}
