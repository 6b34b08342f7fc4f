import 'reflect-metadata';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { startBenchHub, BenchHub, BENCH_METRICS_AUTH } from './setup';
import { startFloor } from './floor';
import { QUERIES, readBody } from './read-queries';
import { computeFunding } from '../server/modules/funding/engine';
import { isLocked } from '../server/db/folder-lock';
import { DEFAULT_MODEL_PARAMETERS } from '../server/modules/funding/model';
import { blockLinesOf, dsgOf } from '../server/modules/scenario/scenario.views';
import { loadFundingInputs } from '../server/modules/funding/funding-inputs';
import { loadRecordContext } from '../server/modules/funding/compute';
import { scenarioOn, parameterVersions } from '../server/modules/funding/parameters-of-record';
import type { ModelParameters } from '../server/modules/funding/model';
import { projectRoot } from '../server/common/paths';

/**
 * npm run bench: figures side by side in one run, printed, never asserted (the machines are shared and noisy).
 * BENCH_DATABASE_URL adds a PostgreSQL run; BENCH_SECONDS sets each load test's length (default 8);
 * BENCH_ONLY=read stops after the read API; BENCH_ONLY=start times only the start-up; BENCH_ONLY=disclosure and
 * BENCH_ONLY=security run only those figures.
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
/** BENCH_ONLY=read runs only the read API against the floor; BENCH_ONLY=scenario only the scenario recompute. */
const ONLY_READ = process.env.BENCH_ONLY === 'read';
/** BENCH_ONLY=security runs only the hardening figures (bench/security.ts). */
const ONLY_SECURITY = process.env.BENCH_ONLY === 'security';
const ONLY_START = process.env.BENCH_ONLY === 'start';
const ONLY_SCENARIO = process.env.BENCH_ONLY === 'scenario';

interface Row {
  engine: string;
  target: string;
  'req/s': number;
  'p50 ms': number;
  'p99 ms': number;
  'sql/req': number | string;
  /** This process's CPU per request: the server under test plus autocannon's client work, the same for both. */
  'CPU ms/req': number;
  errors: number;
}

async function load(url: string, init: { method?: string; headers?: Record<string, string>; body?: string }) {
  const cpu0 = process.cpuUsage();
  const r = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, ...init } as autocannon.Options);
  const cpu = process.cpuUsage(cpu0);
  return {
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.non2xx,
    // CPU spent while the load ran, per request answered: steadier than req/s on a shared machine.
    cpuPerRequest: +((cpu.user + cpu.system) / 1000 / Math.max(1, r.requests.total)).toFixed(3),
  };
}

