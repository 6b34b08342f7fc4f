import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startTestDatabase, TestDatabase } from '../helpers/db';
import { startTestHub, TestHub } from '../helpers/hub';
import { metricValue, sqlStatements } from '../helpers/metrics';
import { buildSchema, getNamedType, GraphQLObjectType, isLeafType, isNonNullType, isObjectType } from 'graphql';
import { compiles, LEFT_TO_RESOLVERS, planCounts } from '../../server/modules/school/school.compiled';
import { schoolExportDocument } from '../../server/modules/school/school.fields';

/**
 * The school list compiled into one SQL statement (server/modules/school/school.compiled.ts) must answer
 * exactly as the resolvers do. Two hubs share one database: one compiles, one never does; every query
 * below is asked of both, as every role, and the answers are compared byte for byte (key order included).
 * The statement counts prove the compiled hub really took its own path.
 */

let db: TestDatabase;
let compiled: TestHub;
let resolvers: TestHub;
beforeAll(async () => {
  db = await startTestDatabase();
  compiled = await startTestHub({ db });
  resolvers = await startTestHub({ db, compiledReads: false });
  await addAllocations();
  urns.push(...(await db.dataSource.query('SELECT urn FROM school ORDER BY urn')).map((r: { urn: number }) => r.urn));
});
afterAll(async () => {
  await compiled?.hub.stop();
  await resolvers?.hub.stop();
  await db?.stop();
});

const ROLES = ['FINANCE', 'SUBGROUP', 'CHAIR', 'ANALYST'] as const;

/** Proposed and approved allocations in two communities, so pot totals are not all zero. */
async function addAllocations() {
  const members: { urn: number; code: string }[] = await db.dataSource.query(
    `SELECT m.school_urn AS urn, m.community_code AS code FROM community_membership m
      WHERE m.effective_from <= '2026-09-01' AND (m.effective_to IS NULL OR m.effective_to > '2026-09-01')
      ORDER BY m.community_code, m.school_urn LIMIT 3`,
  );
  const rows = members.map((m, i) => ({
    schoolUrn: m.urn,
    communityCode: m.code,
    term: 'AUTUMN-2026',
    amount: ['1200.50', '333.33', '4000.00'][i],
    purpose: 'Outreach from the specialist resource base',
    status: i === 1 ? 'PROPOSED' : 'APPROVED',
  }));
  const r = await compiled.gql(
    `mutation($input: SubmitAllocationsInput!) { submitAllocations(input: $input) { applied results { userErrors { code message } } } }`,
    {
      input: {
        idempotencyKey: crypto.randomUUID(),
        reason: 'Test decision',
        decisionReference: 'HNFSG-TEST',
        dryRun: false,
        rows,
      },
    },
  );
  expect(r.body.errors).toBeUndefined();
  expect(r.body.data.submitAllocations.applied).toBe(true);
}

/**
 * Typical values of the arguments of School's fields and of the fields under them, by argument name. The
 * first is asked under the field's own name, the others (and, for an optional argument, none) under aliases.
 */
const TYPICAL: Record<string, string[]> = {
  asOf: ['"2026-10-01"'],
  term: ['"AUTUMN-2025"', '"AUTUMN-2026"'],
  financialYear: ['"2025-26"'],
  period: ['"2025/26-T2"'],
  academicYear: ['"2025/26"'],
};

/**
 * Every field of School in the tracked schema (but those the compiled path leaves to the resolvers, with its
 * reason), each with its arguments' typical values; under School, the fields the compiled path answers. A
 * new School field is in this selection without anyone adding it here, so a wrong compiled answer fails.
 */
