import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Kind, parse, OperationDefinitionNode, TypeNode } from 'graphql';
import { startTestHub, TestHub } from '../helpers/hub';

/**
 * Every operation the add-in sends, driven with hostile variables and mangled documents, and malformed HTTP:
 * a few thousand cases in all. Nothing a client sends may produce a 5xx or INTERNAL_SERVER_ERROR, and no
 * answer may carry a stack, SQL, the host or a path that the request did not itself contain.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 80); // per operation: 19 operations x 80, + 640 documents + 400 HTTP requests
jest.setTimeout(240_000);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

let t: TestHub;
const ops: { name: string; text: string; vars: { name: string; type: TypeNode }[] }[] = [];
beforeAll(async () => {
  t = await startTestHub();
  const dir = path.join(__dirname, '../../schema/operations');
  for (const f of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort()) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    const op = parse(text).definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
    ops.push({
      name: op.name!.value,
      text,
      vars: (op.variableDefinitions ?? []).map((v) => ({ name: v.variable.name.value, type: v.type })),
    });
  }
}, 180_000);
afterAll(() => t?.stop());

const LEAKS = [
  ' at /',
  'at Object.',
  'node_modules',
  'QueryFailedError',
  'SELECT ',
  ' FROM ',
  'INSERT INTO',
  'syntax error at or near',
  'violates',
  'relation "',
  os.hostname(),
  process.cwd(),
  '/work/',
  'stacktrace',
];

function checkAnswer(request: string, status: number, text: string): void {
  if (status >= 500) throw new Error(`HTTP ${status} for ${request.slice(0, 300)}: ${text.slice(0, 300)}`);
  if (text.includes('INTERNAL_SERVER_ERROR'))
    throw new Error(`INTERNAL_SERVER_ERROR for ${request.slice(0, 300)}: ${text.slice(0, 300)}`);
  for (const leak of LEAKS) {
    if (leak && text.includes(leak) && !request.includes(leak))
      throw new Error(`answer leaks "${leak}" for ${request.slice(0, 200)}: ${text.slice(0, 300)}`);
  }
}

const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\ud800',
    '\udfff',
    "'; DROP TABLE school; --",
    '%00',
    '../../etc/passwd',
    // eslint-disable-next-line no-template-curly-in-string -- a log4j-style probe, sent as a literal string
    '${jndi:ldap://x}',
    'NaN',
    '-0',
    '1e309',
    '2025-02-30',
    '9999-99-99',
    'AUTUMN-2025',
    '2025/26-T1',
    'ASH-01',
    '12.345',
    '-1.00',
    '1'.repeat(400),
  ),
  fc.integer().map(String),
);
const hostileScalar = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(2 ** 31, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, 1e308),
);
const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileScalar,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** A value near the variable's declared type (so it reaches deeper than validation), or anything at all. */
function forType(type: TypeNode): fc.Arbitrary<unknown> {
  if (type.kind === Kind.NON_NULL_TYPE) return forType(type.type);
  if (type.kind === Kind.LIST_TYPE) return fc.oneof(fc.array(forType(type.type), { maxLength: 6 }), hostileValue);
  switch (type.name.value) {
    case 'Int':
      return fc.oneof(
        fc.integer({ min: -5, max: 200000 }),
        fc.constantFrom(0, 1, 1000, 1001, 2 ** 31 - 1),
        hostileValue,
      );
    case 'String':
      return fc.oneof(hostileString, hostileValue);
    case 'SubmitAllocationsInput':
      return fc.oneof(
        fc.record({
          idempotencyKey: hostileString,
          dryRun: fc.constant(true),
          reason: hostileString,
          decisionReference: fc.option(hostileString),
          rows: fc.array(
            fc.record({
              schoolUrn: fc.oneof(fc.integer({ min: 100000, max: 150000 }), hostileValue),
              communityCode: hostileString,
              term: hostileString,
              amount: hostileString,
              purpose: hostileString,
              status: fc.constantFrom('PROPOSED', 'APPROVED', 'WITHDRAWN', 'BOGUS'),
            }),
            { maxLength: 4 },
          ),
        }),
        hostileValue,
      );
    case 'SchoolFilter':
      return fc.oneof(
        fc.record(
          { nameContains: hostileString, urns: fc.array(fc.integer(), { maxLength: 3 }) },
          { requiredKeys: [] },
        ),
        hostileValue,
      );
    default:
      return hostileValue;
  }
}

const post = async (body: string, token: string | null) => {
  const res = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
    signal: AbortSignal.timeout(20_000),
  });
  return { status: res.status, text: await res.text() };
};

