import 'reflect-metadata';
import { startBenchHub } from './setup';

/** Times sequential 600-school nested queries (no concurrency) to see where a request's time goes. */
async function main() {
  const hub = await startBenchHub(process.env.BENCH_DATABASE_URL || null);
  const FIELDS = `urn name district { name area { name } }
    community(asOf: "2025-10-01") { code name pot(term: "AUTUMN-2025") { amount } }
    notionalSenBudget(financialYear: "2025-26") { total factors { factor senAmount } }
    funding(term: "AUTUMN-2025") { baseline protectedAmount communityShare total }
    caseloads(period: "2025/26-T2") { kind count suppressed }`;
  const body = JSON.stringify({ query: `query Nested600 { schools(first: 600) { nodes { ${FIELDS} } } }` });
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
