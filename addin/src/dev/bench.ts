/*
 * Add-in bench, run by addin/bench.mjs (bundled to CommonJS, in a child process of its own: it installs the
 * fake Office host on globalThis). Prints one JSON line per figure:
 *   addin.functions           2,000 distinct =HNH.FUNDING calls in one wave → HTTP requests, end-to-end ms
 *   addin.functions.scenario  2,000 =HNH.FUNDING(..., scenario) calls in one wave → requests, ms
 *   addin.pull.real           the scenario table (every school × term) from the hub into the fake host
 *   addin.pull                10,000 rows paged from the in-process fake hub into the fake host: syncs, bytes
 * HUB_URL + HUB_TOKEN (a FINANCE token) select the hub; without them everything runs against the fake hub.
 */
import { installFakeOffice } from './fake-office';
import { HubClient } from '../core/graphql';
import { Batcher } from '../functions/batcher';
import { funding } from '../functions/functions';
import { session } from '../shared/session';
import { ExcelGateway } from '../gateway/excel';
import { AddinActions } from '../app/actions';
import { FakeHub, FakeHubData, SCENARIO_60 } from '../../../tests/addin/helpers/fake-hub';

const CALLS = 2000;

function line(bench: string, figures: Record<string, unknown>) {
  console.log(JSON.stringify({ bench, ...figures }));
}

/** One recalculation wave of custom-function calls on a fresh batcher (nothing cached). */
async function wave(make: () => Promise<unknown>[]) {
  const s = session();
  s.batcher = new Batcher({ execute: () => (q, v) => s.client!.execute(q, v) });
  const before = s.client!.requests;
  const t0 = performance.now();
  const r = await Promise.allSettled(make());
  const ms = Math.round(performance.now() - t0);
  const failed = r.filter((x): x is PromiseRejectedResult => x.status === 'rejected');
  return {
    calls: r.length,
    requests: s.client!.requests - before,
    operations: s.batcher.stats.operations,
    ms,
    failed: failed.length,
    ...(failed.length ? { firstError: String(failed[0].reason?.message ?? failed[0].reason) } : {}),
  };
}

async function main() {
  const host = installFakeOffice(globalThis);
  const realUrl = process.env.HUB_URL;
  const against = realUrl ? `hub ${realUrl}` : 'in-process fake hub';
  const fake = new FakeHub(new FakeHubData(CALLS));
  const s = session();
  s.token = realUrl ? process.env.HUB_TOKEN : 'finance-token';
  s.client = new HubClient({
    url: realUrl ?? 'http://fake-hub',
    token: () => s.token,
    fetchImpl: realUrl ? undefined : fake.fetch,
  });

  // 2,000 distinct (school, term) pairs that have funding: on the real hub, those the model has results for.
  let pairs: (readonly [number, string])[] = fake.data.schools.map((x) => [x.urn, 'SUMMER-2025'] as const);
  let scenarioId = SCENARIO_60;
  if (realUrl) {
    const c = await s.client.request<any>(
      'mutation { createScenario(name: "add-in bench: protection at 60%") { id version } }',
    );
    scenarioId = c.createScenario.id;
    await s.client.request<any>(
      'mutation($id: String!, $v: Int) { updateScenarioParameters(id: $id, parameters: { protectionRate: "0.60" }, baseVersion: $v) { id } }',
      { id: scenarioId, v: c.createScenario.version },
    );
    const d = await s.client.request<any>(
      'query($id: String!) { scenario(id: $id) { results { schools { schoolUrn term } } } }',
      { id: scenarioId },
    );
    // Newest terms first, so the calls are the ones a workbook would make today.
    const rows: { schoolUrn: number; term: string }[] = d.scenario.results.schools;
    const order = [...new Set(rows.map((r) => r.term))].reverse();
    pairs = order
      .flatMap((t) => rows.filter((r) => r.term === t).map((r) => [r.schoolUrn, t] as const))
      .slice(0, CALLS);
  }
  const terms = new Set(pairs.map(([, t]) => t));

  line('addin.functions', {
    ...(await wave(() => pairs.map(([u, t]) => funding(u, t, 'total')))),
    distinctTerms: terms.size,
    against,
  });
  line('addin.functions.scenario', {
    ...(await wave(() => pairs.map(([u, t]) => funding(u, t, 'total', scenarioId)))),
    scenarios: 1,
    against,
  });

  // The scenario table from the hub (every school and term, with the comparison) into the fake host.
  {
    const actions = new AddinActions({ port: new ExcelGateway(), fetchImpl: realUrl ? undefined : fake.fetch });
    await actions.connect(realUrl ?? 'http://fake-hub', s.token!);
    host.workbook.syncs = [];
    const t0 = performance.now();
    const res = await actions.insert('scenario', { scenario: scenarioId });
    line('addin.pull.real', {
      dataset: 'scenario',
      rows: res.rows,
      syncs: host.workbook.syncs.length,
      ms: Math.round(performance.now() - t0),
      writeMsInFakeHost: res.stats.ms,
      against,
    });
  }

  // 10,000-row pull: the fake hub supplies the rows (the demo county has ~600 schools), the fake host counts.
  const big = new FakeHub(new FakeHubData(10_000));
  const actions = new AddinActions({ port: new ExcelGateway(), fetchImpl: big.fetch });
  await actions.connect('http://fake-hub', 'finance-token');
  host.workbook.syncs = [];
  const t1 = performance.now();
  const res = await actions.insert('schools', {});
  const syncs = host.workbook.syncs;
  const data = syncs.filter((x) => x.cells > 0);
  line('addin.pull', {
    rows: res.rows,
    hubRequests: big.requests - 1,
    syncs: syncs.length,
    dataSyncs: data.length,
    maxCellsPerSync: Math.max(...syncs.map((x) => x.cells)),
    maxBytesPerSync: Math.max(...syncs.map((x) => x.bytes)),
    meanBytesPerDataSync: Math.round(data.reduce((n, x) => n + x.bytes, 0) / data.length),
    writeMsInFakeHost: res.stats.ms,
    totalMs: Math.round(performance.now() - t1),
    against: 'in-process fake hub (10,000 schools) → fake Excel host',
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
