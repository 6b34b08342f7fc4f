/*
 * Add-in bench: custom-function batching (2,000 calls → requests, end-to-end time) and a 10,000-row pull
 * into the fake Excel host (syncs, bytes per sync, time). Against HUB_URL + HUB_TOKEN when given,
 * otherwise against the in-process fake hub over the hub's published schema.
 */
import { installFakeOffice } from './fake-office';
import { HubClient } from '../core/graphql';
import { Batcher } from '../functions/batcher';
import { funding } from '../functions/functions';
import { session } from '../shared/session';
import { ExcelGateway } from '../gateway/excel';
import { AddinActions } from '../taskpane/actions';
import { FakeHub, FakeHubData } from '../../../tests/addin/helpers/fake-hub';

async function main() {
  const host = installFakeOffice(globalThis);
  const realUrl = process.env.HUB_URL;
  const fake = new FakeHub(new FakeHubData(2000));
  const s = session();
  s.token = realUrl ? process.env.HUB_TOKEN : 'finance-token';
  s.client = new HubClient({ url: realUrl ?? 'http://fake-hub', token: () => s.token, fetchImpl: realUrl ? undefined : fake.fetch });
  s.batcher = new Batcher({ execute: () => (q, v) => s.client!.execute(q, v) });

  let urns: number[] = fake.data.schools.map((x) => x.urn);
  let term = 'SUMMER-2025';
  if (realUrl) {
    const d = await s.client.request<any>('{ schools(first: 1000) { nodes { urn } } periods { fundingTerms { code } } }');
    const have: number[] = d.schools.nodes.map((n: any) => n.urn);
    term = d.periods.fundingTerms[0].code;
    // 2,000 distinct calls: every school, then the same schools for a second term.
    urns = have;
    const term2 = d.periods.fundingTerms[1]?.code ?? term;
    const t0 = Date.now();
    const before = s.client.requests;
    const calls = [...have.map((u) => funding(u, term, 'total')), ...have.map((u) => funding(u, term2, 'total'))].slice(0, 2000);
    const r = await Promise.allSettled(calls);
    report('functions', calls.length, s.client.requests - before, Date.now() - t0, r.filter((x) => x.status === 'rejected').length, realUrl);
  } else {
    const t0 = Date.now();
    const r = await Promise.allSettled(urns.map((u) => funding(u, term, 'total')));
    report('functions', urns.length, fake.requests, Date.now() - t0, r.filter((x) => x.status === 'rejected').length, 'in-process fake hub');
  }

  // 10,000-row pull: the fake hub supplies the rows (the demo county has ~600 schools), the fake host counts.
  const big = new FakeHub(new FakeHubData(10_000));
  const actions = new AddinActions({ port: new ExcelGateway(), fetchImpl: big.fetch });
  await actions.connect('http://fake-hub', 'finance-token');
  host.workbook.syncs = [];
  const t1 = Date.now();
  const res = await actions.insert('schools', {});
  const syncs = host.workbook.syncs;
  const data = syncs.filter((x) => x.cells > 0);
  console.log(JSON.stringify({
    bench: 'addin.pull',
    rows: res.rows,
    syncs: syncs.length,
    dataSyncs: data.length,
    maxCellsPerSync: Math.max(...syncs.map((x) => x.cells)),
    maxBytesPerSync: Math.max(...syncs.map((x) => x.bytes)),
    meanBytesPerDataSync: Math.round(data.reduce((n, x) => n + x.bytes, 0) / data.length),
    writeMsInFakeHost: res.stats.ms,
    totalMs: Date.now() - t1,
  }));
}

function report(bench: string, calls: number, requests: number, ms: number, failed: number, against: string) {
  console.log(JSON.stringify({ bench: `addin.${bench}`, calls, requests, ms, failed, against }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
