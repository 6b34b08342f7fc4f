import http from 'node:http';
import { startTestDatabase, TestDatabase } from '../helpers/db';
import { startTestHub, TestHub } from '../helpers/hub';
import { metricValue, sqlStatements } from '../helpers/metrics';
import type { HubLimits } from '../../server/server';

/**
 * The hot read path (server/http/fast-read.ts) answers a repeated compiled read past Express and Apollo. It must
 * answer exactly as Apollo's pipeline does, on every outcome a caller can meet: two hubs share one database, one
 * with the hot path and one without, and each request is sent to both and compared (status, headers, body bytes).
 * The hot hub's counter proves which requests really took the hot path.
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await startTestDatabase();
});
afterAll(async () => {
  await db?.stop();
});

const HOT = { name: 'hub_graphql_hot_reads_total', type: 'counter' } as const;
const hotReads = (t: TestHub) => metricValue(t.url, HOT, 'hub_graphql_hot_reads_total');

const SINGLE = `query Single($urn: Int!) { school(urn: $urn) { urn name district { name area { name } }
  community(asOf: "2025-10-01") { code name pot(term: "AUTUMN-2025") { amount } }
  notionalSenBudget(financialYear: "2025-26") { total factors { factor senAmount } }
  funding(term: "AUTUMN-2025") { baseline protectedAmount communityShare total }
  caseloads(period: "2025/26-T2") { kind count suppressed } } }`;

/** Headers both paths must agree on (date and the generated request id differ by nature). */
const IGNORED = new Set(['date', 'x-request-id', 'keep-alive', 'connection']);

