import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every change to reference data (periods, districts, areas) notifies channel hub_reference_data, so each hub
 * process drops its cached copy (server/modules/period/reference-data.ts). Statement-level: one notification
 * per statement, folded into one per transaction by PostgreSQL.
 */
const TABLES = ['financial_year', 'academic_year', 'funding_term', 'school_term', 'district', 'area'];

export class ReferenceDataNotify1796172916816 implements MigrationInterface {
  name = 'ReferenceDataNotify1796172916816';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE FUNCTION hub_reference_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('hub_reference_data', TG_TABLE_NAME);
        RETURN NULL;
      END $$`);
    for (const table of TABLES) {
      await queryRunner.query(
        `CREATE TRIGGER reference_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "${table}"
           FOR EACH STATEMENT EXECUTE FUNCTION hub_reference_data_changed()`,
      );
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of TABLES) await queryRunner.query(`DROP TRIGGER reference_data_changed ON "${table}"`);
    await queryRunner.query(`DROP FUNCTION hub_reference_data_changed()`);
  }
}
