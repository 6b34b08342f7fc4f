import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * hub_instance: one row saying whether the database holds demo data or one authority's real data. A database
 * that already has schools was loaded by the demo seed (nothing else could load it before this): it is marked
 * DEMO, with the LA code its LAESTABs carry.
 */
export class HubInstance1796183869448 implements MigrationInterface {
  name = 'HubInstance1796183869448';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "hub_instance" ("id" boolean NOT NULL DEFAULT true, "mode" character varying(4) NOT NULL, "la_code" integer NOT NULL, "la_name" character varying(120) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "CHK_277d2c086b6db397f12de07278" CHECK ("mode" IN ('DEMO', 'REAL')), CONSTRAINT "CHK_9cb529e75de1eeb47cc9420d24" CHECK ("id"), CONSTRAINT "PK_5e4fd7f72475aab6af7e29b7301" PRIMARY KEY ("id"))`);
    await queryRunner.query(
      `INSERT INTO hub_instance (id, mode, la_code, la_name)
         SELECT true, 'DEMO', s.laestab / 10000, 'LA ' || (s.laestab / 10000) FROM (SELECT laestab FROM school ORDER BY urn LIMIT 1) s`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "hub_instance"`);
  }
}
