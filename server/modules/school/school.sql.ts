/** Columns of a School row under their TypeScript names, for raw reads that skip entity hydration. */
export const SCHOOL_COLUMNS = `s.urn, s.laestab, s.name, s.phase, s.type, s.establishment_type AS "establishmentType", s.status,
  s.open_date AS "openDate", s.close_date AS "closeDate", s.district_code AS "districtCode", s.postcode, s.ukprn,
  s.pupils_on_roll AS "pupilsOnRoll", s.percent_fsm AS "percentFsm", s.srp_capacity AS "srpCapacity", s.srp_on_roll AS "srpOnRoll"`;

export const COMMUNITY_COLUMNS = `c.code, c.name, c.primary_district_code AS "primaryDistrictCode", c.area_code AS "areaCode",
  c.chair_name AS "chairName", c.chair_school_urn AS "chairSchoolUrn", c.pcn_name AS "pcnName"`;

/** Membership in force on a date, with its tie-break: the one rule lives in community/membership.ts. */
export { MEMBERSHIP_ON } from '../community/membership';
