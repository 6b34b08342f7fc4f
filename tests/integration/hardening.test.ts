import net from 'node:net';
import { startTestHub, TestHub } from '../helpers/hub';
import { startTestDatabase } from '../helpers/db';
import { createToken } from '../../server/auth/tokens';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ metricsToken: 'metrics-secret-for-tests', operationLabels: 5 });
}, 180_000);
afterAll(() => t?.stop());

async function post(body: unknown, token: string | null = t.tokens.FINANCE, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: json, text, headers: res.headers };
}

const BIG = Number(process.env.HARDENING_BIG ?? 1024 * 1024);

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

describe('no backtracking over user input', () => {
  it('names the argument of a bad literal as quickly for a 1 MB name and literal as for a 10-character one', async () => {
    const small = await timed(() => post({ query: `{ ${'a'.repeat(10)}: school(urn: "x") { name } }` }));
    expect(small.value.status).toBe(400);
    expect(small.value.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'urn' });

    const bigName = await timed(() => post({ query: `{ ${'a'.repeat(BIG)}: school(urn: "x") { name } }` }));
    expect(bigName.value.status).toBe(400);
    expect(bigName.value.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'urn' });

    const literal = `"${'y'.repeat(BIG)}"`;
    const bigLiteral = await timed(() =>
      post({ query: `{ schools(first: ${literal}, filter: { phase: [PRIMARY] }) { totalCount } }` }),
    );
    expect(bigLiteral.value.status).toBe(400);
    expect(bigLiteral.value.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'first' });
    // Linear work: a megabyte costs parsing it, not seconds of regular-expression backtracking.
    expect(bigName.ms).toBeLessThan(1500);
    expect(bigLiteral.ms).toBeLessThan(1500);
  });

  it('names the input field of a bad literal nested in an input object', async () => {
    const r = await post({ query: `{ schools(first: 5, filter: { urns: ["${'z'.repeat(50000)}"] }) { totalCount } }` });
    expect(r.status).toBe(400);
    expect(r.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'urns' });
  });
});

