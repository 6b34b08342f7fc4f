import type express from 'express';
import { GraphQLObjectType } from 'graphql';
import { startTestHub, TestHub } from '../helpers/hub';
import { createToken, revokeToken } from '../../server/auth/tokens';
import { getSchema } from '../../server/schema';
import { FIELDS, OPERATIONS, ROUTES } from '../../server/auth/policy';

/**
 * The whole role x operation matrix as one table: every Query and Mutation field, the caller-dependent
 * fields below them, and every HTTP route, for each kind of caller. `ok`: answered without FORBIDDEN or
 * UNAUTHENTICATED (a BAD_USER_INPUT for a deliberately harmless argument still counts as let in);
 * `forbidden`: FORBIDDEN; `rows`: let in, every row refused FORBIDDEN; `401`: refused before anything runs.
 */
type Outcome = 'ok' | 'forbidden' | 'rows' | '401';
const WHO = ['FINANCE', 'SUBGROUP', 'CHAIR own', 'CHAIR other', 'ANALYST', 'revoked', 'none'] as const;
type Who = (typeof WHO)[number];
const row = (spec: string): Record<Who, Outcome> => {
  const parts = spec.trim().split(/\s+/) as Outcome[];
  if (parts.length !== WHO.length) throw new Error(`matrix row "${spec}" needs ${WHO.length} outcomes`);
  return Object.fromEntries(WHO.map((w, i) => [w, parts[i]])) as Record<Who, Outcome>;
};
const READ = row('ok ok ok ok ok 401 401');
const MODELLERS = row('ok ok forbidden forbidden forbidden 401 401');
const FINANCE_ONLY = row('ok forbidden forbidden forbidden forbidden 401 401');

interface Case {
  query: string;
  variables?: (ctx: Ctx) => Record<string, unknown>;
  expect: Record<Who, Outcome>;
  /** Where in the answer a field-level FORBIDDEN shows (default: the root field). */
}
interface Ctx {
  own: string;
  ownSchool: number;
  scenarioOf: (who: Who) => string;
}