function everySchoolField(): string {
  const schema = buildSchema(fs.readFileSync(path.join(__dirname, '../../schema/schema.graphql'), 'utf8'));
  const select = (type: GraphQLObjectType, seen: string[]): string => {
    const parts: string[] = [];
    for (const f of Object.values(type.getFields())) {
      if (type.name === 'School' ? LEFT_TO_RESOLVERS[f.name] : !compiles(type.name, f.name)) continue;
      const named = getNamedType(f.type);
      let sub = '';
      if (isObjectType(named)) {
        // Once below a type already on the path (a link's school), only its own scalar fields.
        if (seen.includes(named.name))
          sub = ` { ${Object.values(named.getFields())
            .filter((g) => isLeafType(getNamedType(g.type)) && g.args.length === 0)
            .map((g) => g.name)
            .join(' ')} }`;
        else sub = ` { ${select(named, [...seen, named.name])} }`;
      }
      let variants = [''];
      for (const arg of f.args) {
        const values = TYPICAL[arg.name];
        if (!values) throw new Error(`${type.name}.${f.name}(${arg.name}): give it typical values in TYPICAL`);
        const these = values.map((v) => `${arg.name}: ${v}`);
        variants = variants.flatMap((v) =>
          [...these, ...(isNonNullType(arg.type) ? [] : [''])].map((x) => [v, x].filter(Boolean).join(', ')),
        );
      }
      variants.forEach((args, i) =>
        parts.push(`${i ? `${f.name}${i}: ` : ''}${f.name}${args ? `(${args})` : ''}${sub}`),
      );
    }
    return [...parts, '__typename'].join(' ');
  };
  return select(schema.getType('School') as GraphQLObjectType, ['School']);
}
const ALL_SCHOOL_FIELDS = everySchoolField();

/** Every School field for a page of schools: the county is a few pages (a page of 1,000 is above the cost limit). */
const EVERYTHING = `query Everything($after: String) { schools(first: 200, after: $after) { totalCount pageInfo { hasNextPage endCursor }
  nodes { ${ALL_SCHOOL_FIELDS} } } }`;

/** The whole county through EVERYTHING, page by page: each page's response text, and all the schools. */
async function wholeCounty(hub: TestHub, token?: string): Promise<{ pages: string[]; nodes: any[] }> {
  const pages: string[] = [];
  const nodes: any[] = [];
  let after: string | null = null;
  for (;;) {
    const r = await hub.gql(EVERYTHING, { after }, token);
    expect(r.body.errors).toBeUndefined();
    pages.push(JSON.stringify(r.body));
    nodes.push(...r.body.data.schools.nodes);
    if (!r.body.data.schools.pageInfo.hasNextPage) return { pages, nodes };
    after = r.body.data.schools.pageInfo.endCursor;
  }
}

/** URNs of real schools, read in beforeAll. */
const urns: number[] = [];