describe('fuzzing every operation and the HTTP door', () => {
  const rss0 = process.memoryUsage().rss;

  it('answers hostile variables for every operation with 4xx or data, never 5xx, internal errors or leaks', async () => {
    const tokens = () =>
      fc.constantFrom(
        t.tokens.FINANCE,
        t.tokens.SUBGROUP,
        t.tokens.CHAIR,
        t.tokens.ANALYST,
        null,
        'hnh_not-a-token',
        'a.b.c',
      );
    const timings: string[] = [];
    for (const op of ops) {
      const started = performance.now();
      const vars = fc.record(
        Object.fromEntries(op.vars.map((v) => [v.name, forType(v.type)])) as Record<string, fc.Arbitrary<unknown>>,
        { requiredKeys: [] },
      );
      await fc.assert(
        fc.asyncProperty(vars, tokens(), async (variables, token) => {
          const body = JSON.stringify({ query: op.text, variables, operationName: op.name });
          const r = await post(body, token);
          checkAnswer(body, r.status, r.text);
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
      timings.push(`${op.name} ${Math.round(performance.now() - started)} ms`);
    }
    if (process.env.FUZZ_TIMINGS) console.log(timings.join('\n'));
  });

  it('answers mangled documents with 4xx, never 5xx', async () => {
    const mangled = fc
      .tuple(fc.integer({ min: 0, max: ops.length - 1 }), fc.nat(), fc.nat(), hostileString)
      .map(([i, a, b, insert]) => {
        const text = ops[i].text;
        const from = a % (text.length + 1);
        const to = Math.min(text.length, from + (b % 40));
        return text.slice(0, from) + insert + text.slice(to);
      });
    await fc.assert(
      fc.asyncProperty(mangled, fc.oneof(hostileValue, fc.constant(undefined)), async (query, variables) => {
        const body = JSON.stringify({ query, variables });
        const r = await post(body, t.tokens.FINANCE);
        checkAnswer(body, r.status, r.text);
      }),
      { numRuns: RUNS * 8, seed: SEED, endOnFailure: true },
    );
  });

  it('answers malformed HTTP with 4xx, never 5xx', async () => {
    const { port } = new URL(t.url);
    const raw = (request: string) =>
      new Promise<string>((resolve) => {
        const s = net.connect(Number(port), '127.0.0.1', () => s.end(request));
        let out = '';
        s.setTimeout(5000, () => s.destroy());
        s.on('data', (d) => (out += d.toString('latin1')));
        s.on('close', () => resolve(out));
        s.on('error', () => resolve(out));
      });
    const segment = fc.oneof(
      fc.stringMatching(/^[a-z0-9%.-]{0,12}$/),
      fc.constantFrom(
        '%',
        '%E0%A4%A',
        '%00',
        '..',
        '%2e%2e',
        '%C0%AF',
        '%ZZ',
        'export',
        'import',
        'graphql',
        'templates',
        'schools.csv',
        'x.xlsx',
        'gias',
      ),
    );
    const target = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => '/' + s.join('/'));
    const query = fc
      .array(fc.tuple(fc.stringMatching(/^[a-zA-Z%0-9]{0,8}$/), fc.stringMatching(/^[a-zA-Z%0-9,]{0,10}$/)), {
        maxLength: 3,
      })
      .map((q) => (q.length ? '?' + q.map(([k, v]) => `${k}=${v}`).join('&') : ''));
    const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'BREW');
    const contentType = fc.constantFrom(
      'application/json',
      'text/csv',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=utf-16',
      'text/plain',
    );
    const body = fc.oneof(
      fc.constant(''),
      fc.string({ maxLength: 200 }),
      fc.constantFrom(
        '{',
        '{"query":',
        '{"query": 5}',
        '{"query":"{ me { role } }","variables":"x"}',
        '[]',
        'null',
        '{"query":"{ __typename }","extensions":{"persistedQuery":{"version":2}}}',
      ),
    );
    const token = fc.constantFrom(
      `Bearer ${t.tokens.FINANCE}`,
      `Bearer ${t.tokens.ANALYST}`,
      'Bearer',
      'Basic abc',
      '',
      `Bearer ${'x'.repeat(300)}`,
    );
    await fc.assert(
      fc.asyncProperty(method, target, query, contentType, body, token, async (m, p, q, ct, b, auth) => {
        const bytes = Buffer.byteLength(b);
        const request = `${m} ${p}${q} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: ${ct}\r\napollo-require-preflight: 1\r\n${auth ? `Authorization: ${auth}\r\n` : ''}Content-Length: ${bytes}\r\n\r\n${b}`;
        const answer = await raw(request);
        const status = Number(answer.slice(9, 12));
        if (answer) checkAnswer(request, status, answer.slice(answer.indexOf('\r\n\r\n') + 4));
      }),
      { numRuns: RUNS * 5, seed: SEED, endOnFailure: true },
    );
    // Garbage that is not HTTP at all: Node answers 400 and closes.
    for (const junk of [
      '\u0000\u0001\u0002',
      'GET\r\n\r\n',
      'GET / HTTP/9.9\r\n\r\n',
      `GET /${'a'.repeat(20000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    ]) {
      const answer = await raw(junk);
      if (answer) expect(Number(answer.slice(9, 12))).toBeLessThan(500);
    }
  });

  it("keeps the hub's memory bounded through it all", () => {
    // The test process holds the hub, the embedded database (WebAssembly memory only grows) and fast-check:
    // the bound is loose, but a leak per request (or one request holding a huge answer) would pass it.
    expect(process.memoryUsage().rss - rss0).toBeLessThan(700 * 1024 * 1024);
  });
});
