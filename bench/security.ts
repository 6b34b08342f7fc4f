import autocannon from 'autocannon';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchHubOn, startBenchHub, BenchHub } from './setup';
import { DEFAULT_HUB_LIMITS } from '../server/server';
import { UPLOAD_LIMITS } from '../server/modules/imports/import.router';
import { nearSizeWorkbook } from './big-xlsx';

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

/**
 * Other callers' p50/p99 for a light query: alone; while one Analyst token sends its most expensive accepted query
 * back to back (ignoring Retry-After) with no cost budget; and the same with the default per-token cost budget
 * (server/http/cost-budget.ts), on a second hub over the same database.
 */
async function noisyNeighbour(hub: BenchHub) {
  const seconds = Math.max(SECONDS, 15);
  const [{ urn }] = await hub.dataSource.query(`SELECT urn FROM school WHERE status = 'OPEN' ORDER BY urn LIMIT 1`);
  const lightOn = (url: string) => ({
    url: `${url}/graphql`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${hub.tokens.FINANCE}` },
    body: JSON.stringify({ query: `{ school(urn: ${urn}) { urn name funding(term: "AUTUMN-2025") { total } } }` }),
    connections: 4,
    duration: seconds,
  });
  const row = (label: string, r: autocannon.Result, hostile = '') => ({
    'light query (4 connections)': label,
    'req/s': Math.round(r.requests.average),
    'p50 ms': r.latency.p50,
    'p99 ms': r.latency.p99,
    errors: r.errors + r.non2xx,
    'hostile caller': hostile,
  });
  const alone = await autocannon(lightOn(hub.url));
  const heavy = await mostExpensiveAccepted(hub);
  await post(hub, { query: heavy.query }, hub.tokens.ANALYST); // warm: the Analyst's disclosure patterns are cached
  const withHostile = async (url: string) => {
    let running = true;
    const seen = { served: 0, refused: 0, ms: 0 };
    const loop = (async () => {
      while (running) {
        const t0 = performance.now();
        const res = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${hub.tokens.ANALYST}` },
          body: JSON.stringify({ query: heavy.query }),
        });
        await res.arrayBuffer();
        if (res.status === 200) {
          seen.served++;
          seen.ms += performance.now() - t0;
        } else seen.refused++;
      }
    })();
    const r = await autocannon(lightOn(url));
    running = false;
    await loop;
    return row(
      url === hub.url ? 'with the hostile caller, no cost budget' : 'with the hostile caller, default cost budget',
      r,
      `${seen.served} served (${Math.round(seen.ms / Math.max(1, seen.served))} ms each), ${seen.refused} refused 429`,
    );
  };
  const unbudgeted = await withHostile(hub.url);
  const budgeted = await benchHubOn(hub.dataSource, {
    costBudgetPerToken: DEFAULT_HUB_LIMITS.costBudgetPerToken,
    costBudgetWindowSeconds: DEFAULT_HUB_LIMITS.costBudgetWindowSeconds,
    expensiveQueryCost: DEFAULT_HUB_LIMITS.expensiveQueryCost,
    maxConcurrentExpensivePerToken: DEFAULT_HUB_LIMITS.maxConcurrentExpensivePerToken,
  });
  try {
    const budgetedRow = await withHostile(await budgeted.listen(0));
    console.log(
      `  The hostile caller: ${heavy.aliases} aliases of the caseload table, for ${seconds} s per row; budget ${DEFAULT_HUB_LIMITS.costBudgetPerToken.toLocaleString('en-GB')} a minute per caller.`,
    );
    return [row('alone', alone), unbudgeted, budgetedRow];
  } finally {
    await budgeted.stop();
  }
}

/** RSS and a probe query's p95 while a 20 MB XLSX is imported (dry run). */
async function bigImport(hub: BenchHub) {
  const [{ urn }] = await hub.dataSource.query(`SELECT urn FROM school ORDER BY urn LIMIT 1`);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hnh-bench-xlsx-')), 'big.xlsx');
  // Just under the 20 MB finance upload limit (UPLOAD_LIMITS.financeBytes), and under the 200,000-row limit.
  const { bytes, rows } = await nearSizeWorkbook(file, urn, UPLOAD_LIMITS.financeBytes);
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
    'file MB': +(bytes / 1048576).toFixed(2),
    rows,
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
    console.log('  Other callers beside one caller sending the most expensive query the cost limit accepts:');
    console.table(await noisyNeighbour(hub));
    console.log('  A 20 MB XLSX import (dry run) and a probe query meanwhile:');
    return await bigImport(hub);
  } finally {
    await hub.stop();
  }
}