const CASES: { name: string; query: string; variables?: Record<string, unknown> | (() => Record<string, unknown>) }[] =
  [
    { name: 'every School field, a page of the county', query: EVERYTHING },
    {
      name: 'edges, cursors and page info, ordered by name descending, filtered',
      query: `query Edges($f: SchoolFilter) { schools(first: 25, filter: $f, orderBy: { field: NAME, direction: DESC }) {
      __typename totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename }
      edges { cursor __typename node { urn name community { code } } } } }`,
      variables: { f: { phase: ['PRIMARY', 'SECONDARY'], status: ['OPEN'] } },
    },
    {
      name: 'aliases, fragments, inline fragments and @include/@skip',
      query: `query Shapes($withFunding: Boolean!, $skipCounts: Boolean!, $asOf: Date) {
      kind: __typename
      first: schools(first: 40, orderBy: { field: PUPILS_ON_ROLL, direction: DESC }) { nodes { ...Basics ... on School { id: urn } } }
      second: schools(first: 5, filter: { nameContains: "'s" }) { count: totalCount rows: nodes { ...Basics before: community(asOf: "2026-08-31") { code } after: community(asOf: $asOf) { code }
        caseloads(period: "2025/26-T3") @skip(if: $skipCounts) { kind count } } }
    }
    fragment Basics on School { urn name funding(term: "SPRING-2026") @include(if: $withFunding) { total f: protectedAmount } district { name } }`,
      variables: { withFunding: true, skipCounts: false, asOf: '2026-09-01' },
    },
    {
      name: 'the same shapes with the directives turned the other way',
      query: `query Shapes2($withFunding: Boolean!, $skipCounts: Boolean!) {
      schools(first: 40) { nodes { urn funding(term: "SPRING-2026") @include(if: $withFunding) { total } caseloads(period: "2025/26-T3") @skip(if: $skipCounts) { kind count } } } }`,
      variables: { withFunding: false, skipCounts: true },
    },
    {
      name: 'an empty page still has its count and page info',
      query: `query Empty { schools(first: 10, filter: { nameContains: "no such school %_" }) { totalCount pageInfo { hasNextPage startCursor endCursor } nodes { urn } edges { cursor } } }`,
    },
    {
      name: 'a page of nothing',
      query: `query Zero { schools(first: 0) { totalCount pageInfo { hasNextPage endCursor } nodes { urn } } }`,
    },
    {
      name: 'a community filter on a date, with terms and periods that hold no figures',
      query: `query Community($c: String!) { schools(first: 100, filter: { communityCode: $c, asOf: "2025-10-01" }) {
      nodes { urn funding(term: "SPRING-2028") { total } notionalSenBudget(financialYear: "2027-28") { total } caseloads(period: "2024/25-T1") { kind count suppressed } } } }`,
      variables: { c: 'ASH-01' },
    },
    {
      name: 'one school by URN, and a URN that does not exist',
      query: `query One($urn: Int!) { school(urn: $urn) { ${ALL_SCHOOL_FIELDS} } missing: school(urn: 1) { urn } }`,
      variables: () => ({ urn: urns[7] }),
    },
    {
      name: 'schools by URN in the order asked, with unknown and repeated URNs',
      query: `query ByUrn($urns: [Int!]!) { schoolsByUrn(urns: $urns) { urn name community(asOf: "2025-10-01") { code } funding(term: "AUTUMN-2025") { total } } }`,
      variables: () => ({ urns: [urns[300], 999999, urns[2], urns[300], ...urns.slice(100, 140)] }),
    },
    {
      name: 'too many URNs',
      query: `query ManyUrns($urns: [Int!]!) { schoolsByUrn(urns: $urns) { urn } }`,
      variables: () => ({ urns: Array.from({ length: 1001 }, (_, i) => i + 1) }),
    },
    {
      name: 'a field skipped in one place and selected in another (spec: it is kept, where it is first selected)',
      query: `query Twice($no: Boolean!) { schools(first: 3) { totalCount @include(if: $no) nodes { name @include(if: $no) urn name ...F @include(if: $no) ...F district @skip(if: true) { name } } totalCount } }
      fragment F on School { postcode district { onsCode } }`,
      variables: { no: false },
    },
    {
      name: 'a null where the argument may not be null',
      query: `query NullFirst($f: Int) { schools(first: $f) { nodes { urn } } }`,
      variables: { f: null },
    },
    // The resolvers answer these (an argument they reject, a page too large, a field the compiler leaves
    // to them); the compiled hub must fall back to them and so give the same answer and the same errors.
    {
      name: 'an unknown term',
      query: `query BadTerm { schools(first: 3) { nodes { urn funding(term: "WINTER-2025") { total } } } }`,
    },
    { name: 'a page too large', query: `query TooLarge { schools(first: 1001) { nodes { urn } } }` },
    {
      name: 'a cursor from another ordering',
      query: `query BadCursor($a: String) { schools(first: 3, after: $a, orderBy: { field: NAME }) { nodes { urn } } }`,
      variables: { a: Buffer.from('["URN",1,1]').toString('base64url') },
    },
    {
      name: 'a field left to the resolvers',
      query: `query Nested { schools(first: 30) { nodes { urn community { code schools { urn } } } } }`,
    },
    {
      name: 'other root fields beside schools',
      query: `query Mixed { areas { code } schools(first: 2) { nodes { urn } } }`,
    },
  ];

/** SQL statements the hub's metrics recorded for one operation name (fails when the metric is missing). */
const statements = (hub: TestHub, op: string) => sqlStatements(hub.url, op);