async function sqlPerRequest(hub: BenchHub, op: string): Promise<[number, number]> {
  const text = await (await fetch(`${hub.url}/metrics`, BENCH_METRICS_AUTH)).text();
  const sum = Number(new RegExp(`hub_graphql_sql_statements_sum\\{operation="${op}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  const count = Number(
    new RegExp(`hub_graphql_sql_statements_count\\{operation="${op}"\\} (\\d+)`).exec(text)?.[1] ?? 0,
  );
  return [sum, count];
}

async function benchEngine(adminUrl: string | null): Promise<Row[]> {
  const hub = await startBenchHub(adminUrl);
  // The floor prepares its statements where the hub does (PostgreSQL, unless HUB_PREPARED_STATEMENTS=0).
  const floor = await startFloor(hub.dbUrl, hub.poolSize, {
    prepare: hub.engine === 'postgres' && process.env.HUB_PREPARED_STATEMENTS !== '0',
  });
  const rows: Row[] = [];
  try {
    const [{ urn }] = await hub.dataSource.query(
      `SELECT urn FROM school WHERE status = 'OPEN' AND phase = 'PRIMARY' ORDER BY urn LIMIT 1`,
    );
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${hub.tokens.FINANCE}` };
    // Check the answers before timing them.
    const check: any = await (
      await fetch(`${hub.url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query: QUERIES.Nested600 }) })
    ).json();
    if (check.errors || check.data.schools.nodes.length !== 600)
      throw new Error('hub answer is wrong: ' + JSON.stringify(check.errors));
    const floorCheck: any = await (await fetch(`${floor.url}/?n=600`)).json();
    if (floorCheck.data.schools.nodes.length !== 600) throw new Error('floor answer is wrong');

    const floors: Record<keyof typeof QUERIES, string> = {
      Nested600: '/?n=600',
      Page20: '/page?n=20',
      Single: `/school?urn=${urn}`,
    };
    for (const op of Object.keys(QUERIES) as (keyof typeof QUERIES)[]) {
      const body = readBody(op, urn);
      // The floor must answer what the hub answers, or the ratio means nothing.
      const hubAnswer: any = await (await fetch(`${hub.url}/graphql`, { method: 'POST', headers, body })).json();
      const floorAnswer: any = await (await fetch(`${floor.url}${floors[op]}`)).json();
      // Same schools, same fields (money is a string in the hub's answer and a number in the floor's).
      const shape = (a: any) => {
        const list = a.data.school ? [a.data.school] : a.data.schools.nodes;
        return JSON.stringify([
          a.data.schools?.totalCount,
          list.map((x: any) => [x.urn, Object.keys(x), x.caseloads.length, x.community?.code]),
        ]);
      };
      if (hubAnswer.errors || shape(hubAnswer) !== shape(floorAnswer)) {
        throw new Error(`${op}: the hub and the floor answer differently: ${JSON.stringify(hubAnswer.errors ?? '')}`);
      }
      const [s0, c0] = await sqlPerRequest(hub, op);
      const r = await load(`${hub.url}/graphql`, { method: 'POST', headers, body });
      const [s1, c1] = await sqlPerRequest(hub, op);
      rows.push({
        engine: hub.engine,
        target: `hub ${op}`,
        'req/s': r.rps,
        'p50 ms': r.p50,
        'p99 ms': r.p99,
        'sql/req': c1 > c0 ? +((s1 - s0) / (c1 - c0)).toFixed(1) : '-',
        'CPU ms/req': r.cpuPerRequest,
        errors: r.errors,
      });
      const f = await load(`${floor.url}${floors[op]}`, {});
      rows.push({
        engine: hub.engine,
        target: `floor ${op} (1 SQL → HTTP)`,
        'req/s': f.rps,
        'p50 ms': f.p50,
        'p99 ms': f.p99,
        'sql/req': 1,
        'CPU ms/req': f.cpuPerRequest,
        errors: f.errors,
      });
    }
  } finally {
    await floor.stop();
    await hub.stop();
  }
  return rows;
}

/**
 * Runs `npm start` (the up-to-date check, then the hub) and times it to the first answered query. Its own
 * process group, so that stopping it stops the hub under npm too.
 */
async function timeStart(dataDir: string, compileCache: string): Promise<number> {
  const started = Date.now();
  const child = spawn('npm', ['start', '--silent'], {
    cwd: projectRoot(),
    env: {
      ...process.env,
      HUB_DATA_DIR: dataDir,
      PORT: '0',
      DATABASE_URL: '',
      LOG_LEVEL: 'warn',
      NODE_COMPILE_CACHE: compileCache,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /(http:\/\/localhost:\d+)\/graphql/.exec(out);
      if (m && out.includes('ANALYST')) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`hub exited with ${code}`)));
  });
  const tokens = JSON.parse(fs.readFileSync(path.join(dataDir, 'demo-tokens.json'), 'utf8'));
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.FINANCE}` },
    body: JSON.stringify({ query: '{ schools(first: 1) { totalCount } }' }),
  });
  const body: any = await res.json();
  if (!body.data?.schools?.totalCount) throw new Error('first query failed');
  const ms = Date.now() - started;
  await new Promise<void>((r) => {
    child.once('exit', () => r());
    process.kill(-child.pid!, 'SIGTERM');
  });
  // npm exits at once; the hub under it shuts down cleanly (a cold one finishes precomputing first): the next start
  // waits until it has let go of the data folder.
  const until = Date.now() + 30_000;
  while ((await isLocked(dataDir)) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const msSince = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

/**
 * The whole High Needs block for three financial years (2025-26 to 2027-28, nine terms) with every driver a
 * scenario can change, beside the one-term recompute: county funding, every block line, income, DSG position.
 */
async function benchWholeChain(hub: BenchHub): Promise<Record<string, unknown>[]> {
  const db = hub.dataSource.manager;
  // One read of every driver (the scenario request's), timed apart from the computation over it.
  const reads: number[] = [];
  let read!: [Awaited<ReturnType<typeof loadFundingInputs>>, Awaited<ReturnType<typeof loadRecordContext>>];
  let versions!: Awaited<ReturnType<typeof parameterVersions>>;
  for (let i = 0; i < 7; i++) {
    const t0 = process.hrtime.bigint();
    [read, versions] = await Promise.all([
      Promise.all([loadFundingInputs(db), loadRecordContext(db)]),
      parameterVersions(db),
    ]);
    reads.push(msSince(t0));
  }
  const [inputs, rc] = read;
  const base = versions.at(-1)!.parameters;
  const overrides: Partial<ModelParameters> = {
    protectionRate: '0.60',
    protectionRateByTerm: { 'AUTUMN-2026': '0.40', 'SPRING-2027': '0.20' },
    ehcpGrowth: '0.05',
    communityPotAnnual: { ...base.communityPotAnnual, '2026-27': '30000000.00', '2027-28': '32000000.00' },
    bandValues: { A: '2200.00', B: '4300.00', C: '6900.00', D: '9500.00', E: '12600.00' },
    block: {
      ...base.block,
      placeRates: { SPECIAL_PRE16: '10500.00', SPECIAL_POST16: '10500.00', AP: '10500.00', SRP: '6300.00' },
      legacyTopUpRates: { SRP: '9800.00', SPECIAL: '14600.00', AP: '8200.00' },
      bandSets: {
        ...base.block.bandSets,
        SPECIAL: { S1: '8200.00', S2: '11800.00', S3: '15400.00', S4: '19500.00', S5: '26600.00', S6: '34000.00' },
      },
      rateUplift: '0.03',
      growthBySetting: {
        MAINSTREAM: '0.08',
        SPECIAL: '0.08',
        SRP: '0.06',
        AP: '0.04',
        INDEPENDENT_NMSS: '0.05',
        POST_16_FE: '0.03',
        OTHER_LA: '0.04',
      },
      placeChange: { SPECIAL: '0.05', SRP: '0.10', AP: '0.02' },
      placementShifts: [
        { from: 'INDEPENDENT_NMSS', to: 'SPECIAL', share: '0.05', band: 'S3' },
        { from: 'OTHER_LA', to: 'SPECIAL', share: '0.10', band: 'S3' },
      ],
      schoolsBlockTransferRate: '0.010',
      allocationGrowth: '0.025',
      importExportRate: '6200.00',
      importChange: '0.02',
      exportChange: '-0.03',
    },
  };
  const oneTerm = { ...inputs, terms: inputs.terms.filter((t) => t.code === 'AUTUMN-2025') };
  const times = { oneTerm: [] as number[], wholeChain: [] as number[], wholeChainCpu: [] as number[] };
  let years = 0;
  let lines = 0;
  for (let i = 0; i < 7; i++) {
    let t0 = process.hrtime.bigint();
    computeFunding(oneTerm, { ...DEFAULT_MODEL_PARAMETERS, protectionRate: '0.60' });
    times.oneTerm.push(msSince(t0));
    t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    // A fresh timeline each run: nothing derived from the parameters carries over between runs.
    const on = scenarioOn(versions, overrides);
    const r = computeFunding(inputs, on);
    const bl = blockLinesOf(rc, r);
    const dsg = dsgOf(rc, bl, on);
    times.wholeChain.push(msSince(t0));
    const cpu = process.cpuUsage(cpu0);
    times.wholeChainCpu.push((cpu.user + cpu.system) / 1000);
    years = dsg.filter((y) => y.financialYearCode >= '2025-26').length;
    lines = bl.filter((l) => l.modelled && l.financialYear >= '2025-26').length;
  }
  return [
    {
      recompute: 'one term (Autumn 2025), protection at 60%',
      'schools x terms': `${inputs.fundedUrns.length} x 1`,
      'ms (median of 7)': +median(times.oneTerm).toFixed(1),
    },
    {
      recompute: 'whole chain, every driver changed, 2025-26 to 2027-28',
      'schools x terms': `${inputs.fundedUrns.length} x ${inputs.terms.length} + ${inputs.block.providers.length} specialist`,
      'ms (median of 7)': +median(times.wholeChain).toFixed(1),
      'CPU ms (median of 7)': +median(times.wholeChainCpu).toFixed(1),
      'computed lines / years': `${lines} / ${years}`,
      target: '< 200 ms',
    },
    {
      recompute: 'the one read of every driver (PGlite), before the computation',
      'ms (median of 7)': +median(reads).toFixed(1),
    },
    {
      recompute: 'read + whole chain',
      'ms (median of 7)': +(median(reads) + median(times.wholeChain)).toFixed(1),
      target: '< 200 ms',
    },
  ];
}

async function benchScenario(): Promise<Record<string, unknown>> {
  const hub = await startBenchHub(null);
  try {
    console.log('\nWhole High Needs block scenario (PGlite):');
    console.table(await benchWholeChain(hub));
    const inputs = await loadFundingInputs(hub.dataSource.manager);
    const params = { ...DEFAULT_MODEL_PARAMETERS, protectionRate: '0.60', ehcpGrowth: '0.08' };
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      const r = computeFunding(inputs, params);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      rows = r.schoolTerms.length + r.pots.length + r.notionalSen.length;
    }
    times.sort((a, b) => a - b);
    // The whole request: create, change, and read results + comparison over GraphQL.
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${hub.tokens.SUBGROUP}` };
    const gql = async (query: string, variables?: object): Promise<any> =>
      (
        await fetch(`${hub.url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) })
      ).json();
    const id = (await gql(`mutation { createScenario(name: "bench") { id } }`)).data.createScenario.id;
    await gql(
      `mutation($id: String!) { updateScenarioParameters(id: $id, parameters: { protectionRate: "0.60" }) { id } }`,
      { id },
    );
    const t0 = Date.now();
    const r = await gql(
      `query($id: String!) { scenario(id: $id) { results { totals { total } } comparison { total { difference } } } }`,
      { id },
    );
    const requestMs = Date.now() - t0;
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return {
      'schools x terms': inputs.fundedUrns.length + ' x ' + inputs.terms.length,
      'result rows': rows,
      'recompute ms (median of 5)': +times[2].toFixed(1),
      'GraphQL results + comparison ms': requestMs,
    };
  } finally {
    await hub.stop();
  }
}

