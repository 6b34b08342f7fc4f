import { METRICS_AUTH, startTestHub, TestHub } from '../helpers/hub';
import { startTestDatabase } from '../helpers/db';
import { QUERY_LIMITS } from '../../server/server';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ bodyLimitBytes: 64 * 1024 });
});
afterAll(() => t?.stop());

describe('operations endpoints', () => {
  it('reports a reachable database at /healthz', async () => {
    const res = await fetch(`${t.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', database: 'reachable' });
  });

  it('exposes request counts, latencies and SQL statements per operation at /metrics', async () => {
    await t.gql(`query AreasForMetrics { areas { code } }`);
    const text = await (await fetch(`${t.url}/metrics`, METRICS_AUTH)).text();
    expect(text).toMatch(/hub_http_requests_total\{route="\/graphql",status="200"\} \d+/);
    expect(text).toMatch(/hub_http_request_duration_seconds_bucket/);
    expect(text).toMatch(/hub_graphql_sql_statements_count\{operation="AreasForMetrics"\} 1/);
  });

  it('echoes a request id for log correlation', async () => {
    const res = await fetch(`${t.url}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
  });

  it('serves the GraphiQL explorer and its assets from the hub itself (no CDN)', async () => {
    const page = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('GraphiQL');
    const srcs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(srcs.every((s) => s.startsWith('/'))).toBe(true);
    for (const s of srcs) expect((await fetch(`${t.url}${s}`)).status).toBe(200);
  });
});

describe('abusive and malformed requests', () => {
  async function sqlSum(): Promise<number> {
    const text = await (await fetch(`${t.url}/metrics`, METRICS_AUTH)).text();
    return [...text.matchAll(/hub_graphql_sql_statements_sum\{[^}]*\} (\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
  }

  it('rejects a query deeper than the limit before any SQL runs', async () => {
    const before = await sqlSum();
    let q = 'code';
    for (let i = 0; i < QUERY_LIMITS.maxDepth; i++) q = i % 2 ? `area { ${q} }` : `districts { ${q} }`;
    const r = await t.gql(`{ areas { ${q} } }`);
    expect(r.status).toBe(400);
    expect(r.body.errors[0].message).toMatch(/depth limit of 12 exceeded/i);
    expect(await sqlSum()).toBe(before);
  });

  it('rejects a query whose estimated cost is above the limit', async () => {
    const before = await sqlSum();
    const wide = Array.from(
      { length: 60 },
      (_, i) => `c${i}: communities { schools { urn name district { name area { name } } community { code } } }`,
    ).join(' ');
    const r = await t.gql(`{ ${wide} }`);
    expect(r.status).toBe(400);
    expect(r.body.errors[0].message).toMatch(
      /^Query too large: its estimated size is \d+ \(rows x fields\), above the limit of 250000/,
    );
    expect(r.body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
    expect(await sqlSum()).toBe(before);
  });

  it('rejects too many aliases', async () => {
    const aliases = Array.from({ length: QUERY_LIMITS.maxAliases + 1 }, (_, i) => `a${i}: areas { code }`).join(' ');
    const r = await t.gql(`{ ${aliases} }`);
    expect(r.status).toBe(400);
    expect(r.body.errors[0].message).toMatch(/aliases/i);
  });

  it('refuses a body above the limit with a message giving the maximum', async () => {
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.tokens.FINANCE}` },
      body: JSON.stringify({ query: '{ areas { code } }', padding: 'x'.repeat(70 * 1024) }),
    });
    expect(res.status).toBe(413);
    const body = await res.json();
    expect(body.errors[0].message).toMatch(/maximum is 65536 bytes/);
  });

  it('refuses a body that is not JSON', async () => {
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.tokens.FINANCE}` },
      body: '{ not json',
    });
    expect(res.status).toBe(400);
    expect((await res.json()).errors[0].message).toMatch(/not valid JSON/);
  });

  it('never sends a stack trace', async () => {
    const r = await t.gql(`{ schools(first: -1) { nodes { urn } } }`);
    expect(JSON.stringify(r.body)).not.toMatch(/stacktrace|at .*\.ts:\d+/);
  });
});

describe('a database that goes away', () => {
  it('answers /healthz with 503 and GraphQL with SERVICE_UNAVAILABLE, no stack trace', async () => {
    const db = await startTestDatabase();
    const other = await startTestHub({ db });
    const token = other.tokens.FINANCE;
    await other.gql('{ areas { code } }', {}, token); // warm the authentication cache
    await db.outage();
    const health = await fetch(`${other.url}/healthz`);
    expect(health.status).toBe(503);
    expect((await health.json()).status).toBe('unavailable');
    const r = await other.gql('{ areas { code } }', {}, token);
    expect(r.body).toMatchObject({ errors: [{ extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
    expect(JSON.stringify(r.body)).not.toMatch(/stacktrace/);
    await other.hub.stop();
    await db.stop().catch(() => undefined);
  });
});