describe('the compiled school list', () => {
  it('is compared on every School field of the schema, with its arguments', () => {
    const school = buildSchema(fs.readFileSync(path.join(__dirname, '../../schema/schema.graphql'), 'utf8')).getType(
      'School',
    ) as GraphQLObjectType;
    for (const name of Object.keys(school.getFields()))
      if (!LEFT_TO_RESOLVERS[name]) expect(ALL_SCHOOL_FIELDS).toMatch(new RegExp(`(^| )${name}[ ({]`));
    expect(ALL_SCHOOL_FIELDS).toContain('community1: community {');
    expect(ALL_SCHOOL_FIELDS).toContain('pot1: pot(term: "AUTUMN-2026")');
  });

  for (const c of CASES) {
    it(`answers exactly as the resolvers do: ${c.name}`, async () => {
      if (process.env.SHOW_CASE === c.name)
        console.log(
          JSON.stringify(
            (await compiled.gql(c.query, typeof c.variables === 'function' ? c.variables() : c.variables)).body,
          ).slice(0, 1500),
        );
      const variables = typeof c.variables === 'function' ? c.variables() : c.variables;
      for (const role of ROLES) {
        const [a, b] = await Promise.all([
          compiled.gql(c.query, variables, compiled.tokens[role]),
          resolvers.gql(c.query, variables, resolvers.tokens[role]),
        ]);
        expect(a.status).toBe(b.status);
        expect(JSON.stringify(a.body)).toBe(JSON.stringify(b.body));
      }
    });
  }

  it('answers every School field for the whole county exactly as the resolvers do, as every role', async () => {
    for (const role of ROLES) {
      const [a, b] = await Promise.all([
        wholeCounty(compiled, compiled.tokens[role]),
        wholeCounty(resolvers, resolvers.tokens[role]),
      ]);
      expect(a.nodes).toHaveLength(urns.length);
      expect(a.pages).toEqual(b.pages);
    }
  });

  it('runs a page of every School field in one statement (the page; periods are cached), the resolvers in eight or more', async () => {
    const op = 'Everything';
    const before = [await statements(compiled, op), await statements(resolvers, op)];
    const q = CASES[0].query;
    const [a, b] = await Promise.all([compiled.gql(q), resolvers.gql(q)]);
    expect(a.body.errors).toBeUndefined();
    expect(a.body.data.schools.nodes).toHaveLength(Math.min(200, a.body.data.schools.totalCount));
    expect(JSON.stringify(a.body)).toBe(JSON.stringify(b.body));
    expect((await statements(compiled, op)) - before[0]).toBe(1);
    expect((await statements(resolvers, op)) - before[1]).toBeGreaterThanOrEqual(8);
  });

  it('looks up single schools and lists of URNs in one statement each', async () => {
    for (const op of ['One', 'ByUrn']) {
      const c = CASES.find((x) => x.query.includes(`query ${op}(`))!;
      const before = await statements(compiled, op);
      const r = await compiled.gql(c.query, (c.variables as () => Record<string, unknown>)());
      expect(r.body.errors).toBeUndefined();
      // One: one statement for each of its two root fields. ByUrn: the list. (Periods are cached per process.)
      expect((await statements(compiled, op)) - before).toBe(op === 'One' ? 2 : 1);
    }
    const r = await compiled.gql(CASES.find((x) => x.query.includes('query ByUrn('))!.query, {
      urns: [urns[5], 42, urns[5]],
    });
    expect(r.body.data.schoolsByUrn.map((s: any) => s?.urn ?? null)).toEqual([urns[5], null, urns[5]]);
  });

  it("plans an operation once per kind of viewer, and each later request answers with its own variables, date and viewer's suppression", async () => {
    // A document of its own, so no earlier test has planned it.
    const q = `query Replayed($urn: Int!, $asOf: Date, $term: String!, $period: String!) {
      school(urn: $urn) { urn name community(asOf: $asOf) { code memberCount(asOf: $asOf) pot(term: $term) { amount approved remaining } }
        funding(term: $term) { bandedTopUp bandedTopUpSuppressed total } caseloads(period: $period) { kind count suppressed } } }`;
    const before = { ...planCounts };
    const asked: string[] = [];
    for (const [i, urn] of [urns[3], urns[40], urns[200], urns[3]].entries())
      for (const role of ['FINANCE', 'CHAIR', 'ANALYST', 'SUBGROUP'] as const) {
        const variables = {
          urn,
          asOf: i % 2 ? '2026-10-01' : null,
          term: i % 2 ? 'AUTUMN-2026' : 'AUTUMN-2025',
          period: '2025/26-T2',
        };
        const [a, b] = await Promise.all([
          compiled.gql(q, variables, compiled.tokens[role]),
          resolvers.gql(q, variables, resolvers.tokens[role]),
        ]);
        expect(a.body.errors).toBeUndefined();
        expect(JSON.stringify(a.body)).toBe(JSON.stringify(b.body));
        asked.push(JSON.stringify(a.body));
      }
    // 16 requests: planned once for the roles that see every count and once for those whose counts are suppressed
    // (Apollo's first request of the document plans it once more, on its own path), every other one replayed.
    expect(planCounts.planned - before.planned).toBeLessThanOrEqual(3);
    expect(planCounts.replayed - before.replayed).toBeGreaterThanOrEqual(13);
    // Not one answer for all: the schools, dates and roles differ in what they give.
    expect(new Set(asked).size).toBeGreaterThan(4);
    // A code the period catalogue does not have, in a replayed plan, is the resolvers' to report, as when planning.
    const bad = { urn: urns[3], asOf: null, term: 'SPRING-1999', period: '2025/26-T2' };
    const [a, b] = await Promise.all([compiled.gql(q, bad), resolvers.gql(q, bad)]);
    expect(a.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(a.body)).toBe(JSON.stringify(b.body));
  });

  it('falls back to the resolvers for what it does not compile, and counts both paths in /metrics', async () => {
    const family = { name: 'hub_graphql_executions_total', type: 'counter' } as const;
    const n = (p: string) =>
      metricValue(compiled.url, family, `hub_graphql_executions_total{path="${p}"}`, { mustExist: true });
    const paths = async () => ({ compiled: await n('compiled'), resolvers: await n('resolvers') });
    const p0 = await paths();
    await compiled.gql(`query Small { schools(first: 2) { nodes { urn } } }`);
    const p1 = await paths();
    expect(p1).toEqual({ compiled: p0.compiled + 1, resolvers: p0.resolvers });
    const before = await statements(compiled, 'Nested');
    const r = await compiled.gql(CASES.find((c) => c.name === 'a field left to the resolvers')!.query);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.schools.nodes.some((n: any) => n.community?.schools.length > 0)).toBe(true);
    expect((await statements(compiled, 'Nested')) - before).toBeGreaterThan(2);
    expect(await paths()).toEqual({ compiled: p1.compiled, resolvers: p1.resolvers + 1 });
  });

  it('serves real figures: money as exact strings, allocations in pot totals, suppression by role', async () => {
    const finance = (await wholeCounty(compiled)).nodes;
    // pot1: the second typical term, AUTUMN-2026, the term of the allocations made in beforeAll.
    const withPot = finance.find((n: any) => n.community?.pot1?.approved !== '0.00' && n.community?.pot1);
    expect(withPot.community.pot1.approved).toBe('5200.50');
    expect(withPot.community.pot1.proposed).toBe('333.33');
    expect(withPot.community.pot1.remaining).toMatch(/^\d+\.\d{2}$/);
    const budget = finance.find((n: any) => n.notionalSenBudget)?.notionalSenBudget;
    expect(budget.total).toMatch(/^\d+\.\d{2}$/);
    expect(budget.factors.length).toBeGreaterThan(1);
    const small = (nodes: any[]) =>
      nodes
        .flatMap((n) => n.caseloads)
        .filter((c: any) => c.kind !== 'LINK_WORKER_SCHOOLS' && c.count !== null && c.count >= 1 && c.count <= 4);
    const hidden = (nodes: any[]) => nodes.flatMap((n) => n.caseloads).filter((c: any) => c.suppressed);
    expect(small(finance).length).toBeGreaterThan(0);
    expect(hidden(finance)).toHaveLength(0);
    const analyst = (await wholeCounty(compiled, compiled.tokens.ANALYST)).nodes;
    expect(small(analyst)).toHaveLength(0);
    // Every small count is hidden, and complements beside them (the suppression pattern, caseload/disclosure.ts).
    expect(hidden(analyst).length).toBeGreaterThan(small(finance).length);
    // A Chair sees the small counts of their own community's schools, and only those.
    const chair = (await wholeCounty(compiled, compiled.tokens.CHAIR)).nodes;
    expect(hidden(chair).length).toBeGreaterThan(0);
    expect(hidden(chair).length).toBeLessThan(hidden(analyst).length);
  });

  it('keeps a field or fragment that is skipped in one place and selected in another, where it is first selected', async () => {
    const c = CASES.find((x) => x.query.includes('query Twice('))!;
    for (const hub of [compiled, resolvers]) {
      const r = await hub.gql(c.query, c.variables as Record<string, unknown>);
      expect(Object.keys(r.body.data.schools)).toEqual(['nodes', 'totalCount']);
      expect(Object.keys(r.body.data.schools.nodes[0])).toEqual(['urn', 'name', 'postcode', 'district']);
      expect(r.body.data.schools.nodes[0].district).toEqual({ onsCode: expect.stringMatching(/^E0/) });
    }
  });

  it('prefetches for the resolvers only what the query asks: a relation under @skip or a false @include sends no statement', async () => {
    const asked = `query PrefetchAsked { schools(first: 50) { nodes { urn } } }`;
    const skipped = `query PrefetchSkipped($no: Boolean!) { schools(first: 50) { nodes { urn
      funding(term: "AUTUMN-2025") @skip(if: true) { total } caseloads(period: "2025/26-T2") @include(if: $no) { kind }
      ...Budget @include(if: $no) ... on School @skip(if: true) { community { code } } } } }
      fragment Budget on School { notionalSenBudget(financialYear: "2025-26") { total } }`;
    const sent = async (query: string, op: string) => {
      await resolvers.gql(query, { no: false }); // the period catalogue is read once per process
      const before = await statements(resolvers, op);
      const r = await resolvers.gql(query, { no: false });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data.schools.nodes[0]).toEqual({ urn: expect.any(Number) });
      return (await statements(resolvers, op)) - before;
    };
    expect(await sent(skipped, 'PrefetchSkipped')).toBe(await sent(asked, 'PrefetchAsked'));
  });

  it('pages through the county with cursors exactly as the resolvers do', async () => {
    const q = `query Walk($after: String) { schools(first: 97, after: $after, orderBy: { field: NAME }) { pageInfo { hasNextPage endCursor } nodes { urn name } } }`;
    let after: string | null = null;
    let seen = 0;
    for (;;) {
      const [a, b]: { body: any }[] = await Promise.all([compiled.gql(q, { after }), resolvers.gql(q, { after })]);
      expect(JSON.stringify(a.body)).toBe(JSON.stringify(b.body));
      seen += a.body.data.schools.nodes.length;
      if (!a.body.data.schools.pageInfo.hasNextPage) break;
      after = a.body.data.schools.pageInfo.endCursor;
    }
    const [{ n }] = await db.dataSource.query('SELECT count(*)::int AS n FROM school');
    expect(seen).toBe(n);
  });
});

