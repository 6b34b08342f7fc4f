/**
 * Everything the funding model reads from the figures of record, and the one rule of who carries weight in the pot
 * split (the model's inputs and dataStatus's count of the schools left out both use it).
 */
import type { EntityManager } from 'typeorm';
import { communityOn, membersOn as membersOfCommunities, type MembershipSpan } from '../community/membership';
import type { NotionalSenFactorCode } from './funding.entity';
import type { FundingInputs } from './engine';
import type { BANDS } from './model';
import { loadBlockDrivers } from './block.service';
import { readAll } from '../../common/statements';

/**
 * A school carries weight in its community's pot split only when GIAS gives both its pupils on roll and its FSM
 * figure (either may be suppressed or blank): SQL over the school table under alias `s`.
 */
export const CARRIES_WEIGHT = (s: string) => `${s}.pupils_on_roll IS NOT NULL AND ${s}.percent_fsm IS NOT NULL`;

/** The model's inputs, with each school's community on a date (for the views). */
export type FundingInputsOfRecord = FundingInputs & { communityOf: (urn: number, date: string) => string | null };

/** Everything the model needs: one round of statements on the pool, one after another in a transaction. */
export async function loadFundingInputs(db: EntityManager): Promise<FundingInputsOfRecord> {
  const [schools, memberships, terms, funding, factors, bands, communities, block] = await readAll(db, [
    () =>
      db.query(
        `SELECT s.urn, s.pupils_on_roll AS "pupilsOnRoll", s.percent_fsm AS "percentFsm" FROM school s WHERE ${CARRIES_WEIGHT('s')}`,
      ),
    () =>
      db.query(
        `SELECT school_urn AS "schoolUrn", community_code AS "communityCode", effective_from::text AS "effectiveFrom", effective_to::text AS "effectiveTo" FROM community_membership ORDER BY id`,
      ),
    () =>
      db.query(
        `SELECT code, start_date::text AS "startDate", months, financial_year_code AS "financialYearCode", academic_year_code AS "academicYearCode" FROM funding_term
        WHERE code IN (SELECT DISTINCT term_code FROM school_term_funding) ORDER BY start_date`,
      ),
    () =>
      db.query(`SELECT school_urn AS urn, term_code AS term, baseline FROM school_term_funding ORDER BY school_urn`),
    () =>
      db.query(
        `SELECT school_urn AS urn, financial_year_code AS fy, factor, formula_amount AS amount FROM notional_sen_factor`,
      ),
    () => db.query(`SELECT school_urn AS urn, term_code AS term, band, plans FROM ehcp_band_count`),
    () => db.query(`SELECT code FROM community ORDER BY code`),
    () => loadBlockDrivers(db),
  ] as const);
  // Both directions per date, built once: results ask for thousands of (school, term) communities.
  const cache = new Map<string, { members: Map<string, number[]>; of: Map<number, string> }>();
  const on = (date: string) => {
    let m = cache.get(date);
    if (!m) {
      m = {
        members: membersOfCommunities(memberships as MembershipSpan[], date),
        of: communityOn(memberships as MembershipSpan[], date),
      };
      cache.set(date, m);
    }
    return m;
  };
  const membersOn = (date: string) => on(date).members;
  const baselines = new Map<string, string>();
  const funded = new Set<number>();
  for (const f of funding as { urn: number; term: string; baseline: string }[]) {
    baselines.set(`${f.urn}|${f.term}`, f.baseline);
    funded.add(f.urn);
  }
  const factorAmounts = new Map<string, Record<NotionalSenFactorCode, string>>();
  const years = new Set<string>();
  for (const f of factors as { urn: number; fy: string; factor: NotionalSenFactorCode; amount: string }[]) {
    const k = `${f.urn}|${f.fy}`;
    if (!factorAmounts.has(k)) factorAmounts.set(k, {} as Record<NotionalSenFactorCode, string>);
    factorAmounts.get(k)![f.factor] = f.amount;
    years.add(f.fy);
  }
  const bandCounts = new Map<string, Partial<Record<(typeof BANDS)[number], number>>>();
  for (const b of bands as { urn: number; term: string; band: (typeof BANDS)[number]; plans: number }[]) {
    const k = `${b.urn}|${b.term}`;
    bandCounts.set(k, { ...(bandCounts.get(k) ?? {}), [b.band]: b.plans });
  }
  return {
    schools,
    fundedUrns: [...funded],
    communities: communities.map((c: { code: string }) => c.code),
    membersOn,
    terms,
    financialYears: [...years].sort(),
    baselines,
    factorAmounts,
    bandCounts,
    block,
    communityOf: (urn, date) => on(date).of.get(urn) ?? null,
  };
}