describe('every client mistake is a 4xx with a code', () => {
  it('answers a syntax error 400 GRAPHQL_PARSE_FAILED', async () => {
    const r = await post({ query: '{ schools(first: 5 { nodes { urn } }' });
    expect(r.status).toBe(400);
    expect(r.body.errors[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('refuses a NUL in a string argument or variable as BAD_USER_INPUT before any SQL', async () => {
    const lit = await post({ query: '{ community(code: "ASH\\u0000") { name } }' });
    expect(lit.status).toBe(400);
    expect(lit.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'code' });
    const v = await post({
      query: 'query($c: String!) { community(code: $c) { name } }',
      variables: { c: 'A\u0000B' },
    });
    expect(v.status).toBe(400);
    expect(v.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const nested = await post({
      query: 'query($f: AllocationFilter) { allocations(filter: $f) { totalCount } }',
      variables: { f: { communityCode: 'x\u0000' } },
    });
    expect(nested.status).toBe(400);
    expect(nested.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const surrogate = await post({
      query: 'query($c: String!) { community(code: $c) { name } }',
      variables: { c: 'A\ud800' },
    });
    expect(surrogate.status).toBe(400);
    expect(surrogate.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('refuses a NUL in an export filter as 400 BAD_USER_INPUT', async () => {
    const res = await fetch(`${t.url}/export/schools.csv?nameContains=%00`, {
      headers: { authorization: `Bearer ${t.tokens.FINANCE}` },
    });
    expect(res.status).toBe(400);
    expect((await res.json()).errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('answers a query of more than the node limit 400 QUERY_TOO_COMPLEX', async () => {
    const fields = Array.from({ length: 12000 }, () => 'code').join(' ');
    const r = await post({ query: `{ areas { ${fields} } }` });
    expect(r.status).toBe(400);
    expect(r.body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
  });

  it('answers a malformed URI 400, not an internal error', async () => {
    const res = await fetch(`${t.url}/export/%E0%A4%A.csv`, {
      headers: { authorization: `Bearer ${t.tokens.FINANCE}` },
    });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('answers a persisted-query hash mismatch 400', async () => {
    const r = await post({
      query: '{ areas { code } }',
      extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } },
    });
    expect(r.status).toBe(400);
    expect(r.body.errors[0].extensions.code).not.toBe('INTERNAL_SERVER_ERROR');
  });
});

describe('an honest cost for every query', () => {
  it('refuses many aliases of a whole caseload table as QUERY_TOO_COMPLEX before execution', async () => {
    const aliases = Array.from(
      { length: 60 },
      (_, i) => `c${i}: caseloads(kind: EHCP_PLANS, groupBy: SCHOOL) { rows { key label period count suppressed } }`,
    ).join(' ');
    const r = await post({ query: `{ ${aliases} }` }, t.tokens.ANALYST);
    expect(r.status).toBe(400);
    expect(r.body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
  });

  it('caps the scenario computations in one request', async () => {
    const created = await post({ query: 'mutation { createScenario(name: "cost cap") { id } }' }, t.tokens.SUBGROUP);
    const id = created.body.data.createScenario.id;
    const aliases = Array.from(
      { length: 20 },
      (_, i) => `r${i}: results(term: "AUTUMN-2025") { totals { total } }`,
    ).join(' ');
    const r = await post({ query: `{ scenario(id: "${id}") { ${aliases} } }` }, t.tokens.SUBGROUP);
    expect(r.status).toBe(400);
    expect(r.body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
    expect(r.body.errors[0].message).toMatch(/scenario computations/);
    const one = await post(
      { query: `{ scenario(id: "${id}") { results(term: "AUTUMN-2025") { totals { total } } } }` },
      t.tokens.SUBGROUP,
    );
    expect(one.status).toBe(200);
    expect(one.body.data.scenario.results.totals.total).toMatch(/^\d+\.\d{2}$/);
  });
});

describe('metrics cannot be used against the hub', () => {
  it('needs METRICS_TOKEN', async () => {
    expect((await fetch(`${t.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${t.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect(
      (await fetch(`${t.url}/metrics`, { headers: { authorization: 'Bearer metrics-secret-for-tests' } })).status,
    ).toBe(200);
  });

  it('labels requests by route template and bounds operation names', async () => {
    for (let i = 0; i < 30; i++) await fetch(`${t.url}/random-${i}-${Math.random()}`);
    for (let i = 0; i < 30; i++)
      await fetch(`${t.url}/export/nothing-${i}.csv`, { headers: { authorization: `Bearer ${t.tokens.FINANCE}` } });
    for (let i = 0; i < 30; i++) await post({ query: `query Made${i} { areas { code } }`, operationName: `Made${i}` });
    await post({ query: 'query Periods { periods { fundingTerms { code } } }', operationName: 'Periods' });
    const text = await (
      await fetch(`${t.url}/metrics`, { headers: { authorization: 'Bearer metrics-secret-for-tests' } })
    ).text();
    expect(text).not.toMatch(/random-/);
    expect(text).not.toMatch(/nothing-/);
    expect(text.match(/operation="Made\d+"/g)?.length ?? 0).toBeLessThanOrEqual(5 * 20);
    expect(text).not.toMatch(/Made(29|28|27)/);
    expect(text).toMatch(/hub_http_requests_total\{route="unmatched",status="404"\} (\d+)/);
    const exports400 = Number(/hub_http_requests_total\{route="\/export\/:file",status="400"\} (\d+)/.exec(text)?.[1]);
    expect(exports400).toBeGreaterThanOrEqual(30);
    expect(text.split('\n').filter((l) => l.startsWith('hub_http_requests_total{')).length).toBeLessThan(15);
    // The first five names have their own series, the other 25 share "other".
    expect(text).toMatch(/hub_graphql_sql_statements_count\{operation="other"\} 25/);
    expect(text).toMatch(/hub_graphql_sql_statements_count\{operation="Periods"\} 1/);
  });
});

describe('connections', () => {
  it('generates a request id unless the client sent a short, safe one', async () => {
    const ok = await fetch(`${t.url}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    expect(ok.headers.get('x-request-id')).toBe('abc-123');
    for (const bad of ['x'.repeat(200), 'a b', 'évil', 'a\tb', 'id"><script>']) {
      const res = await fetch(`${t.url}/healthz`, { headers: { 'x-request-id': bad } });
      const id = res.headers.get('x-request-id')!;
      expect(id).not.toBe(bad);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('cuts off a client that never finishes its headers', async () => {
    const hub = await startTestHub({ db: t.db, headersTimeoutMs: 1000, requestTimeoutMs: 1500 });
    try {
      const { port } = new URL(hub.url);
      const started = Date.now();
      const closed = await new Promise<number>((resolve) => {
        const s = net.connect(Number(port), '127.0.0.1', () => s.write('POST /graphql HTTP/1.1\r\nHost: x\r\n'));
        s.on('data', () => undefined);
        s.on('close', () => resolve(Date.now() - started));
        s.on('error', () => undefined);
      });
      expect(closed).toBeLessThan(4000);
    } finally {
      await hub.stop();
    }
  });

  it('caps the connections one address may hold open', async () => {
    const hub = await startTestHub({ db: t.db, maxConnectionsPerAddress: 5 });
    const sockets: net.Socket[] = [];
    try {
      const { port } = new URL(hub.url);
      const closedEarly: boolean[] = await Promise.all(
        Array.from(
          { length: 8 },
          () =>
            new Promise<boolean>((resolve) => {
              const s = net.connect(Number(port), '127.0.0.1');
              sockets.push(s);
              s.on('error', () => resolve(true));
              s.on('close', () => resolve(true));
              setTimeout(() => resolve(false), 800);
            }),
        ),
      );
      expect(closedEarly.filter(Boolean).length).toBe(3);
    } finally {
      for (const s of sockets) s.destroy();
      await hub.stop();
    }
  });
});

describe('Allocation.history follows the audit log rule', () => {
  let otherChair: string;
  beforeAll(async () => {
    await post({
      query: `mutation($i: SubmitAllocationsInput!) { submitAllocations(input: $i) { applied } }`,
      variables: {
        i: {
          idempotencyKey: 'hardening-history-1',
          reason: 'history visibility',
          rows: [
            {
              schoolUrn: await firstMember(t.tokens.chairCommunity),
              communityCode: t.tokens.chairCommunity,
              term: 'AUTUMN-2026',
              amount: '10.00',
              purpose: 'History test',
              status: 'PROPOSED',
            },
          ],
        },
      },
    });
    const [other] = await t.db.dataSource.query('SELECT code FROM community WHERE code <> $1 ORDER BY code LIMIT 1', [
      t.tokens.chairCommunity,
    ]);
    otherChair = (
      await createToken(t.db.dataSource.manager, { role: 'CHAIR', name: 'Other chair', communityCode: other.code })
    ).token;
  });
  async function firstMember(code: string): Promise<number> {
    const r = await post({ query: `{ community(code: "${code}") { schools { urn } } }` });
    return r.body.data.community.schools[0].urn;
  }
  const q = `{ allocations { nodes { communityCode purpose history { actor actorName role reason idempotencyKey } } } }`;
  const historyOf = (body: any) => body.data?.allocations.nodes.find((n: any) => n.purpose === 'History test');

  it('shows Finance every entry with the actor', async () => {
    const r = await post({ query: q });
    const h = historyOf(r.body).history;
    expect(h[0].actor).toMatch(/^token:[0-9a-f-]{36}$/);
    expect(h[0].actorName).toBe('Demo finance officer');
  });

  it('shows the community Chair the entries without token ids', async () => {
    const r = await post({ query: q }, t.tokens.CHAIR);
    const h = historyOf(r.body).history;
    expect(h).toHaveLength(1);
    expect(h[0].actor).not.toMatch(/[0-9a-f]{8}-/);
    expect(h[0].actorName).toBe('Demo finance officer');
  });

  it.each(['SUBGROUP', 'ANALYST', 'otherChair'])(
    'refuses %s the history with FORBIDDEN, keeping the rest of the answer',
    async (who) => {
      const token = who === 'otherChair' ? otherChair : (t.tokens as any)[who];
      const r = await post({ query: q }, token);
      const node = historyOf(r.body);
      expect(node.communityCode).toBe(t.tokens.chairCommunity);
      expect(node.history).toBeNull();
      expect(r.body.errors.some((e: any) => e.extensions.code === 'FORBIDDEN')).toBe(true);
      expect(JSON.stringify(r.body)).not.toMatch(/Demo finance officer|token:/);
    },
  );
});

describe('pool exhaustion', () => {
  it('answers 503 SERVICE_UNAVAILABLE for an uncached token check while the pool is exhausted', async () => {
    const db = await startTestDatabase({ seed: true, poolSize: 1, connectionTimeoutMs: 300 });
    const hub = await startTestHub({ db });
    const runner = db.dataSource.createQueryRunner();
    try {
      await runner.connect();
      await runner.startTransaction();
      const res = await fetch(`${hub.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${hub.tokens.ANALYST}` },
        body: JSON.stringify({ query: '{ areas { code } }' }),
      });
      expect(res.status).toBe(503);
      const body = await res.json();
      expect(body.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
      expect(JSON.stringify(body)).not.toMatch(/Context creation failed/);
    } finally {
      await runner.rollbackTransaction().catch(() => undefined);
      await runner.release();
      await hub.stop();
      await db.stop();
    }
  });
});
