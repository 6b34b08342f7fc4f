/** Columns of a School row under their TypeScript names, for raw reads: derived from the field catalogue. */
export { SCHOOL_COLUMNS } from './school.fields';

export const COMMUNITY_COLUMNS = `c.code, c.name, c.primary_district_code AS "primaryDistrictCode", c.area_code AS "areaCode",
  c.chair_name AS "chairName", c.chair_school_urn AS "chairSchoolUrn", c.pcn_name AS "pcnName"`;

/** Membership in force on a date, with its tie-break: the one rule lives in community/membership.ts. */
export { MEMBERSHIP_ON } from '../community/membership';