const GRAPHQL: Record<string, Case> = {
  'Query.me': { query: '{ me { role } }', expect: READ },
  'Query.areas': { query: '{ areas { code } }', expect: READ },
  'Query.districts': { query: '{ districts { code } }', expect: READ },
  'Query.communities': { query: '{ communities { code } }', expect: READ },
  'Query.community': {
    query: 'query($c: String!) { community(code: $c) { code } }',
    variables: (c) => ({ c: c.own }),
    expect: READ,
  },
  'Query.schools': { query: '{ schools(first: 2) { totalCount } }', expect: READ },
  'Query.school': {
    query: 'query($u: Int!) { school(urn: $u) { urn } }',
    variables: (c) => ({ u: c.ownSchool }),
    expect: READ,
  },
  'Query.schoolsByUrn': {
    query: 'query($u: Int!) { schoolsByUrn(urns: [$u]) { urn } }',
    variables: (c) => ({ u: c.ownSchool }),
    expect: READ,
  },
  // Links from GIAS are public register data: every role reads them, on both read paths.
  'School.predecessors': {
    query: 'query($u: Int!) { school(urn: $u) { predecessors { urn linkType school { name } } successors { urn } } }',
    variables: (c) => ({ u: c.ownSchool }),
    expect: READ,
  },
  'Query.periods': { query: '{ periods { fundingTerms { code } } }', expect: READ },
  'Query.highNeedsBlock': { query: '{ highNeedsBlock(financialYear: "2025-26") { totalBudget } }', expect: READ },
  'Query.safetyValve': { query: '{ safetyValve { agreement { dfeContribution } } }', expect: READ },
  'Query.safetyValveMonitoringReport': {
    query: '{ safetyValveMonitoringReport(period: "2025-26-Q4") { periodCode } }',
    expect: READ,
  },
  'Query.caseloads': {
    query: '{ caseloads(kind: EHCP_PLANS, groupBy: DISTRICT, period: "2025/26-T1") { rows { key } } }',
    expect: READ,
  },
  'Query.caseloadWorkers': { query: '{ caseloadWorkers { code } }', expect: READ },
  'Query.allocations': { query: '{ allocations(first: 1) { totalCount } }', expect: READ },
  'Query.modelParameters': { query: '{ modelParameters { version } }', expect: READ },
  'Query.modelParameterVersions': { query: '{ modelParameterVersions { version } }', expect: READ },
  'Query.scenario': {
    query: 'query($id: String!) { scenario(id: $id) { id } }',
    variables: (c) => ({ id: c.scenarioOf('SUBGROUP') }),
    expect: MODELLERS,
  },
  'Query.scenarios': { query: '{ scenarios { id } }', expect: MODELLERS },
  'Query.auditLog': { query: '{ auditLog(first: 1) { endCursor } }', expect: FINANCE_ONLY },
  'Query.dataStatus': {
    // A Chair is let in for their own community's view whatever community they sit in; an analyst is not.
    query: '{ dataStatus(term: "AUTUMN-2026") { period datasets { key rows } } }',
    expect: row('ok ok ok ok forbidden 401 401'),
  },
  'Mutation.createSafetyValveAgreementVersion': {
    // Thirteen reports a year: Finance is let in and told so; nothing is written.
    query: `mutation { createSafetyValveAgreementVersion(input: { agreementCode: "SV-MATRIX", effectiveFrom: "2030-01-01",
      firstFinancialYear: "2030-31", lastFinancialYear: "2031-32", dfeContribution: "1", laContribution: "1", deficitAtStart: "1",
      deficitAtStartDate: "2030-01-01", reportsPerYear: 13 }) { version } }`,
    expect: FINANCE_ONLY,
  },
  'Mutation.setSafetyValvePlanYear': {
    query: 'mutation { setSafetyValvePlanYear(financialYear: "1999-00", inYearPlan: "1") { financialYear } }',
    expect: FINANCE_ONLY,
  },
  'Mutation.recordSafetyValveReport': {
    query: `mutation { recordSafetyValveReport(input: { periodCode: "1999-00-Q1", financialYear: "1999-00", reportNumber: 1,
      reportDate: "1999-07-31", inYearPlan: "1", inYearForecast: "1", cumulativePlan: "1", cumulativeForecast: "1" }) { periodCode } }`,
    expect: FINANCE_ONLY,
  },
  'Mutation.recordSafetyValveInstalment': {
    query: `mutation { recordSafetyValveInstalment(input: { periodCode: "1999-00-Q1", financialYear: "1999-00", dueOn: "1999-07-31",
      amount: "1", status: "LOST" }) { periodCode } }`,
    expect: FINANCE_ONLY,
  },
  'Mutation.recordSafetyValveKpi': {
    query: `mutation { recordSafetyValveKpi(input: { periodCode: "1999-00-Q1", kpiCode: "X", name: "X", unit: "MILES", actual: "1" }) {
      kpiCode } }`,
    expect: FINANCE_ONLY,
  },
  'Mutation.createScenario': { query: 'mutation { createScenario(name: "matrix") { id } }', expect: MODELLERS },
  'Mutation.updateScenarioParameters': {
    query:
      'mutation($id: String!) { updateScenarioParameters(id: $id, parameters: { ehcpGrowth: "0.01" }) { version } }',
    variables: (c) => ({ id: c.scenarioOf('SUBGROUP') }),
    // Finance may change anyone's scenario; a Sub-Group member their own (this one is theirs).
    expect: MODELLERS,
  },
  'Mutation.setScenarioState': {
    query: 'mutation($id: String!) { setScenarioState(id: $id, state: SHARED) { state } }',
    variables: (c) => ({ id: c.scenarioOf('SUBGROUP') }),
    expect: MODELLERS,
  },
  'Mutation.setModelParameters': {
    // A date that is no term's first day: Finance is let in and told so; nothing is recomputed.
    query:
      'mutation { setModelParameters(effectiveFrom: "2000-01-02", parameters: { ehcpGrowth: "0.01" }) { version } }',
    expect: FINANCE_ONLY,
  },
  'Mutation.closeSchool': {
    // A URN no school has: Finance is let in and told so (NOT_FOUND); nothing is closed.
    query: 'mutation { closeSchool(urn: 1, closeDate: "2026-09-01", reason: "role matrix") { urn } }',
    expect: FINANCE_ONLY,
  },
  'Mutation.generatePeriods': {
    // A range that is no financial year: Finance is let in and told so; nothing is generated.
    query: 'mutation { generatePeriods(first: "2025-27", last: "2026-27") { message } }',
    expect: FINANCE_ONLY,
  },
  'Mutation.submitAllocations': {
    query: 'mutation($i: SubmitAllocationsInput!) { submitAllocations(input: $i) { results { userErrors { code } } } }',
    variables: (c) => ({
      i: {
        idempotencyKey: `matrix-${Math.random()}`,
        reason: 'role matrix',
        dryRun: true,
        rows: [
          {
            schoolUrn: c.ownSchool,
            communityCode: c.own,
            term: 'AUTUMN-2026',
            amount: '1.00',
            purpose: 'Matrix',
            status: 'PROPOSED',
          },
        ],
      },
    }),
    expect: row('ok forbidden ok rows forbidden 401 401'),
  },
  'Allocation.history': {
    query:
      'query($c: String!) { allocations(filter: { communityCode: $c }, first: 1) { nodes { history { action } } } }',
    variables: (c) => ({ c: c.own }),
    expect: row('ok forbidden ok forbidden forbidden 401 401'),
  },
};

