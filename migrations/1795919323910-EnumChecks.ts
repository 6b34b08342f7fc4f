import { MigrationInterface, QueryRunner } from 'typeorm';

export class EnumChecks1795919323910 implements MigrationInterface {
  name = 'EnumChecks1795919323910';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "school" ADD CONSTRAINT "CHK_1bb75c2b230bcb5c0f2dfcf3b8" CHECK ("status" IN ('OPEN', 'CLOSED', 'PROPOSED_TO_OPEN', 'PROPOSED_TO_CLOSE'))`);
    await queryRunner.query(`ALTER TABLE "school" ADD CONSTRAINT "CHK_4b5b5538571b0d450a6568b4a9" CHECK ("type" IN ('MAINTAINED', 'ACADEMY', 'FREE_SCHOOL', 'OTHER'))`);
    await queryRunner.query(`ALTER TABLE "school" ADD CONSTRAINT "CHK_6cdbc7731656b255e66bc93328" CHECK ("phase" IN ('NURSERY', 'PRIMARY', 'SECONDARY', 'ALL_THROUGH', 'SPECIAL', 'PRU', 'SIXTEEN_PLUS'))`);
    await queryRunner.query(`ALTER TABLE "notional_sen_factor" ADD CONSTRAINT "CHK_141448f1e3e2a639aee9e45e3d" CHECK ("factor" IN ('BASIC_ENTITLEMENT', 'FSM_EVER6', 'DEPRIVATION', 'MOBILITY', 'LOW_PRIOR_ATTAINMENT', 'MINIMUM_PER_PUPIL_MFG'))`);
    await queryRunner.query(`ALTER TABLE "caseload_count" ADD CONSTRAINT "CHK_a1865b1befad5735708fcfa85d" CHECK ("kind" IN ('LINK_WORKER_SCHOOLS', 'LINK_WORKER_SETTINGS', 'SIPS_CHILDREN', 'EHCP_PLANS', 'EYPRG_REFERRALS'))`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "caseload_count" DROP CONSTRAINT "CHK_a1865b1befad5735708fcfa85d"`);
    await queryRunner.query(`ALTER TABLE "notional_sen_factor" DROP CONSTRAINT "CHK_141448f1e3e2a639aee9e45e3d"`);
    await queryRunner.query(`ALTER TABLE "school" DROP CONSTRAINT "CHK_6cdbc7731656b255e66bc93328"`);
    await queryRunner.query(`ALTER TABLE "school" DROP CONSTRAINT "CHK_4b5b5538571b0d450a6568b4a9"`);
    await queryRunner.query(`ALTER TABLE "school" DROP CONSTRAINT "CHK_1bb75c2b230bcb5c0f2dfcf3b8"`);
  }
}
