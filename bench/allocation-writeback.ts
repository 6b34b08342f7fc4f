/**
 * Allocation write-back bench: 5,000 rows submitted in one `submitAllocations` call beside the same rows saved
 * one at a time in 5,000 calls, against a real hub (HTTP + Apollo + database with the demo data) on embedded
 * PGlite and, when BENCH_DATABASE_URL or TEST_DATABASE_URL is set, on a fresh database on that PostgreSQL server
 * (dropped afterwards). Server time is what the hub itself logs for each request (`ms` of its request log line).
 * The batch must be at least 10x faster per row than row-by-row saving.
 *
 *   npm run -s build && node dist/bench/allocation-writeback.js
 */
import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { DataSource } from 'typeorm';
import { MEMBERSHIP_ON } from '../server/modules/community/membership';
import { BenchHub, startBenchHub } from './setup';

const ROWS = 5000;
const REQUIRED_RATIO = 10;

const SUBMIT = `mutation BenchSubmit($input: SubmitAllocationsInput!) {
  submitAllocations(input: $input) { applied summary { created updated unchanged rejected } }
}`;

interface Row {
  schoolUrn: number;
  communityCode: string;
  term: string;
  amount: string;
  purpose: string;
  status: 'PROPOSED';
}

interface WritebackHub {
  hub: BenchHub;
  token: string;
  /** Server-side milliseconds per request id, from the hub's own request log. */
  serverMs: Map<string, number>;
}

/** A bench hub (bench/setup.ts) on the demo data, whose request log lines are read for each request's server time. */
async function startWritebackHub(adminUrl: string | null): Promise<WritebackHub> {
  const serverMs = new Map<string, number>();
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) {
        if (!line) continue;
        const entry = JSON.parse(line) as { msg?: string; requestId?: string; ms?: number };
        if (entry.msg === 'request' && entry.requestId && typeof entry.ms === 'number')
          serverMs.set(entry.requestId, entry.ms);
      }
      done();
    },
  });
  const hub = await startBenchHub(adminUrl, { demo: true, logger: pino({ level: 'info' }, sink) });
  return { hub, token: hub.tokens.FINANCE, serverMs };
}

/** Valid new PROPOSED rows spread over every community and every open term with a pot. */
async function benchRows(ds: DataSource, n: number, label: string): Promise<Row[]> {
  const pairs: { urn: number; community: string; term: string }[] = await ds.query(
    `SELECT m.school_urn AS urn, m.community_code AS community, t.code AS term
       FROM funding_term t JOIN community_membership m ON ${MEMBERSHIP_ON('m', 't.start_date')}
      WHERE NOT t.closed AND EXISTS (SELECT 1 FROM community_pot p WHERE p.term_code = t.code)
      ORDER BY t.code, m.community_code, m.school_urn`,
  );
  return Array.from({ length: n }, (_, i) => {
    const p = pairs[i % pairs.length];
    return {
      schoolUrn: p.urn,
      communityCode: p.community,
      term: p.term,
      amount: `${(i % 900) + 100}.${String(i % 100).padStart(2, '0')}`,
      purpose: `${label} ${Math.floor(i / pairs.length)}`,
      status: 'PROPOSED',
    };
  });
}

async function submit(h: WritebackHub, rows: Row[]): Promise<{ serverMs: number; wallMs: number }> {
  const requestId = crypto.randomUUID();
  const started = process.hrtime.bigint();
  const res = await fetch(`${h.hub.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${h.token}`,
      'x-request-id': requestId,
      'x-hub-source': 'ADDIN',
    },
    body: JSON.stringify({
      query: SUBMIT,
      variables: { input: { idempotencyKey: `bench-${requestId}`, reason: 'Allocation bench', rows } },
    }),
  });
  const body = (await res.json()) as {
    data?: { submitAllocations: { applied: boolean; summary: { created: number } } };
    errors?: unknown[];
  };
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const p = body.data?.submitAllocations;
  if (!p?.applied || p.summary.created !== rows.length)
    throw new Error(`bench submit failed: ${JSON.stringify(body).slice(0, 500)}`);
  // The log line is written when the response finishes; wait for it if the client got there first.
  for (let i = 0; i < 100 && !h.serverMs.has(requestId); i++) await new Promise((r) => setImmediate(r));
  const serverMs = h.serverMs.get(requestId);
  h.serverMs.delete(requestId);
  return { serverMs: serverMs ?? wallMs, wallMs };
}

async function benchEngine(rowsCount: number, adminUrl: string | null): Promise<Record<string, unknown>> {
  const h = await startWritebackHub(adminUrl);
  const engine = h.hub.engine;
  try {
    // The same schools, terms, amounts and statuses both ways; only the purpose differs, so both are creations.
    const single = await benchRows(h.hub.dataSource, rowsCount, 'Bench one at a time');
    const batch = await benchRows(h.hub.dataSource, rowsCount, 'Bench batch');
    await submit(
      h,
      single.slice(0, 20).map((r) => ({ ...r, purpose: `Warm-up ${r.purpose}` })),
    ); // JIT, plan caches

    let singleServer = 0;
    let singleWall = 0;
    for (const row of single) {
      const r = await submit(h, [row]);
      singleServer += r.serverMs;
      singleWall += r.wallMs;
    }
    const b = await submit(h, batch);
    const ratio = singleServer / Math.max(b.serverMs, 0.001);
    const result = {
      rows: rowsCount,
      batch: {
        calls: 1,
        serverMs: Math.round(b.serverMs),
        wallMs: Math.round(b.wallMs),
        rowsPerSecond: Math.round(rowsCount / (Math.max(b.serverMs, 0.001) / 1000)),
      },
      oneAtATime: {
        calls: rowsCount,
        serverMs: Math.round(singleServer),
        wallMs: Math.round(singleWall),
        rowsPerSecond: Math.round(rowsCount / (Math.max(singleServer, 0.001) / 1000)),
        msPerCall: Number((singleServer / rowsCount).toFixed(2)),
      },
      ratio: Number(ratio.toFixed(1)),
      requiredRatio: REQUIRED_RATIO,
      ok: ratio >= REQUIRED_RATIO,
    };
    console.log(
      `allocations [${engine}] ${rowsCount} rows: one call ${result.batch.serverMs} ms (${result.batch.rowsPerSecond} rows/s) vs ` +
        `${rowsCount} calls ${result.oneAtATime.serverMs} ms (${result.oneAtATime.rowsPerSecond} rows/s): ${result.ratio}x ` +
        `${result.ok ? '>=' : 'BELOW'} ${REQUIRED_RATIO}x`,
    );
    return result;
  } finally {
    await h.hub.stop();
  }
}

/** Runs the bench on PGlite and, when BENCH_DATABASE_URL or TEST_DATABASE_URL is set, on PostgreSQL. */
export async function benchAllocations(opts: { rows?: number } = {}): Promise<Record<string, unknown>> {
  const rowsCount = opts.rows ?? ROWS;
  const out: Record<string, unknown> = { pglite: await benchEngine(rowsCount, null) };
  const pg = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (pg) out.postgres = await benchEngine(rowsCount, pg);
  return out;
}

if (require.main === module) {
  benchAllocations()
    .then((r) => {
      console.log(JSON.stringify(r, null, 2));
      const failed = Object.values(r).some((x) => !(x as { ok: boolean }).ok);
      process.exit(failed ? 1 : 0);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
