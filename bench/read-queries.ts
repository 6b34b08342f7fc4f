/**
 * The read API's benchmark queries, shared by the bench (bench/run.ts, beside their floors in bench/floor.ts) and
 * the profilers: the hot School fields, for the 600-school nested query, the 20-school page and school(urn).
 */
export const FIELDS = `urn name district { name area { name } }
  community(asOf: "2025-10-01") { code name pot(term: "AUTUMN-2025") { amount } }
  notionalSenBudget(financialYear: "2025-26") { total factors { factor senAmount } }
  funding(term: "AUTUMN-2025") { baseline protectedAmount communityShare total }
  caseloads(period: "2025/26-T2") { kind count suppressed }`;

export const QUERIES = {
  Nested600: `query Nested600 { schools(first: 600) { nodes { ${FIELDS} } } }`,
  Page20: `query Page20 { schools(first: 20, filter: { phase: [PRIMARY] }) { totalCount nodes { ${FIELDS} } } }`,
  Single: `query Single($urn: Int!) { school(urn: $urn) { ${FIELDS} } }`,
};
export type ReadQuery = keyof typeof QUERIES;

/** The request body of a read query (school(urn) takes the URN). */
export const readBody = (op: ReadQuery, urn: number) =>
  JSON.stringify({ query: QUERIES[op], variables: op === 'Single' ? { urn } : undefined });