async function send(t: TestHub, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${t.tokens.FINANCE}`, ...headers },
    body,
  });
  const kept: [string, string][] = [];
  res.headers.forEach((v, k) => void (IGNORED.has(k) || kept.push([k, v])));
  kept.sort(([a], [b]) => a.localeCompare(b));
  return { status: res.status, headers: kept, text: await res.text(), requestId: res.headers.get('x-request-id') };
}

/** The same request sent `n` times, one after another, with a role's token. */
async function repeat(t: TestHub, body: string, n: number, role: keyof TestHub['tokens']) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await send(t, body, { authorization: `Bearer ${t.tokens[role]}` }));
  return out;
}

/** Two hubs on the shared database, the hot path on and off, with the same limits. */
async function pair(limits: Partial<HubLimits> = {}) {
  const hot = await startTestHub({ db, ...limits });
  const plain = await startTestHub({ db, fastReads: false, ...limits });
  // The same tokens on both, so a token's limits and errors are the same caller's.
  plain.tokens = hot.tokens;
  return { hot, plain, stop: () => Promise.all([hot.hub.stop(), plain.hub.stop()]) };
}

describe('the hot read path answers as Apollo does', () => {
  let hot: TestHub;
  let plain: TestHub;
  let stop: () => Promise<unknown>;
  let urn: number;
  beforeAll(async () => {
    ({ hot, plain, stop } = await pair());
    [{ urn }] = await db.dataSource.query(`SELECT urn FROM school WHERE status = 'OPEN' ORDER BY urn LIMIT 1`);
  });
  afterAll(() => stop());

  test('a repeated single-school read is answered by the hot path, byte for byte as Apollo answers it, for every role', async () => {
    for (const role of ['FINANCE', 'SUBGROUP', 'CHAIR', 'ANALYST'] as const) {
      const body = JSON.stringify({ query: SINGLE, variables: { urn }, operationName: 'Single' });
      const auth = { authorization: `Bearer ${hot.tokens[role]}` };
      await send(hot, body, auth); // Apollo accepts the document once; the hot path knows it from then on
      const before = await hotReads(hot);
      const a = await send(hot, body, auth);
      const b = await send(plain, body, auth);
      expect(await hotReads(hot)).toBe(before + 1);
      expect(a.status).toBe(200);
      expect(JSON.parse(a.text).data.school.urn).toBe(urn);
      expect(a).toEqual({ ...b, requestId: a.requestId });
    }
  });

  test("the raw response headers are spelled and ordered as on Apollo's path", async () => {
    const body = JSON.stringify({ query: SINGLE, variables: { urn } });
    const names = (t: TestHub) =>
      new Promise<string[]>((resolve, reject) => {
        const req = http.request(
          `${t.url}/graphql`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${t.tokens.FINANCE}` },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.rawHeaders.filter((_, i) => i % 2 === 0)));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    await names(hot);
    const before = await hotReads(hot);
    const a = await names(hot);
    expect(await hotReads(hot)).toBe(before + 1);
    expect(a).toEqual(await names(plain));
    expect(a).toEqual(['x-request-id', 'Content-Type', 'Content-Length', 'Date', 'Connection', 'Keep-Alive']);
  });

  test('the request id a caller sends comes back, and the request is counted and timed like any other', async () => {
    const body = JSON.stringify({ query: SINGLE, variables: { urn } });
    await send(hot, body);
    const series = 'hub_http_requests_total{route="/graphql",status="200"}';
    const requests = { name: 'hub_http_requests_total', type: 'counter' } as const;
    const before = await metricValue(hot.url, requests, series);
    const hotBefore = await hotReads(hot);
    const r = await send(hot, body, { 'x-request-id': 'finance-refresh-42' });
    expect(r.requestId).toBe('finance-refresh-42');
    expect(await hotReads(hot)).toBe(hotBefore + 1);
    expect(await metricValue(hot.url, requests, series)).toBe(before + 1);
  });

  test.each([
    ['a variable of the wrong type', JSON.stringify({ query: SINGLE, variables: { urn: 'not a number' } })],
    ['a missing variable', JSON.stringify({ query: SINGLE, variables: {} })],
    ['variables that are not an object', JSON.stringify({ query: SINGLE, variables: [1] })],
    ['an operation name the document lacks', JSON.stringify({ query: SINGLE, variables: {}, operationName: 'Nope' })],
    ['a body that is not JSON', '{"query": "query Single'],
    ['a JSON body that is a string', '"query"'],
    ['a batch (an array body)', JSON.stringify([{ query: SINGLE, variables: { urn: 1 } }])],
  ])('%s is answered as Apollo answers it, after the document is known', async (_what, body) => {
    await send(hot, JSON.stringify({ query: SINGLE, variables: { urn } })); // the document is known
    const before = await hotReads(hot);
    const a = await send(hot, body);
    const b = await send(plain, body);
    expect(a).toEqual({ ...b, requestId: a.requestId });
    expect(a.status).toBeGreaterThanOrEqual(400);
    expect(a.status).toBeLessThan(500);
    expect(await hotReads(hot)).toBe(before);
  });

  test('a body with extensions (persisted queries, tracing) is left to Apollo, which answers it', async () => {
    const body = JSON.stringify({ query: SINGLE, variables: { urn }, extensions: { clientLibrary: 'x' } });
    await send(hot, body);
    const before = await hotReads(hot);
    const a = await send(hot, body);
    const b = await send(plain, body);
    expect(a.status).toBe(200);
    expect(a).toEqual({ ...b, requestId: a.requestId });
    expect(await hotReads(hot)).toBe(before);
  });

  test('a token the hub does not trust yet, or no token, is checked by the usual path and refused the same way', async () => {
    const body = JSON.stringify({ query: SINGLE, variables: { urn } });
    await send(hot, body);
    for (const auth of [{ authorization: 'Bearer not-a-real-token' }, { authorization: '' }]) {
      const before = await hotReads(hot);
      const a = await send(hot, body, auth);
      const b = await send(plain, body, auth);
      expect(a.status).toBe(401);
      expect(a).toEqual({ ...b, requestId: a.requestId });
      expect(await hotReads(hot)).toBe(before);
    }
  });

  test('a request from a browser origin, another content type or an encoded body takes the usual path', async () => {
    const body = JSON.stringify({ query: SINGLE, variables: { urn } });
    await send(hot, body);
    const before = await hotReads(hot);
    const variants: Record<string, string>[] = [
      { origin: 'https://excel.example' },
      { 'content-type': 'application/json; charset=utf-16' },
      { accept: 'application/graphql-response+json' },
    ];
    for (const headers of variants) {
      const a = await send(hot, body, headers);
      const b = await send(plain, body, headers);
      expect(a).toEqual({ ...b, requestId: a.requestId });
    }
    expect(await hotReads(hot)).toBe(before);
  });

  test('a body over 64 KB is never read by the hot path (it would be parsed before the rate limits are asked)', async () => {
    const small = JSON.stringify({ query: SINGLE, variables: { urn } });
    await send(hot, small);
    const big = JSON.stringify({ query: SINGLE, variables: { urn, padding: 'x'.repeat(70_000) } });
    const before = await hotReads(hot);
    const a = await send(hot, big);
    const b = await send(plain, big);
    expect(a).toEqual({ ...b, requestId: a.requestId });
    expect(await hotReads(hot)).toBe(before);
    await send(hot, small);
    expect(await hotReads(hot)).toBe(before + 1);
  });

  test('a mutation is never answered by the hot path', async () => {
    const body = JSON.stringify({ query: `mutation { __typename }` });
    const first = await send(hot, body);
    const before = await hotReads(hot);
    const again = await send(hot, body);
    expect(again.status).toBe(first.status);
    expect(await hotReads(hot)).toBe(before);
  });
});

