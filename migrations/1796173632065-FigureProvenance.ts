import { MigrationInterface, QueryRunner } from 'typeorm';

export class FigureProvenance1796173632065 implements MigrationInterface {
  name = 'FigureProvenance1796173632065';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "notional_sen_factor" ADD "source_kind" character varying(10) NOT NULL DEFAULT 'COMPUTED'`);
    await queryRunner.query(`ALTER TABLE "notional_sen_factor" ADD "source_file" character varying(200)`);
    await queryRunner.query(`ALTER TABLE "notional_sen_factor" ADD "source_by" character varying(160)`);
    await queryRunner.query(`ALTER TABLE "notional_sen_factor" ADD "source_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "notional_sen_factor" ADD "source_parameter_version" integer`);
    await queryRunner.query(`ALTER TABLE "school_term_funding" ADD "source_kind" character varying(10) NOT NULL DEFAULT 'COMPUTED'`);
    await queryRunner.query(`ALTER TABLE "school_term_funding" ADD "source_file" character varying(200)`);
    await queryRunner.query(`ALTER TABLE "school_term_funding" ADD "source_by" character varying(160)`);
    await queryRunner.query(`ALTER TABLE "school_term_funding" ADD "source_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "school_term_funding" ADD "source_parameter_version" integer`);
    await queryRunner.query(`ALTER TABLE "community_pot" ADD "source_kind" character varying(10) NOT NULL DEFAULT 'COMPUTED'`);
    await queryRunner.query(`ALTER TABLE "community_pot" ADD "source_file" character varying(200)`);
    await queryRunner.query(`ALTER TABLE "community_pot" ADD "source_by" character varying(160)`);
    await queryRunner.query(`ALTER TABLE "community_pot" ADD "source_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "community_pot" ADD "source_parameter_version" integer`);
    await queryRunner.query(`ALTER TABLE "high_needs_block_line" ADD "source_kind" character varying(10) NOT NULL DEFAULT 'COMPUTED'`);
    await queryRunner.query(`ALTER TABLE "high_needs_block_line" ADD "source_file" character varying(200)`);
    await queryRunner.query(`ALTER TABLE "high_needs_block_line" ADD "source_by" character varying(160)`);
    await queryRunner.query(`ALTER TABLE "high_needs_block_line" ADD "source_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "high_needs_block_line" ADD "source_parameter_version" integer`);
    await queryRunner.query(`ALTER TABLE "notional_sen_factor" ADD CONSTRAINT "CHK_a592eaa8fcf7b29f485a922a07" CHECK ("source_kind" IN ('COMPUTED', 'IMPORTED', 'MANUAL'))`);
    await queryRunner.query(`ALTER TABLE "school_term_funding" ADD CONSTRAINT "CHK_80ae254c0df7272f886fb5afb9" CHECK ("source_kind" IN ('COMPUTED', 'IMPORTED', 'MANUAL'))`);
    await queryRunner.query(`ALTER TABLE "community_pot" ADD CONSTRAINT "CHK_114499e620695a0c9eff16f287" CHECK ("source_kind" IN ('COMPUTED', 'IMPORTED', 'MANUAL'))`);
    await queryRunner.query(`ALTER TABLE "high_needs_block_line" ADD CONSTRAINT "CHK_380a336e1619c8218922297f7e" CHECK ("source_kind" IN ('COMPUTED', 'IMPORTED', 'MANUAL'))`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "high_needs_block_line" DROP CONSTRAINT "CHK_380a336e1619c8218922297f7e"`);
    await queryRunner.query(`ALTER TABLE "community_pot" DROP CONSTRAINT "CHK_114499e620695a0c9eff16f287"`);
    await queryRunner.query(`ALTER TABLE "school_term_funding" DROP CONSTRAINT "CHK_80ae254c0df7272f886fb5afb9"`);
    await queryRunner.query(`ALTER TABLE "notional_sen_factor" DROP CONSTRAINT "CHK_a592eaa8fcf7b29f485a922a07"`);
    await queryRunner.query(`ALTER TABLE "high_needs_block_line" DROP COLUMN "source_parameter_version"`);
    await queryRunner.query(`ALTER TABLE "high_needs_block_line" DROP COLUMN "source_at"`);
    await queryRunner.query(`ALTER TABLE "high_needs_block_line" DROP COLUMN "source_by"`);
    await queryRunner.query(`ALTER TABLE "high_needs_block_line" DROP COLUMN "source_file"`);
    await queryRunner.query(`ALTER TABLE "high_needs_block_line" DROP COLUMN "source_kind"`);
    await queryRunner.query(`ALTER TABLE "community_pot" DROP COLUMN "source_parameter_version"`);
    await queryRunner.query(`ALTER TABLE "community_pot" DROP COLUMN "source_at"`);
    await queryRunner.query(`ALTER TABLE "community_pot" DROP COLUMN "source_by"`);
    await queryRunner.query(`ALTER TABLE "community_pot" DROP COLUMN "source_file"`);
    await queryRunner.query(`ALTER TABLE "community_pot" DROP COLUMN "source_kind"`);
    await queryRunner.query(`ALTER TABLE "school_term_funding" DROP COLUMN "source_parameter_version"`);
    await queryRunner.query(`ALTER TABLE "school_term_funding" DROP COLUMN "source_at"`);
    await queryRunner.query(`ALTER TABLE "school_term_funding" DROP COLUMN "source_by"`);
    await queryRunner.query(`ALTER TABLE "school_term_funding" DROP COLUMN "source_file"`);
    await queryRunner.query(`ALTER TABLE "school_term_funding" DROP COLUMN "source_kind"`);
    await queryRunner.query(`ALTER TABLE "notional_sen_factor" DROP COLUMN "source_parameter_version"`);
    await queryRunner.query(`ALTER TABLE "notional_sen_factor" DROP COLUMN "source_at"`);
    await queryRunner.query(`ALTER TABLE "notional_sen_factor" DROP COLUMN "source_by"`);
    await queryRunner.query(`ALTER TABLE "notional_sen_factor" DROP COLUMN "source_file"`);
    await queryRunner.query(`ALTER TABLE "notional_sen_factor" DROP COLUMN "source_kind"`);
  }
}