/** The add-in's own school operations (schema/operations), with the variables it sends. */
const ADDIN_OPERATIONS: [string, () => Record<string, unknown>][] = [
  ['Schools', () => ({ first: 1000, after: null, filter: null })],
  ['Schools', () => ({ first: 250, after: null, filter: { districtCode: 'E07000105', status: ['OPEN'] } })],
  ['SchoolFunding', () => ({ first: 1000, after: null, filter: null, term: 'SPRING-2026' })],
  ['NotionalSen', () => ({ first: 1000, after: null, filter: { phase: ['PRIMARY'] }, year: '2025-26' })],
  ['FnSchools', () => ({ urns: urns.slice(0, 200) })],
  ['FnFunding', () => ({ urns: [...urns.slice(50, 90), 123], term: 'AUTUMN-2026' })],
  ['FnNotionalSen', () => ({ urns: urns.slice(400, 450), year: '2026-27' })],
];

describe('the schools export document (school.fields.ts)', () => {
  it('is compiled and answers as the resolvers do', async () => {
    const query = schoolExportDocument();
    const variables = { first: 1000, after: null, filter: { status: ['OPEN'] }, asOf: '2025-10-01' };
    const before = await statements(compiled, 'ExportSchools');
    const [a, b] = await Promise.all([compiled.gql(query, variables), resolvers.gql(query, variables)]);
    expect(a.body.errors).toBeUndefined();
    expect(a.body.data.schools.nodes.length).toBeGreaterThan(400);
    expect(JSON.stringify(a.body)).toBe(JSON.stringify(b.body));
    expect((await statements(compiled, 'ExportSchools')) - before).toBe(1);
  });
});

