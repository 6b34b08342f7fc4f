import type { EntityManager } from 'typeorm';
import { todayIso } from '../period/period.service';
import type { SafetyValveAgreement } from './safety-valve.entity';

/** The agreement's columns as its GraphQL type names them (alias-free: one table). */
export const AGREEMENT_COLUMNS = `code, version, effective_from::text AS "effectiveFrom", reports_per_year AS "reportsPerYear", note,
  first_financial_year AS "firstFinancialYear", last_financial_year AS "lastFinancialYear", dfe_contribution AS "dfeContribution",
  la_contribution AS "laContribution", deficit_at_start AS "deficitAtStart", deficit_at_start_date::text AS "deficitAtStartDate",
  brought_forward_date::text AS "broughtForwardDate", brought_forward_plan AS "broughtForwardPlan",
  brought_forward_outturn AS "broughtForwardOutturn", source_kind AS "sourceKind", source_file AS "sourceFile",
  source_by AS "sourceBy", source_at AS "sourceAt"`;

/**
 * The order that puts the version of record on a date first: the latest version in effect on it (the latest
 * effective date on or before it, the highest version on a tie); when none is in effect yet, the first to come.
 * $1 is the date.
 */
export const OF_RECORD_ORDER = `(effective_from <= $1::date) DESC,
  CASE WHEN effective_from <= $1::date THEN effective_from END DESC NULLS LAST, effective_from, version DESC`;

/** Every version of every agreement the hub holds, oldest first. */
export function agreementVersions(db: EntityManager): Promise<SafetyValveAgreement[]> {
  return db.query(`SELECT ${AGREEMENT_COLUMNS} FROM safety_valve_agreement ORDER BY effective_from, code, version`);
}

/** The agreement of record on a date (today by default): the latest version in effect then. */
export async function agreementOn(
  db: EntityManager,
  date: string = todayIso(),
  opts: { inEffectOnly?: boolean } = {},
): Promise<SafetyValveAgreement | null> {
  const [a]: SafetyValveAgreement[] = await db.query(
    `SELECT ${AGREEMENT_COLUMNS} FROM safety_valve_agreement
      WHERE NOT $2::boolean OR effective_from <= $1::date ORDER BY ${OF_RECORD_ORDER} LIMIT 1`,
    [date, Boolean(opts.inEffectOnly)],
  );
  return a ?? null;
}
