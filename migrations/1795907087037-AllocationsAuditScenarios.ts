import { MigrationInterface, QueryRunner } from 'typeorm';

export class AllocationsAuditScenarios1795907087037 implements MigrationInterface {
  name = 'AllocationsAuditScenarios1795907087037';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "allocation" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "school_urn" integer NOT NULL, "community_code" character varying(16) NOT NULL, "term_code" character varying(16) NOT NULL, "purpose" character varying(120) NOT NULL, "amount" numeric(14,2) NOT NULL, "status" character varying(12) NOT NULL, "version" integer NOT NULL, "decision_reference" character varying(80), "approved_by" character varying(160), "approved_at" TIMESTAMP WITH TIME ZONE, "updated_by" character varying(160) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "CHK_8895ad5cdbed38f337cf93c7fd" CHECK ("version" >= 1), CONSTRAINT "CHK_0cf9959430549037e183af9e90" CHECK ("amount" >= 0), CONSTRAINT "PK_7df89c736595e454b6ae07264fe" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "IDX_915873e9415057c88a75e44bab" ON "allocation"  ("community_code", "term_code") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_4cf8c5294792cd326eee401647" ON "allocation"  ("school_urn", "term_code", "purpose") `);
    await queryRunner.query(`CREATE TABLE "idempotency_record" ("key" character varying(200) NOT NULL, "request_hash" character(64) NOT NULL, "actor" character varying(160) NOT NULL, "response" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_c30d9b595b0c4bf59cc03ce604c" PRIMARY KEY ("key"))`);
    await queryRunner.query(`CREATE TABLE "audit_log" ("id" BIGSERIAL NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "actor" character varying(160) NOT NULL, "actor_name" character varying(160) NOT NULL, "role" character varying(12) NOT NULL, "source" character varying(8) NOT NULL, "entity" character varying(24) NOT NULL, "entity_id" character varying(80) NOT NULL, "action" character varying(24) NOT NULL, "idempotency_key" character varying(200), "decision_reference" character varying(80), "reason" text, "before" jsonb, "after" jsonb, CONSTRAINT "PK_07fefa57f7f5ab8fc3f52b3ed0b" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "IDX_ba27cef5b8b2b1a756e06ebcc5" ON "audit_log"  ("at") `);
    await queryRunner.query(`CREATE INDEX "IDX_40c0e9a60edcd0f680b0e94b60" ON "audit_log"  ("entity", "entity_id") `);
    await queryRunner.query(`CREATE TABLE "model_parameter_set" ("version" SERIAL NOT NULL, "effective_from" date NOT NULL, "author" character varying(160) NOT NULL, "note" text, "parameters" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_e7fa9a8510b2475a6f865a074bd" PRIMARY KEY ("version"))`);
    await queryRunner.query(`CREATE TABLE "scenario" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(120) NOT NULL, "owner" character varying(160) NOT NULL, "owner_name" character varying(160) NOT NULL, "state" character varying(8) NOT NULL, "base_parameter_version" integer NOT NULL, "based_on_scenario_id" uuid, "overrides" jsonb NOT NULL, "version" integer NOT NULL DEFAULT '1', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_ec7b57ee913fb77bb70ed3bc708" PRIMARY KEY ("id"))`);
    await queryRunner.query(`ALTER TABLE "allocation" ADD CONSTRAINT "FK_b7a53c85180681c3e01c4079ac1" FOREIGN KEY ("school_urn") REFERENCES "school"("urn") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "allocation" ADD CONSTRAINT "FK_35e2f7253d02bfc288355f89a8a" FOREIGN KEY ("community_code") REFERENCES "community"("code") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "allocation" ADD CONSTRAINT "FK_da2c088cfdd940728a826582ba5" FOREIGN KEY ("term_code") REFERENCES "funding_term"("code") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    // Hand-written: the audit trail is append-only, enforced by the database for every client.
    await queryRunner.query(`CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await queryRunner.query(`CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON "audit_log" FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`);
    await queryRunner.query(`CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON "audit_log" FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "allocation" DROP CONSTRAINT "FK_da2c088cfdd940728a826582ba5"`);
    await queryRunner.query(`ALTER TABLE "allocation" DROP CONSTRAINT "FK_35e2f7253d02bfc288355f89a8a"`);
    await queryRunner.query(`ALTER TABLE "allocation" DROP CONSTRAINT "FK_b7a53c85180681c3e01c4079ac1"`);
    await queryRunner.query(`DROP TABLE "scenario"`);
    await queryRunner.query(`DROP TABLE "model_parameter_set"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_40c0e9a60edcd0f680b0e94b60"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_ba27cef5b8b2b1a756e06ebcc5"`);
    await queryRunner.query(`DROP TRIGGER audit_log_no_truncate ON "audit_log"`);
    await queryRunner.query(`DROP TRIGGER audit_log_no_update_delete ON "audit_log"`);
    await queryRunner.query(`DROP FUNCTION audit_log_append_only()`);
    await queryRunner.query(`DROP TABLE "audit_log"`);
    await queryRunner.query(`DROP TABLE "idempotency_record"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_4cf8c5294792cd326eee401647"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_915873e9415057c88a75e44bab"`);
    await queryRunner.query(`DROP TABLE "allocation"`);
  }
}
