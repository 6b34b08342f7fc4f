import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Disclosure control: a version per caseload kind and period, bumped by triggers whenever the counts (or the
 * memberships that place a school in a community) change, and the suppression patterns computed from them,
 * keyed by viewer scope, kind, period and the version they were computed at. Several hub processes share
 * these, so a pattern is computed once and a stale one is never used.
 */
export class DisclosurePatterns1796171938092 implements MigrationInterface {
  name = 'DisclosurePatterns1796171938092';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE caseload_version (
      kind varchar(24) NOT NULL, period_code varchar(12) NOT NULL, version bigint NOT NULL,
      PRIMARY KEY (kind, period_code))`);
    await q.query(`INSERT INTO caseload_version (kind, period_code, version) SELECT DISTINCT kind, period_code, 1 FROM caseload_count`);
    await q.query(`CREATE FUNCTION caseload_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO caseload_version (kind, period_code, version) SELECT DISTINCT kind, period_code, 1 FROM new_rows
            ON CONFLICT (kind, period_code) DO UPDATE SET version = caseload_version.version + 1;
        ELSIF TG_OP = 'DELETE' THEN
          INSERT INTO caseload_version (kind, period_code, version) SELECT DISTINCT kind, period_code, 1 FROM old_rows
            ON CONFLICT (kind, period_code) DO UPDATE SET version = caseload_version.version + 1;
        ELSIF TG_OP = 'UPDATE' THEN
          INSERT INTO caseload_version (kind, period_code, version)
            SELECT kind, period_code, 1 FROM new_rows UNION SELECT kind, period_code, 1 FROM old_rows
            ON CONFLICT (kind, period_code) DO UPDATE SET version = caseload_version.version + 1;
        ELSE
          UPDATE caseload_version SET version = version + 1;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER caseload_version_ins AFTER INSERT ON caseload_count REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION caseload_version_bump()`);
    await q.query(`CREATE TRIGGER caseload_version_del AFTER DELETE ON caseload_count REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION caseload_version_bump()`);
    await q.query(`CREATE TRIGGER caseload_version_upd AFTER UPDATE ON caseload_count REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION caseload_version_bump()`);
    await q.query(`CREATE TRIGGER caseload_version_trunc AFTER TRUNCATE ON caseload_count FOR EACH STATEMENT EXECUTE FUNCTION caseload_version_bump()`);
    // A school moving community changes which community cell its counts fall in, for every kind and period.
    await q.query(`CREATE FUNCTION caseload_version_bump_all() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN UPDATE caseload_version SET version = version + 1; RETURN NULL; END $$`);
    await q.query(`CREATE TRIGGER caseload_version_membership AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON community_membership FOR EACH STATEMENT EXECUTE FUNCTION caseload_version_bump_all()`);
    await q.query(`CREATE TABLE disclosure_pattern (
      scope varchar(40) NOT NULL, kind varchar(24) NOT NULL, period_code varchar(12) NOT NULL, data_version bigint NOT NULL,
      hidden text[] NOT NULL, compute_ms integer NOT NULL, computed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (scope, kind, period_code))`);
    // The compiled read path joins this: one row per school cell of a pattern.
    await q.query(`CREATE TABLE disclosure_school_cell (
      scope varchar(40) NOT NULL, kind varchar(24) NOT NULL, period_code varchar(12) NOT NULL, school_urn integer NOT NULL,
      data_version bigint NOT NULL, hidden boolean NOT NULL,
      PRIMARY KEY (scope, period_code, school_urn, kind))`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE disclosure_school_cell`);
    await q.query(`DROP TABLE disclosure_pattern`);
    await q.query(`DROP TRIGGER caseload_version_membership ON community_membership`);
    await q.query(`DROP FUNCTION caseload_version_bump_all()`);
    await q.query(`DROP TABLE caseload_version`);
    await q.query(`DROP TRIGGER IF EXISTS caseload_version_ins ON caseload_count`);
    await q.query(`DROP FUNCTION caseload_version_bump() CASCADE`);
  }
}