describe("the add-in's school operations", () => {
  for (const [op, variables] of ADDIN_OPERATIONS) {
    it(`${op} is compiled and answers as the resolvers do`, async () => {
      const query = fs.readFileSync(path.join(__dirname, '../../schema/operations', `${op}.graphql`), 'utf8');
      const before = await statements(compiled, op);
      const [a, b] = await Promise.all([compiled.gql(query, variables()), resolvers.gql(query, variables())]);
      expect(a.body.errors).toBeUndefined();
      expect(JSON.stringify(a.body)).toBe(JSON.stringify(b.body));
      expect((await statements(compiled, op)) - before).toBeLessThanOrEqual(2);
    });
  }
});

describe('the compiled school list when the database is lost', () => {
  it('answers SERVICE_UNAVAILABLE without a stack trace, as the resolvers do', async () => {
    const lost = await startTestDatabase();
    const hub = await startTestHub({ db: lost });
    const plain = await startTestHub({ db: lost, compiledReads: false });
    const q = `query Lost { schools(first: 5) { nodes { urn name } } }`;
    const withTerm = `query LostTerm { schools(first: 5) { nodes { urn funding(term: "AUTUMN-2025") { total } } } }`;
    const roots = `query LostRoots { a: school(urn: 1) { urn } schools(first: 1) { nodes { urn } } b: school(urn: 2) { urn } }`;
    // Warm both token caches.
    expect((await hub.gql(q)).body.data.schools.nodes).toHaveLength(5);
    expect((await plain.gql(q)).body.data.schools.nodes).toHaveLength(5);
    await lost.outage();

    const r = await hub.gql(q);
    expect(r.status).toBe(200);
    expect(r.body.data).toBeNull();
    expect(r.body.errors).toMatchObject([{ path: ['schools'], extensions: { code: 'SERVICE_UNAVAILABLE' } }]);
    expect(JSON.stringify(r.body)).not.toMatch(/stacktrace|at .*\.js|ECONNREFUSED|127\.0\.0\.1/);

    // The period catalogue is the first statement when a field takes a term: its failure is reported the same way.
    for (const query of [withTerm, roots]) {
      const [a, b] = await Promise.all([hub.gql(query), plain.gql(query)]);
      expect(a.status).toBe(200);
      expect(a.body.data).toBeNull();
      const codes = (x: any) => new Set(x.body.errors.map((e: any) => e.extensions.code));
      expect(codes(a)).toEqual(new Set(['SERVICE_UNAVAILABLE']));
      expect(codes(b)).toEqual(new Set(['SERVICE_UNAVAILABLE']));
      expect(JSON.stringify(a.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|stacktrace/);
    }
    // Every root field that failed is reported, not only the first.
    const many = await hub.gql(roots);
    expect(many.body.errors.map((e: any) => e.path[0]).sort()).toEqual(['a', 'b', 'schools']);

    await hub.hub.stop();
    await plain.hub.stop();
    await lost.stop().catch(() => undefined);
  });
});