describe('the hot read path applies the same limits', () => {
  test('the per-token rate limit refuses the same requests with the same 429 on both paths', async () => {
    const { hot, plain, stop } = await pair({ rateLimitPerToken: 4 });
    try {
      const [{ urn }] = await db.dataSource.query(`SELECT urn FROM school ORDER BY urn LIMIT 1`);
      const body = JSON.stringify({ query: SINGLE, variables: { urn } });
      // Each hub has its own limiter: the same sequence of six requests on each.
      const a = await repeat(hot, body, 6, 'SUBGROUP');
      const b = await repeat(plain, body, 6, 'SUBGROUP');
      expect(a.map((r) => r.status)).toEqual([200, 200, 200, 200, 429, 429]);
      expect(b.map((r) => r.status)).toEqual(a.map((r) => r.status));
      for (let i = 0; i < 6; i++) {
        expect(a[i].headers).toEqual(b[i].headers);
        expect(a[i].text).toBe(b[i].text);
      }
      expect(JSON.parse(a[5].text).errors[0].extensions.code).toBe('RATE_LIMITED');
      expect(await hotReads(hot)).toBe(3);
    } finally {
      await stop();
    }
  });

  // The limiters and the cost budget send their statements on the pool directly, never through the request's tally.
  test("with the rate limits kept in PostgreSQL, their statements are not counted as the operation's", async () => {
    const { hot, plain, stop } = await pair({ rateLimitStore: 'postgres' });
    try {
      const [{ urn }] = await db.dataSource.query(`SELECT urn FROM school ORDER BY urn LIMIT 1`);
      const body = JSON.stringify({ query: SINGLE, variables: { urn }, operationName: 'Single' });
      for (const t of [hot, plain]) {
        await send(t, body);
        const before = await sqlStatements(t.url, 'Single', { mustHaveRun: true });
        await send(t, body);
        expect((await sqlStatements(t.url, 'Single')) - before).toBe(1);
      }
      expect(await hotReads(hot)).toBe(1);
    } finally {
      await stop();
    }
  });

  test('a spent cost budget refuses the hot read with the same 429 as Apollo', async () => {
    // A single-school read costs 61: the first fits, the second is refused as it is charged (on the hot path), the
    // third before any work (refuseIfSpent, on Apollo's path).
    const { hot, plain, stop } = await pair({ costBudgetPerToken: 100, costBudgetWindowSeconds: 600 });
    try {
      const [{ urn }] = await db.dataSource.query(`SELECT urn FROM school ORDER BY urn LIMIT 1`);
      const body = JSON.stringify({ query: SINGLE, variables: { urn } });
      const a = await repeat(hot, body, 3, 'ANALYST');
      const b = await repeat(plain, body, 3, 'ANALYST');
      expect(a.map((r) => r.status)).toEqual(b.map((r) => r.status));
      expect(a.map((r) => r.text)).toEqual(b.map((r) => r.text));
      expect(a.map((r) => r.headers)).toEqual(b.map((r) => r.headers));
      expect(a.map((r) => r.status)).toEqual([200, 429, 429]);
      expect(JSON.parse(a[1].text).errors[0]).toMatchObject({
        message: expect.stringContaining('this query would cost 61'),
        extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 600 },
      });
      expect(a[1].headers).toContainEqual(['retry-after', '600']);
    } finally {
      await stop();
    }
  });
});