async function main() {
  const adminUrl = process.env.BENCH_DATABASE_URL || null;
  if (process.env.BENCH_ONLY === 'disclosure') {
    console.log('Disclosure control: suppression patterns (PGlite):');
    console.table(await require('./disclosure-patterns').benchDisclosure());
    return;
  }
  console.log(
    `High Needs Hub bench · ${os.cpus().length} cores · ${SECONDS}s per load test, ${CONNECTIONS} connections · node ${process.version}\n`,
  );
  if (ONLY_SCENARIO) {
    console.log('Scenario recompute, whole county, all terms (PGlite):');
    console.table([await benchScenario()]);
    return;
  }

  if (ONLY_SECURITY) {
    await runExtras(EXTRAS.filter((e) => e.file === 'security.js'));
    return;
  }
  if (!ONLY_START) {
    const rows = [...(await benchEngine(null)), ...(adminUrl ? await benchEngine(adminUrl) : [])];
    console.log('Read API under load (autocannon):');
    console.table(rows);
    const TARGETS: Record<keyof typeof QUERIES, [string, number]> = {
      Nested600: ['the 600-school nested query', 0.85],
      Page20: ['the 20-school page', 0.7],
      Single: ['school(urn)', 0.6],
    };
    for (const engine of new Set(rows.map((r) => r.engine))) {
      for (const [op, [label, target]] of Object.entries(TARGETS)) {
        const hub = rows.find((r) => r.engine === engine && r.target === `hub ${op}`)!;
        const floor = rows.find((r) => r.engine === engine && r.target.startsWith(`floor ${op} `))!;
        const ratio = hub['req/s'] / floor['req/s'];
        console.log(
          `  ${engine}: hub/floor throughput on ${label} = ${ratio.toFixed(2)} (target ≥ ${target.toFixed(2)}${engine === 'postgres' ? '' : ', set on PostgreSQL'})`,
        );
      }
    }
    if (!adminUrl) console.log('  (set BENCH_DATABASE_URL=postgres://… to add the PostgreSQL run)');
  }
  if (ONLY_READ) return;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hnh-bench-start-'));
  // Cold: an empty data folder (migrations, demo data) and an empty compile cache; warm: both as cold left them.
  const cache = path.join(dir, 'compile-cache');
  const cold = await timeStart(path.join(dir, 'data'), cache);
  // Warm: the median of three starts, each as the one before left the folder and the cache (a shared machine's
  // noise moves one start by a tenth of a second or more).
  const warms: number[] = [];
  for (let i = 0; i < 3; i++) warms.push(await timeStart(path.join(dir, 'data'), cache));
  fs.rmSync(dir, { recursive: true, force: true });
  const s = (ms: number) => (ms / 1000).toFixed(2);
  console.log(
    `\nStart-up to the first answered query (npm start on an unchanged build, PGlite, node ${process.version}): cold ${s(cold)} s (target < 8 s), warm ${s(median(warms))} s (median of ${warms.map(s).join(', ')}; target < 1.5 s)`,
  );

  if (ONLY_START) return;
  console.log('\nScenario recompute, whole county, all terms (PGlite):');
  console.table([await benchScenario()]);

  await runExtras(EXTRAS);
}

async function runExtras(extras: typeof EXTRAS) {
  for (const extra of extras) {
    try {
      const mod = require(path.join(__dirname, extra.file));
      console.log(`\n${extra.title}:`);
      const result = await mod[extra.fn]();
      if (result) console.table(Array.isArray(result) ? result : [result]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') continue;
      console.log(`  failed: ${(err as Error).message}`);
      process.exitCode = 1;
    }
  }
}

/** Benchmarks owned by other modules, run when present. */
const EXTRAS = [
  {
    title: 'Allocation write-back: 5,000 rows in one call vs one at a time',
    file: 'allocation-writeback.js',
    fn: 'benchAllocations',
  },
  { title: 'GIAS import (50,000 rows) and XLSX export', file: 'imports.js', fn: 'benchImports' },
  { title: 'Excel add-in: function batching and large pulls', file: 'addin.js', fn: 'benchAddin' },
  {
    title: 'Security: hostile inputs, an expensive caller, a 20 MB import (PGlite)',
    file: 'security.js',
    fn: 'benchSecurity',
  },
  { title: 'Disclosure control: suppression patterns (PGlite)', file: 'disclosure-patterns.js', fn: 'benchDisclosure' },
];

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
