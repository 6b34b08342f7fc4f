import { CommunityPot, SchoolTermFunding } from '../funding/funding.entity';
import { CommunityPotView, SchoolFunding } from '../funding/funding.types';
import { columnsSql, entityColumns, viewCatalogueOf, ViewField } from './catalogue';

/**
 * The field catalogues of the funding views the hot read answers: SchoolFunding (School.funding) and
 * CommunityPotView (Community.pot) are type-graphql ObjectTypes, not entities, answered from the rows of
 * SchoolTermFunding and CommunityPot. Their fields are read off the types' metadata (funding/funding.types.ts) and
 * matched to the entities' columns by name (catalogue.ts viewCatalogueOf); the fields a rule computes are named here
 * with where the rule lives, and school.compiled.ts must give exactly those by hand. A new field on a view is a
 * column of its entity (then it is compiled, raw-read and exported with no other change) or a rule named here.
 */
export const SCHOOL_FUNDING_CATALOGUE: readonly ViewField[] = viewCatalogueOf(SchoolFunding, SchoolTermFunding, {
  from: { term: 'termCode' },
  computed: {
    bandedTopUp: 'disclosure control: null when it would reveal a count of children (caseload/disclosive-money.ts)',
    total: 'protected amount + community share + banded top-up, null with a suppressed banded top-up',
    bandedTopUpSuppressed: 'disclosure control (caseload/disclosive-money.ts)',
  },
  fields: {
    schoolUrn: { notExported: "a funding row's school is in the row's own School columns" },
    protectionRate: { fraction: true },
    protectedAmount: { header: 'Protected', aliases: ['protected'] },
    bandedTopUp: { header: 'Banded top-up', hiddenWith: 'bandedTopUpSuppressed' },
    total: { hiddenWith: 'bandedTopUpSuppressed' },
  },
});

/** What the add-in reads of a school's funding: every exported field but the term (its request's own argument). */
export function addinFundingFields(catalogue: readonly ViewField[] = SCHOOL_FUNDING_CATALOGUE): ViewField[] {
  return catalogue.filter((f) => f.notExported === undefined && f.name !== 'term');
}

/**
 * The add-in's funding lines (its "School funding" dataset and =HNH.FUNDING's `line`): what it reads but the flags
 * that hide a line (a line names its flag in `hiddenWith`).
 */
export function fundingLines(catalogue: readonly ViewField[] = SCHOOL_FUNDING_CATALOGUE): ViewField[] {
  const read = addinFundingFields(catalogue);
  return read.filter((f) => !read.some((g) => g.hiddenWith === f.name));
}

export const COMMUNITY_POT_CATALOGUE: readonly ViewField[] = viewCatalogueOf(CommunityPotView, CommunityPot, {
  from: { term: 'termCode' },
  computed: {
    approved: 'the sum of the APPROVED allocations from the pot',
    proposed: 'the sum of the PROPOSED allocations from the pot',
    remaining: 'the pot minus the APPROVED allocations',
  },
});

/** Columns of a SchoolTermFunding row (alias `f`) under their TypeScript names, for raw reads. */
export const SCHOOL_FUNDING_COLUMNS = columnsSql(entityColumns(SchoolTermFunding), 'f');

/** Columns of a CommunityPot row (alias `p`) under their TypeScript names, for raw reads. */
export const COMMUNITY_POT_COLUMNS = columnsSql(entityColumns(CommunityPot), 'p');
