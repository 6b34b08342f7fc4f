import 'reflect-metadata';
import { startBenchHub } from './setup';
import { readBody } from './read-queries';

/** Times sequential 600-school nested queries (no concurrency) to see where a request's time goes. */
async function main() {
  const hub = await startBenchHub(process.env.BENCH_DATABASE_URL || null);
  const body = readBody('Nested600', 0);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${hub.tokens.FINANCE}` };
  const inspector = await import('node:inspector');
  const fs = await import('node:fs');
  const session = new inspector.Session();
  session.connect();
  const post = (m: string, p?: object) =>
    new Promise<any>((res, rej) => session.post(m, p ?? {}, (e, r) => (e ? rej(e) : res(r))));
  await fetch(`${hub.url}/graphql`, { method: 'POST', headers, body });
  if (process.env.PROFILE) {
    await post('Profiler.enable');
    await post('Profiler.start');
  }
  for (let i = 0; i < Number(process.env.N ?? 8); i++) {
    const t0 = Date.now();
    const r = await fetch(`${hub.url}/graphql`, { method: 'POST', headers, body });
    const text = await r.text();
    console.log(`request ${i}: ${Date.now() - t0} ms, ${text.length} bytes`);
  }
  if (process.env.PROFILE) {
    const { profile } = await post('Profiler.stop');
    fs.writeFileSync(process.env.PROFILE, JSON.stringify(profile));
  }
  await hub.stop();
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
