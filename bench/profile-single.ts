import 'reflect-metadata';
import fs from 'node:fs';
import inspector from 'node:inspector';
import { startBenchHub } from './setup';
import { QUERIES, readBody, ReadQuery } from './read-queries';

/**
 * Profiles one read query under load from another process (autocannon, 8 connections): where the hub's
 * per-request time goes. QUERY=Single (school(urn), the default), Page20 or Nested600; PROFILE=file.cpuprofile
 * keeps the profile; SECONDS sets the load's length; DETAIL=pkg,pkg breaks those packages down by function.
 */
async function main() {
  const hub = await startBenchHub(process.env.BENCH_DATABASE_URL || null);
  const [{ urn }] = await hub.dataSource.query(
    `SELECT urn FROM school WHERE status = 'OPEN' AND phase = 'PRIMARY' ORDER BY urn LIMIT 1`,
  );
  const op = (process.env.QUERY ?? 'Single') as ReadQuery;
  if (!(op in QUERIES)) throw new Error(`QUERY must be one of ${Object.keys(QUERIES).join(', ')}`);
  const body = readBody(op, urn);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${hub.tokens.FINANCE}` };
  for (let i = 0; i < 50; i++) await (await fetch(`${hub.url}/graphql`, { method: 'POST', headers, body })).text();
  const session = new inspector.Session();
  session.connect();
  const post = (m: string, p?: object) =>
    new Promise<any>((res, rej) => session.post(m, p ?? {}, (e, r) => (e ? rej(e) : res(r))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 100 });
  await post('Profiler.start');
  // The load comes from another process, so the profile is the hub's alone.
  const cannon = require.resolve('autocannon/autocannon.js');
  const args = [
    cannon,
    '-j',
    '-c',
    '8',
    '-d',
    process.env.SECONDS ?? '5',
    '-m',
    'POST',
    '-H',
    'content-type=application/json',
    '-H',
    `authorization=Bearer ${hub.tokens.FINANCE}`,
    '-b',
    body,
    `${hub.url}/graphql`,
  ];
  const run = await new Promise<string>((resolve) => {
    const { spawn } = require('node:child_process');
    let out = '';
    const c = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    c.stdout.on('data', (d: Buffer) => (out += d));
    c.on('exit', () => resolve(out));
  });
  const result = JSON.parse(run);
  console.log(`${op} under load: ${Math.round(result.requests.average)} req/s, p50 ${result.latency.p50} ms`);
  const { profile } = await post('Profiler.stop');
  if (process.env.PROFILE) fs.writeFileSync(process.env.PROFILE, JSON.stringify(profile));
  // Self time by package or hub file.
  const byId = new Map<number, any>(profile.nodes.map((x: any) => [x.id, x]));
  const self = new Map<string, number>();
  const dt = profile.timeDeltas as number[];
  profile.samples.forEach((id: number, i: number) => {
    const node = byId.get(id);
    const url: string = node.callFrame.url || '(native)';
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    const key = m
      ? process.env.DETAIL && process.env.DETAIL.split(',').includes(m[1])
        ? m[1] + ':' + node.callFrame.functionName + ' ' + url.split('/').pop()
        : m[1]
      : url.includes('/dist/')
        ? url.slice(url.indexOf('/dist/') + 6) + ':' + node.callFrame.functionName
        : url.startsWith('node:')
          ? url
          : node.callFrame.functionName || url;
    self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30))
    console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  await hub.stop();
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
