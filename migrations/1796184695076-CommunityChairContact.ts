import { MigrationInterface, QueryRunner } from 'typeorm';

export class CommunityChairContact1796184695076 implements MigrationInterface {
  name = 'CommunityChairContact1796184695076';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "community" ADD "chair_contact" character varying(200)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "community" DROP COLUMN "chair_contact"`);
  }
}
