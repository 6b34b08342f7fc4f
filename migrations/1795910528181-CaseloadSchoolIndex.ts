import { MigrationInterface, QueryRunner } from 'typeorm';

export class CaseloadSchoolIndex1795910528181 implements MigrationInterface {
  name = 'CaseloadSchoolIndex1795910528181';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "IDX_32214e700d1fd7f25836ddf688" ON "caseload_count"  ("school_urn", "period_code") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."IDX_32214e700d1fd7f25836ddf688"`);
  }
}