interface RouteCase {
  path: string;
  body?: string;
  expect: Record<Who, Outcome>;
}
const PUBLIC = row('ok ok ok ok ok ok ok');
const ROUTE_CASES: Record<string, RouteCase> = {
  'GET /healthz': { path: '/healthz', expect: PUBLIC },
  // The built add-in (static files), or, on a hub where it is not built, a page saying how to build it.
  'GET /addin/*': { path: '/addin/', expect: PUBLIC },
  'GET /addin,/addin/*path': { path: '/addin/', expect: PUBLIC },
  'GET /metrics': { path: '/metrics', expect: row('401 401 401 401 401 401 401') }, // hub tokens never open it: METRICS_TOKEN does
  'GET /auth/config': { path: '/auth/config', expect: PUBLIC },
  'GET /graphql': { path: '/graphql', expect: PUBLIC },
  'POST /graphql': { path: '/graphql', body: JSON.stringify({ query: '{ me { role } }' }), expect: READ },
  'GET /graphiql/*': { path: '/graphiql/app/graphiql.min.css', expect: PUBLIC },
  'GET /export': { path: '/export', expect: READ },
  'GET /export/:file': { path: '/export/schools.csv', expect: READ },
  'GET /import/templates/:file': { path: '/import/templates/community-pots.csv', expect: READ },
  'POST /import/gias': { path: '/import/gias?dryRun=TRUE', body: 'not,a,gias,file\n', expect: FINANCE_ONLY },
  'POST /import/gias-links': {
    path: '/import/gias-links?dryRun=TRUE',
    body: 'not,a,links,file\n',
    expect: FINANCE_ONLY,
  },
  'POST /import/:kind': { path: '/import/community-pots?dryRun=TRUE', body: 'not,a,template\n', expect: FINANCE_ONLY },
};

let t: TestHub;
const tokens = {} as Record<Who, string | null>;
let ctx: Ctx;
const scenarios = new Map<Who, string>();

beforeAll(async () => {
  t = await startTestHub();
  const [other] = await t.db.dataSource.query('SELECT code FROM community WHERE code <> $1 ORDER BY code LIMIT 1', [
    t.tokens.chairCommunity,
  ]);
  const revoked = await createToken(t.db.dataSource.manager, { role: 'FINANCE', name: 'Revoked' });
  await revokeToken(t.db.dataSource.manager, revoked.id);
  Object.assign(tokens, {
    FINANCE: t.tokens.FINANCE,
    SUBGROUP: t.tokens.SUBGROUP,
    'CHAIR own': t.tokens.CHAIR,
    'CHAIR other': (
      await createToken(t.db.dataSource.manager, { role: 'CHAIR', name: 'Other Chair', communityCode: other.code })
    ).token,
    ANALYST: t.tokens.ANALYST,
    revoked: revoked.token,
    none: null,
  });
  const own = await t.gql(`{ community(code: "${t.tokens.chairCommunity}") { schools { urn } } }`);
  const ownSchool = own.body.data.community.schools[0].urn;
  // An allocation with history in the Chair's community, and a scenario per modeller.
  await t.gql('mutation($i: SubmitAllocationsInput!) { submitAllocations(input: $i) { applied } }', {
    i: {
      idempotencyKey: 'matrix-seed',
      reason: 'role matrix',
      rows: [
        {
          schoolUrn: ownSchool,
          communityCode: t.tokens.chairCommunity,
          term: 'AUTUMN-2026',
          amount: '5.00',
          purpose: 'Matrix seed',
          status: 'PROPOSED',
        },
      ],
    },
  });
  for (const who of ['FINANCE', 'SUBGROUP'] as Who[]) {
    const r = await t.gql('mutation { createScenario(name: "matrix seed") { id } }', {}, tokens[who]);
    scenarios.set(who, r.body.data.createScenario.id);
  }
  ctx = { own: t.tokens.chairCommunity, ownSchool, scenarioOf: (w) => scenarios.get(w)! };
  const seeded = await t.gql('query($c: String!) { allocations(filter: { communityCode: $c }) { totalCount } }', {
    c: ctx.own,
  });
  expect(seeded.body.data.allocations.totalCount).toBeGreaterThan(0);
}, 180_000);
afterAll(() => t?.stop());

