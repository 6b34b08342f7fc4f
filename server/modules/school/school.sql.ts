import { Community } from '../community/community.entity';
import { catalogueOf, columnsSql } from './catalogue';

/** Columns of a School row under their TypeScript names, for raw reads: derived from the field catalogue. */
export { SCHOOL_COLUMNS } from './school.fields';

/** Community's field catalogue (catalogue.ts): its columns with @Field, read off community.entity.ts. */
export const COMMUNITY_CATALOGUE = catalogueOf(Community);

/** Columns of a Community row (alias `c`) under their TypeScript names. */
export const COMMUNITY_COLUMNS = columnsSql(COMMUNITY_CATALOGUE, 'c');

/** Membership in force on a date, with its tie-break: the one rule lives in community/membership.ts. */
export { MEMBERSHIP_ON } from '../community/membership';
