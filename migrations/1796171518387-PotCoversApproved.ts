import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * "Approved allocations never exceed their pot", kept by the database for every writer, present and future.
 * Deferred constraint triggers on allocation and community_pot check each touched pot at commit. The check
 * locks the pot row first, so two transactions that each looked fine alone (a pot lowered, an approval
 * added) cannot both commit: the second waits for the first and then sees its committed rows.
 * A pot is checked once per statement (COMMIT, for deferred checks), however many of its rows changed.
 * SQLSTATE 23514 (check_violation) with the pot, the approved total and the pot amount in the message.
 */
export class PotCoversApproved1796171518387 implements MigrationInterface {
  name = 'PotCoversApproved1796171518387';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE FUNCTION pot_covers_approved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  c text;
  t text;
  pot numeric;
  approved numeric;
  stamp text := statement_timestamp()::text || '|' || txid_current()::text;
  seen text := coalesce(current_setting('hub.pots_checked', true), '');
BEGIN
  IF TG_TABLE_NAME = 'allocation' THEN
    IF TG_OP = 'DELETE' OR NEW.status <> 'APPROVED' THEN RETURN NULL; END IF;
    c := NEW.community_code; t := NEW.term_code;
  ELSIF TG_OP = 'DELETE' THEN
    c := OLD.community_code; t := OLD.term_code;
  ELSE
    c := NEW.community_code; t := NEW.term_code;
  END IF;
  IF split_part(seen, '#', 1) <> stamp THEN seen := stamp || '#'; END IF;
  IF position('#' || c || '|' || t || '#' IN seen) > 0 THEN RETURN NULL; END IF;
  SELECT p.amount INTO pot FROM community_pot p WHERE p.community_code = c AND p.term_code = t FOR UPDATE;
  SELECT coalesce(sum(a.amount), 0) INTO approved FROM allocation a WHERE a.community_code = c AND a.term_code = t AND a.status = 'APPROVED';
  IF approved > coalesce(pot, 0) THEN
    RAISE EXCEPTION USING ERRCODE = '23514',
      MESSAGE = format('approved allocations for %s in %s total %s, above its pot of %s', c, t, approved, coalesce(pot::text, 'nothing (no pot)')),
      DETAIL = json_build_object('reason', 'OVER_POT', 'communityCode', c, 'term', t, 'approved', approved::text, 'pot', pot::text)::text,
      HINT = 'Withdraw or reduce approved allocations before lowering the pot.';
  END IF;
  PERFORM set_config('hub.pots_checked', seen || c || '|' || t || '#', true);
  RETURN NULL;
END $$`);
    await queryRunner.query(
      `CREATE CONSTRAINT TRIGGER allocation_within_pot AFTER INSERT OR UPDATE OF amount, status, community_code, term_code ON "allocation"
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pot_covers_approved()`,
    );
    await queryRunner.query(
      `CREATE CONSTRAINT TRIGGER community_pot_covers_approved AFTER INSERT OR UPDATE OF amount, community_code, term_code OR DELETE ON "community_pot"
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pot_covers_approved()`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER community_pot_covers_approved ON "community_pot"`);
    await queryRunner.query(`DROP TRIGGER allocation_within_pot ON "allocation"`);
    await queryRunner.query(`DROP FUNCTION pot_covers_approved()`);
  }
}