function outcomeOf(status: number, body: any): Outcome {
  if (status === 401) return '401';
  const codes: string[] = (body?.errors ?? []).map((e: any) => e.extensions?.code);
  if (codes.includes('UNAUTHENTICATED')) return '401';
  if (codes.includes('FORBIDDEN') || status === 403) return 'forbidden';
  const rowCodes = JSON.stringify(body?.data ?? {}).match(/"code":"FORBIDDEN"/g);
  if (rowCodes) return 'rows';
  return 'ok';
}

describe('the role matrix', () => {
  it('has an entry for every Query and Mutation field, in the test and in the policy', async () => {
    const schema = await getSchema();
    const fields = [schema.getQueryType()!, schema.getMutationType()!].flatMap((t: GraphQLObjectType) =>
      Object.keys(t.getFields()).map((f) => `${t.name}.${f}`),
    );
    expect(fields.filter((f) => !GRAPHQL[f])).toEqual([]);
    expect(fields.filter((f) => !OPERATIONS[f])).toEqual([]);
    expect(Object.keys(FIELDS).filter((f) => !GRAPHQL[f])).toEqual([]);
  });

  it('has an entry for every HTTP route the hub serves, in the test and in the policy', async () => {
    const found = new Set<string>();
    const walk = async (stack: any[], prefix: string): Promise<void> => {
      for (const layer of stack) {
        const at = prefix + (layer.rawPath && layer.rawPath !== '/' ? layer.rawPath : '');
        if (layer.route) {
          for (const m of Object.keys(layer.route.methods))
            if (m !== '_all')
              found.add(`${m.toUpperCase()} ${prefix}${layer.route.path === '/' ? '' : layer.route.path}`);
        } else if (layer.name === 'router' && layer.handle?.stack) await walk(layer.handle.stack, at);
        else if (typeof layer.handle?.router === 'function') await walk((await layer.handle.router()).stack, at);
        else if (layer.name === 'serveStatic') found.add(`GET ${at.replace(/\/(react|react-dom|app)$/, '')}/*`);
        else if (at !== prefix) found.add(`POST ${at}`); // middleware mounted on a path: the GraphQL door
      }
    };
    await walk((t.hub.app as express.Express & { router: { stack: any[] } }).router.stack, '');
    const routes = [...found].map((r) => (r.endsWith(' ') ? r.trim() : r));
    expect(routes.filter((r) => !ROUTE_CASES[r])).toEqual([]);
    expect(routes.filter((r) => !ROUTES[r])).toEqual([]);
    expect(Object.keys(ROUTES).filter((r) => !ROUTE_CASES[r])).toEqual([]);
  });

  const cells = Object.entries(GRAPHQL).flatMap(([op, c]) => WHO.map((who) => [op, who, c.expect[who]] as const));
  it.each(cells)('%s as %s: %s', async (op, who, expected) => {
    const c = GRAPHQL[op];
    const r = await t.gql(c.query, c.variables?.(ctx), tokens[who]);
    expect(outcomeOf(r.status, r.body)).toBe(expected);
    expect(r.status).toBeLessThan(500);
  });

  const routeCells = Object.entries(ROUTE_CASES).flatMap(([route, c]) =>
    WHO.map((who) => [route, who, c.expect[who]] as const),
  );
  it.each(routeCells)('%s as %s: %s', async (route, who, expected) => {
    const c = ROUTE_CASES[route];
    const method = route.split(' ')[0];
    const headers: Record<string, string> = {};
    if (tokens[who]) headers.authorization = `Bearer ${tokens[who]}`;
    if (c.body) headers['content-type'] = method === 'POST' && c.path === '/graphql' ? 'application/json' : 'text/csv';
    if (route === 'GET /graphql') headers.accept = 'text/html';
    const res = await fetch(`${t.url}${c.path}`, { method, headers, body: c.body });
    const text = await res.text();
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      /* a file or page */
    }
    expect(res.status).toBeLessThan(500);
    expect(outcomeOf(res.status, body)).toBe(expected);
  });
});
