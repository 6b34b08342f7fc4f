// DO NOT EDIT: generated from server/modules/school/funding.fields.ts (the SchoolFunding catalogue) by `npm run schema:emit`, then `node addin/build.mjs --update`.
import type { ColumnKind } from './types';

/**
 * The funding lines of a school in a term: the "School funding" dataset's columns after URN, name, community and
 * term, in a SchoolFunding of schema/operations/SchoolFunding.graphql and FnFunding.graphql; the names
 * =HNH.FUNDING(urn, term, line) knows each by; and the flag whose true hides it (shown as "c").
 */
export const FUNDING_LINE_COLUMNS: readonly {
  header: string;
  kind: ColumnKind;
  field: string;
  names: readonly string[];
  hiddenWith?: string;
}[] = [
  {"header":"Baseline","kind":"money","field":"baseline","names":["baseline"]},
  {"header":"Protection rate","kind":"rate","field":"protectionRate","names":["protectionrate"]},
  {"header":"Protected","kind":"money","field":"protectedAmount","names":["protectedamount","protected"]},
  {"header":"Community share","kind":"money","field":"communityShare","names":["communityshare"]},
  {"header":"Banded top-up","kind":"money","field":"bandedTopUp","names":["bandedtopup"],"hiddenWith":"bandedTopUpSuppressed"},
  {"header":"Total","kind":"money","field":"total","names":["total"],"hiddenWith":"bandedTopUpSuppressed"},
];
