import { MigrationInterface, QueryRunner } from 'typeorm';

export class HighNeedsBlockDrivers1796171755353 implements MigrationInterface {
  name = 'HighNeedsBlockDrivers1796171755353';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "place_number" ("source_kind" text NOT NULL DEFAULT 'COMPUTED', "source_file" text, "source_by" text, "source_at" TIMESTAMP WITH TIME ZONE, "source_parameter_version" integer, "school_urn" integer NOT NULL, "academic_year_code" character varying(7) NOT NULL, "place_type" character varying(16) NOT NULL, "places" integer NOT NULL, CONSTRAINT "CHK_f8b11cf4ef0f2a933473ff3312" CHECK ("places" >= 0), CONSTRAINT "CHK_91424fd639cf8f3022fd5d0e4a" CHECK ("source_kind" IN ('COMPUTED', 'IMPORTED', 'MANUAL')), CONSTRAINT "CHK_a579a52b027262cdab56a822bf" CHECK ("place_type" IN ('SPECIAL_PRE16', 'SPECIAL_POST16', 'AP', 'SRP')), CONSTRAINT "PK_897d98003abb14bf169ed83a98c" PRIMARY KEY ("school_urn", "academic_year_code", "place_type"))`);
    await queryRunner.query(`CREATE TABLE "top_up_count" ("source_kind" text NOT NULL DEFAULT 'COMPUTED', "source_file" text, "source_by" text, "source_at" TIMESTAMP WITH TIME ZONE, "source_parameter_version" integer, "school_urn" integer NOT NULL, "term_code" character varying(16) NOT NULL, "setting" character varying(8) NOT NULL, "band" character varying(8) NOT NULL, "pupils" integer NOT NULL, CONSTRAINT "CHK_ac8563de3f9e78b62d37ef157f" CHECK ("pupils" >= 0), CONSTRAINT "CHK_3e2a18b0cd7576bbaa21f7a879" CHECK ("source_kind" IN ('COMPUTED', 'IMPORTED', 'MANUAL')), CONSTRAINT "CHK_0cd4416dc9700313cc1a66c7db" CHECK ("setting" IN ('SRP', 'SPECIAL', 'AP')), CONSTRAINT "PK_32f5e959d8e3b0fb5f3a6933b20" PRIMARY KEY ("school_urn", "term_code", "setting", "band"))`);
    await queryRunner.query(`CREATE TABLE "placement" ("source_kind" text NOT NULL DEFAULT 'COMPUTED', "source_file" text, "source_by" text, "source_at" TIMESTAMP WITH TIME ZONE, "source_parameter_version" integer, "financial_year_code" character varying(7) NOT NULL, "kind" character varying(24) NOT NULL, "placements" integer NOT NULL, "unit_cost" numeric(14,2) NOT NULL, CONSTRAINT "CHK_ca27b0abcd47e41bc101eda49c" CHECK ("placements" >= 0 AND "unit_cost" >= 0), CONSTRAINT "CHK_d2334ced76e2da2c43fd9a1927" CHECK ("source_kind" IN ('COMPUTED', 'IMPORTED', 'MANUAL')), CONSTRAINT "CHK_3c92d25dcf7026ad045785d613" CHECK ("kind" IN ('INDEPENDENT_NMSS', 'POST_16_FE')), CONSTRAINT "PK_48d85d372fe9736498f1509e773" PRIMARY KEY ("financial_year_code", "kind"))`);
    await queryRunner.query(`CREATE TABLE "dsg_income_year" ("source_kind" text NOT NULL DEFAULT 'COMPUTED', "source_file" text, "source_by" text, "source_at" TIMESTAMP WITH TIME ZONE, "source_parameter_version" integer, "financial_year_code" character varying(7) NOT NULL, "high_needs_allocation" numeric(14,2) NOT NULL, "schools_block" numeric(14,2) NOT NULL, "la_contribution" numeric(14,2) NOT NULL, CONSTRAINT "CHK_e946ed19625d3531025bd4a5ed" CHECK ("source_kind" IN ('COMPUTED', 'IMPORTED', 'MANUAL')), CONSTRAINT "PK_17791209a8eda90d821dc15f78b" PRIMARY KEY ("financial_year_code"))`);
    await queryRunner.query(`CREATE TABLE "safety_valve_plan_year" ("source_kind" text NOT NULL DEFAULT 'COMPUTED', "source_file" text, "source_by" text, "source_at" TIMESTAMP WITH TIME ZONE, "source_parameter_version" integer, "financial_year_code" character varying(7) NOT NULL, "in_year_plan" numeric(14,2) NOT NULL, CONSTRAINT "CHK_441503c58320cdb271277123d3" CHECK ("source_kind" IN ('COMPUTED', 'IMPORTED', 'MANUAL')), CONSTRAINT "PK_337bbd40e66f8cdcaa07affcf9b" PRIMARY KEY ("financial_year_code"))`);
    await queryRunner.query(`CREATE TABLE "safety_valve_instalment" ("source_kind" text NOT NULL DEFAULT 'COMPUTED', "source_file" text, "source_by" text, "source_at" TIMESTAMP WITH TIME ZONE, "source_parameter_version" integer, "period_code" character varying(12) NOT NULL, "financial_year_code" character varying(7) NOT NULL, "due_on" date NOT NULL, "amount" numeric(14,2) NOT NULL, "status" character varying(12) NOT NULL, "paid_on" date, CONSTRAINT "CHK_ab19cb5a287832850c1ccef8ff" CHECK ("source_kind" IN ('COMPUTED', 'IMPORTED', 'MANUAL')), CONSTRAINT "CHK_4ddaa11898c170b7854c0418aa" CHECK (("status" IN ('PAID', 'PAID_LATE')) = ("paid_on" IS NOT NULL)), CONSTRAINT "CHK_20879ecd6c725381223e12ff38" CHECK ("status" IN ('PAID', 'PAID_LATE', 'WITHHELD', 'DUE')), CONSTRAINT "PK_f32363a781e695a3c2dfff2cbb0" PRIMARY KEY ("period_code"))`);
    await queryRunner.query(`CREATE TABLE "block_forecast_snapshot" ("period_code" character varying(12) NOT NULL, "line_code" character varying(40) NOT NULL, "forecast" numeric(14,2) NOT NULL, CONSTRAINT "PK_f2063bcb2697ab7599f840528bf" PRIMARY KEY ("period_code", "line_code"))`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" ADD "brought_forward_date" date`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" ADD "brought_forward_plan" numeric(14,2)`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" ADD "brought_forward_outturn" numeric(14,2)`);
    await queryRunner.query(`ALTER TABLE "place_number" ADD CONSTRAINT "FK_1f2f2e48bb10fe12ed36f56e1b9" FOREIGN KEY ("school_urn") REFERENCES "school"("urn") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "place_number" ADD CONSTRAINT "FK_14d81bbeafe00ea8e4976c0bc78" FOREIGN KEY ("academic_year_code") REFERENCES "academic_year"("code") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "top_up_count" ADD CONSTRAINT "FK_176cc903ada85f74130b684b98d" FOREIGN KEY ("school_urn") REFERENCES "school"("urn") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "top_up_count" ADD CONSTRAINT "FK_ab7a95231b834f27953118c07db" FOREIGN KEY ("term_code") REFERENCES "funding_term"("code") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "placement" ADD CONSTRAINT "FK_84f59626a9972e9ea07d3bd2bbb" FOREIGN KEY ("financial_year_code") REFERENCES "financial_year"("code") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "dsg_income_year" ADD CONSTRAINT "FK_17791209a8eda90d821dc15f78b" FOREIGN KEY ("financial_year_code") REFERENCES "financial_year"("code") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "safety_valve_plan_year" ADD CONSTRAINT "FK_337bbd40e66f8cdcaa07affcf9b" FOREIGN KEY ("financial_year_code") REFERENCES "financial_year"("code") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "safety_valve_instalment" ADD CONSTRAINT "FK_ba34a5ef2313347a8ba95ca0ca3" FOREIGN KEY ("financial_year_code") REFERENCES "financial_year"("code") ON DELETE RESTRICT ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "block_forecast_snapshot" ADD CONSTRAINT "FK_a1e575d11383ff84c2b6a07164c" FOREIGN KEY ("period_code") REFERENCES "safety_valve_report"("period_code") ON DELETE RESTRICT ON UPDATE NO ACTION`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "block_forecast_snapshot" DROP CONSTRAINT "FK_a1e575d11383ff84c2b6a07164c"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_instalment" DROP CONSTRAINT "FK_ba34a5ef2313347a8ba95ca0ca3"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_plan_year" DROP CONSTRAINT "FK_337bbd40e66f8cdcaa07affcf9b"`);
    await queryRunner.query(`ALTER TABLE "dsg_income_year" DROP CONSTRAINT "FK_17791209a8eda90d821dc15f78b"`);
    await queryRunner.query(`ALTER TABLE "placement" DROP CONSTRAINT "FK_84f59626a9972e9ea07d3bd2bbb"`);
    await queryRunner.query(`ALTER TABLE "top_up_count" DROP CONSTRAINT "FK_ab7a95231b834f27953118c07db"`);
    await queryRunner.query(`ALTER TABLE "top_up_count" DROP CONSTRAINT "FK_176cc903ada85f74130b684b98d"`);
    await queryRunner.query(`ALTER TABLE "place_number" DROP CONSTRAINT "FK_14d81bbeafe00ea8e4976c0bc78"`);
    await queryRunner.query(`ALTER TABLE "place_number" DROP CONSTRAINT "FK_1f2f2e48bb10fe12ed36f56e1b9"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" DROP COLUMN "brought_forward_outturn"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" DROP COLUMN "brought_forward_plan"`);
    await queryRunner.query(`ALTER TABLE "safety_valve_agreement" DROP COLUMN "brought_forward_date"`);
    await queryRunner.query(`DROP TABLE "block_forecast_snapshot"`);
    await queryRunner.query(`DROP TABLE "safety_valve_instalment"`);
    await queryRunner.query(`DROP TABLE "safety_valve_plan_year"`);
    await queryRunner.query(`DROP TABLE "dsg_income_year"`);
    await queryRunner.query(`DROP TABLE "placement"`);
    await queryRunner.query(`DROP TABLE "top_up_count"`);
    await queryRunner.query(`DROP TABLE "place_number"`);
  }
}
