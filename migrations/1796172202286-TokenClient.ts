import { MigrationInterface, QueryRunner } from 'typeorm';

export class TokenClient1796172202286 implements MigrationInterface {
  name = 'TokenClient1796172202286';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "api_token" ADD "client" character varying(8) NOT NULL DEFAULT 'api'`);
    await queryRunner.query(`ALTER TABLE "api_token" ADD CONSTRAINT "CHK_8ed3c11a4b99ab601b2afe5b4f" CHECK ("client" IN ('api', 'addin'))`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "api_token" DROP CONSTRAINT "CHK_8ed3c11a4b99ab601b2afe5b4f"`);
    await queryRunner.query(`ALTER TABLE "api_token" DROP COLUMN "client"`);
  }
}
