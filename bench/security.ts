import autocannon from 'autocannon';
import ExcelJS from 'exceljs';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBenchHub, BenchHub } from './setup';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);

const post = async (hub: BenchHub, body: unknown, token = hub.tokens.FINANCE) => {
  const res = await fetch(`${hub.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
};

async function median(n: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return +times[Math.floor(n / 2)].toFixed(1);
}

/** The 1 MB name beside the 10-character one: both answered with the named bad argument. */
async function hostileNames(hub: BenchHub) {
  const q = (n: number) => ({ query: `{ ${'a'.repeat(n)}: school(urn: "x") { name } }` });
  const small = await median(5, () => post(hub, q(10)));
  const big = await median(5, () => post(hub, q(1024 * 1024)));
  const lit = await median(5, () =>
    post(hub, { query: `{ schools(first: "${'y'.repeat(1024 * 1024)}") { totalCount } }` }),
  );
  return [
    { query: 'alias of 10 characters, bad Int literal', 'answer ms (median of 5)': small },
    { query: 'alias of 1 MB, bad Int literal', 'answer ms (median of 5)': big },
    { query: '1 MB string literal for an Int', 'answer ms (median of 5)': lit },
  ];
}

/** The largest number of aliases of a whole caseload table (by school) that the cost limit still accepts. */
async function mostExpensiveAccepted(hub: BenchHub): Promise<{ query: string; aliases: number }> {
  const build = (n: number) =>
    `{ ${Array.from({ length: n }, (_, i) => `c${i}: caseloads(kind: EHCP_PLANS, groupBy: SCHOOL) { rows { key label period count suppressed } }`).join(' ')} }`;
  let lo = 1;
  let hi = 600;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const r = await fetch(`${hub.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${hub.tokens.ANALYST}` },
      // A query the cost check refuses answers 400 at once; probing costs no execution.
      body: JSON.stringify({ query: build(mid), variables: { probe: true } }),
    });
    await r.text();
    if (r.status === 400) hi = mid - 1;
    else lo = mid;
  }
  return { query: build(lo), aliases: lo };
}

/** p99 of a light query alone, then while one Analyst token keeps sending its most expensive accepted query. */
async function noisyNeighbour(hub: BenchHub) {
  const [{ urn }] = await hub.dataSource.query(`SELECT urn FROM school WHERE status = 'OPEN' ORDER BY urn LIMIT 1`);
  const light = {
    url: `${hub.url}/graphql`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${hub.tokens.FINANCE}` },
    body: JSON.stringify({ query: `{ school(urn: ${urn}) { urn name funding(term: "AUTUMN-2025") { total } } }` }),
    connections: 4,
    duration: SECONDS,
  };
  const alone = await autocannon(light);
  const heavy = await mostExpensiveAccepted(hub);
  let running = true;
  let heavyDone = 0;
  let heavyMs = 0;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      await post(hub, { query: heavy.query }, hub.tokens.ANALYST);
      heavyMs += performance.now() - t0;
      heavyDone++;
    }
  })();
  const busy = await autocannon(light);
  running = false;
  await loop;
  return [
    {
      'light query': 'alone',
      'req/s': Math.round(alone.requests.average),
      'p50 ms': alone.latency.p50,
      'p99 ms': alone.latency.p99,
      errors: alone.errors + alone.non2xx,
    },
    {
      'light query': `with ${heavy.aliases} aliases of the caseload table in a loop (${heavyDone} done, ${Math.round(heavyMs / Math.max(1, heavyDone))} ms each)`,
      'req/s': Math.round(busy.requests.average),
      'p50 ms': busy.latency.p50,
      'p99 ms': busy.latency.p99,
      errors: busy.errors + busy.non2xx,
    },
  ];
}

/** A 20 MB finance XLSX (baseline-funding, with a long notes column) written with the streaming writer. */
async function twentyMegabyteWorkbook(file: string, urn: number): Promise<number> {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: false });
  const ws = wb.addWorksheet('Data');
  ws.addRow(['schoolUrn', 'term', 'baseline', 'notes']).commit();
  let i = 0;
  while (true) {
    for (let k = 0; k < 5000; k++, i++)
      ws.addRow([
        urn,
        'AUTUMN-2025',
        `${1000 + (i % 9000)}.${String(i % 100).padStart(2, '0')}`,
        crypto.randomBytes(60).toString('base64'),
      ]).commit();
    if (i % 20000 === 0 && (await fileSize(file)) > 19 * 1024 * 1024) break;
    if (i >= 190_000) break;
  }
  await wb.commit();
  return fs.statSync(file).size;
}
const fileSize = async (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);

/** RSS and a probe query's p95 while a 20 MB XLSX is imported (dry run). */
async function bigImport(hub: BenchHub) {
  const [{ urn }] = await hub.dataSource.query(`SELECT urn FROM school ORDER BY urn LIMIT 1`);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hnh-bench-xlsx-')), 'big.xlsx');
  const bytes = await twentyMegabyteWorkbook(file, urn);
  const body = fs.readFileSync(file);
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
  const probes: number[] = [];
  let importing = true;
  const probing = (async () => {
    while (importing) {
      const t0 = performance.now();
      await post(hub, { query: '{ me { role } }' });
      probes.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const t0 = performance.now();
  const res = await fetch(`${hub.url}/import/baseline-funding?dryRun=TRUE`, {
    method: 'POST',
    headers: { authorization: `Bearer ${hub.tokens.FINANCE}`, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(body),
  });
  const answer: any = await res.json();
  const ms = performance.now() - t0;
  importing = false;
  await probing;
  clearInterval(sampler);
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  probes.sort((a, b) => a - b);
  const p95 = probes.length ? probes[Math.min(probes.length - 1, Math.floor(probes.length * 0.95))] : NaN;
  return {
    'file MB': +(bytes / 1048576).toFixed(1),
    status: res.status,
    'rows reported': answer.report?.errorCount ?? answer.errors?.[0]?.message?.slice(0, 60),
    'import ms': Math.round(ms),
    'RSS before MB': Math.round(rss0 / 1048576),
    'RSS peak +MB': Math.round((peak - rss0) / 1048576),
    'probe p95 ms': +p95.toFixed(1),
    probes: probes.length,
  };
}

export async function benchSecurity() {
  const hub = await startBenchHub(null);
  try {
    console.log('  Hostile names and literals (each answered 400 BAD_USER_INPUT naming the argument):');
    console.table(await hostileNames(hub));
    console.log('  A light query beside the most expensive query the cost limit accepts:');
    console.table(await noisyNeighbour(hub));
    console.log('  A 20 MB XLSX import (dry run) and a probe query meanwhile:');
    return await bigImport(hub);
  } finally {
    await hub.stop();
  }
}
