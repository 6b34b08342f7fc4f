import { installFakeOffice } from '../../addin/src/dev/fake-office';
import { HubClient } from '../../addin/src/core/graphql';
import { Batcher } from '../../addin/src/functions/batcher';
import { caseload, funding, notionalSen, pot, school } from '../../addin/src/functions/functions';
import { session } from '../../addin/src/shared/session';
import { FakeHub, FakeHubData, SCENARIO_50, SCENARIO_60 } from './helpers/fake-hub';

installFakeOffice(globalThis);

/** Each call settles to { value } or { error: "#N/A"|"#VALUE!", message }, as Excel would show it. */
async function settle(p: Promise<unknown>): Promise<{ value?: unknown; error?: string; message?: string }> {
  try {
    return { value: await p };
  } catch (e: any) {
    return { error: e.code, message: e.message };
  }
}

function connect(hub: FakeHub, opts: { timeoutMs?: number; windowMs?: number } = {}) {
  const s = session();
  s.token = 'finance-token';
  s.client = new HubClient({
    url: 'http://hub.test',
    token: () => s.token,
    fetchImpl: hub.fetch,
    timeoutMs: opts.timeoutMs ?? 30_000,
  });
  s.timeoutMs = opts.timeoutMs ?? 30_000;
  s.batcher = new Batcher({
    execute: () => (s.client ? (q, v) => s.client!.execute(q, v, s.timeoutMs) : null),
    windowMs: opts.windowMs ?? 100,
    timeoutMs: s.timeoutMs,
  });
  return s;
}

afterEach(() => {
  jest.useRealTimers();
  const s = session();
  s.client = undefined;
  s.batcher = undefined;
});

describe('custom functions', () => {
  it('answers 2,000 different calls made in one recalculation with at most 4 HTTP requests', async () => {
    const hub = new FakeHub(new FakeHubData(2000));
    const s = connect(hub);
    const calls = hub.data.schools.map((x) => funding(x.urn, 'SUMMER-2025', 'protected'));
    const results = await Promise.all(calls.map(settle));
    expect(hub.requests).toBeLessThanOrEqual(4);
    expect(s.batcher!.stats).toEqual({ requests: 4, operations: 2000 });
    expect(results.every((r) => typeof r.value === 'number')).toBe(true);
    const first = hub.data.funding(hub.data.schools[0].urn, 'SUMMER-2025');
    expect(results[0].value).toBe(Number(first.protectedAmount));
  });

  it('sends 2,000 identical calls as one operation in one request', async () => {
    const hub = new FakeHub();
    const s = connect(hub);
    const results = await Promise.all(Array.from({ length: 2000 }, () => settle(school(118003, 'name'))));
    expect(hub.requests).toBe(1);
    expect(s.batcher!.stats.operations).toBe(1);
    expect(new Set(results.map((r) => r.value))).toEqual(new Set(['School 4']));
  });

  it('settles every call as #N/A with a message when the hub never answers', async () => {
    jest.useFakeTimers();
    const hub = new FakeHub(new FakeHubData(600));
    hub.hang = true;
    connect(hub, { timeoutMs: 30_000 });
    const pending = hub.data.schools.map((x) => settle(notionalSen(x.urn, '2025-26')));
    await jest.advanceTimersByTimeAsync(100);
    expect(hub.requests).toBe(2);
    await jest.advanceTimersByTimeAsync(30_000);
    const results = await Promise.all(pending);
    expect(results).toHaveLength(600);
    expect(results.every((r) => r.error === '#N/A' && /did not answer within 30 s/.test(r.message!))).toBe(true);
  });

  it('gives #VALUE! naming the argument for a bad argument, without sending anything', async () => {
    const hub = new FakeHub();
    connect(hub);
    const r = await Promise.all([
      settle(funding('abc', 'SUMMER-2025', 'total')),
      settle(funding(118000, 'summer 2025', 'total')),
      settle(funding(118000, 'SUMMER-2025', 'salary')),
      settle(school(118000, 'colour')),
      settle(notionalSen(118000, 2025)),
    ]);
    expect(r.map((x) => x.error)).toEqual(['#VALUE!', '#VALUE!', '#VALUE!', '#VALUE!', '#VALUE!']);
    expect(r[0].message).toMatch(/^urn: /);
    expect(r[1].message).toMatch(/^term: /);
    expect(r[2].message).toMatch(/^line: .*protected/);
    expect(r[3].message).toMatch(/^field: /);
    expect(r[4].message).toMatch(/^year: /);
    expect(hub.requests).toBe(0);
  });

  it('gives #N/A for an unknown school while the other cells of the same batch keep their values', async () => {
    const hub = new FakeHub();
    connect(hub);
    const r = await Promise.all([
      settle(school(118001, 'name')),
      settle(school(999999, 'name')),
      settle(funding(118002, 'SUMMER-2025', 'total')),
      settle(funding('x', 'SUMMER-2025', 'total')),
      settle(pot('ASH-01', 'SUMMER-2025')),
      settle(pot('NOPE-01', 'SUMMER-2025')),
      settle(caseload('LINK_WORKER_SCHOOLS', 'LW-001')),
    ]);
    expect(hub.requests).toBe(1);
    expect(r[0]).toEqual({ value: 'School 2' });
    expect(r[1]).toMatchObject({ error: '#N/A', message: expect.stringMatching(/No school with URN 999999/) });
    expect(r[2].value).toBe(Number(hub.data.funding(118002, 'SUMMER-2025').total));
    expect(r[3].error).toBe('#VALUE!');
    expect(r[4]).toEqual({ value: 500000 });
    expect(r[5]).toMatchObject({ error: '#N/A', message: expect.stringMatching(/No community NOPE-01/) });
    expect(r[6]).toEqual({ value: 12 });
  });

  it('returns "c" for a suppressed caseload count', async () => {
    const hub = new FakeHub();
    const s = connect(hub);
    s.token = 'analyst-token';
    expect(await caseload('LINK_WORKER_SCHOOLS', 'LW-002')).toBe('c');
  });

  it('returns "c" for a banded top-up (and the total with it) the hub suppresses, never 0 or blank, and the other lines as numbers', async () => {
    const hub = new FakeHub();
    hub.data.suppressedBanding.add(118004);
    connect(hub);
    const [banded, total, baseline, open] = await Promise.all(
      [
        funding(118004, 'AUTUMN-2026', 'bandedTopUp'),
        funding(118004, 'AUTUMN-2026', 'total'),
        funding(118004, 'AUTUMN-2026', 'baseline'),
        funding(118005, 'AUTUMN-2026', 'bandedTopUp'),
      ].map(settle),
    );
    expect(banded).toEqual({ value: 'c' });
    expect(total).toEqual({ value: 'c' });
    expect(baseline.value).toBe(Number(hub.data.funding(118004, 'AUTUMN-2026').baseline));
    expect(open).toEqual({ value: 0 });
  });

  it("answers FUNDING and POT with a scenario argument from that scenario's results, next to the figures of record", async () => {
    const hub = new FakeHub();
    const s = connect(hub);
    const [urn, secondary] = [hub.data.schools[1].urn, hub.data.schools[0].urn];
    const r = await Promise.all([
      settle(funding(urn, 'SUMMER-2025', 'protected', SCENARIO_60)),
      settle(funding(urn, 'SUMMER-2025', 'total', SCENARIO_60.toUpperCase())),
      settle(funding(urn, 'AUTUMN-2025', 'baseline', ` ${SCENARIO_60} `)),
      settle(funding(secondary, 'SUMMER-2025', 'total', SCENARIO_60)),
      settle(pot('ASH-01', 'SUMMER-2025', SCENARIO_60)),
      settle(pot('ASH-02', 'SUMMER-2025', SCENARIO_50)),
      settle(funding(urn, 'SUMMER-2025', 'protected')),
      settle(pot('ASH-01', 'SUMMER-2025', '')),
    ]);
    const sc = hub.data.funding(urn, 'SUMMER-2025', '0.60');
    expect(r[0]).toEqual({ value: Number(sc.protectedAmount) });
    expect(r[0].value).toBe(Math.round((30000 + (urn % 1000) * 10) * 60) / 100);
    expect(r[1]).toEqual({ value: Number(sc.total) });
    expect(r[2]).toEqual({ value: Number(hub.data.funding(urn, 'AUTUMN-2025').baseline) });
    expect(r[3]).toEqual({ value: Number(hub.data.funding(secondary, 'SUMMER-2025').total) });
    expect(r[4]).toEqual({ value: 400000 });
    expect(r[5]).toEqual({ value: Number(hub.data.scenarioPot('ASH-02', 'SUMMER-2025', '0.50')) });
    // Figures of record in the same wave are untouched by the scenarios.
    expect(r[6]).toEqual({ value: Number(hub.data.funding(urn, 'SUMMER-2025').protectedAmount) });
    expect(r[6].value).not.toBe(r[0].value);
    expect(r[7]).toEqual({ value: 500000 });
    // Two scenarios (one of them asked three ways) + one request for the figures of record.
    expect(hub.requests).toBe(3);
    expect(s.batcher!.stats).toEqual({ requests: 3, operations: 2 + 2 });
  });

  it('sends one request per distinct scenario per wave, however many cells ask for it', async () => {
    const hub = new FakeHub(new FakeHubData(1000));
    const s = connect(hub);
    const calls = [
      ...hub.data.schools.map((x) => funding(x.urn, 'SUMMER-2025', 'total', SCENARIO_60)),
      ...hub.data.schools.map((x) => funding(x.urn, 'AUTUMN-2025', 'protected', SCENARIO_50)),
      ...Array.from({ length: 50 }, () => pot('ASH-01', 'AUTUMN-2025', SCENARIO_60)),
    ];
    const results = await Promise.all(calls.map(settle));
    expect(results.every((x) => typeof x.value === 'number')).toBe(true);
    expect(results[999].value).toBe(Number(hub.data.funding(hub.data.schools[999].urn, 'SUMMER-2025', '0.60').total));
    expect(hub.requests).toBe(2);
    expect(s.batcher!.stats).toEqual({ requests: 2, operations: 2 });
    const scenarioQueries = hub.lastQueries.filter((q) => /scenario\(id:/.test(q));
    expect(scenarioQueries).toHaveLength(2);
    expect(scenarioQueries.every((q) => (q.match(/scenario\(id:/g) ?? []).length === 1)).toBe(true);
    // The next recalculation is answered from the cache: no request at all.
    await funding(hub.data.schools[3].urn, 'SUMMER-2025', 'total', SCENARIO_60);
    expect(hub.requests).toBe(2);
  });

  it("gives #N/A with the hub's FORBIDDEN message for a role without scenarios, leaving the other cells alone", async () => {
    for (const token of ['chair-token', 'analyst-token']) {
      const hub = new FakeHub();
      const s = connect(hub);
      s.token = token;
      const [a, b, c] = await Promise.all([
        settle(funding(118001, 'SUMMER-2025', 'total', SCENARIO_60)),
        settle(pot('ASH-01', 'SUMMER-2025', SCENARIO_60)),
        settle(funding(118001, 'SUMMER-2025', 'total')),
      ]);
      const forbidden = {
        error: '#N/A',
        message: 'FORBIDDEN: Scenarios are for the High Needs Funding Sub-Group and Finance.',
      };
      expect(a).toEqual(forbidden);
      expect(b).toEqual(forbidden);
      expect(c).toEqual({ value: Number(hub.data.funding(118001, 'SUMMER-2025').total) });
      expect(hub.requests).toBe(2);
    }
    const hub = new FakeHub();
    const s = connect(hub);
    s.token = 'subgroup-token';
    expect(await funding(118001, 'SUMMER-2025', 'total', SCENARIO_50)).toBe(
      Number(hub.data.funding(118001, 'SUMMER-2025', '0.50').total),
    );
  });

  it('names what is wrong with a scenario call: unknown scenario, missing school or pot, a line scenarios do not have', async () => {
    const hub = new FakeHub();
    connect(hub);
    const r = await Promise.all([
      settle(funding(118001, 'SUMMER-2025', 'total', '5c000000-0000-4000-8000-0000000000ff')),
      settle(funding(999999, 'SUMMER-2025', 'total', SCENARIO_60)),
      settle(funding(118001, 'SPRING-2031', 'total', SCENARIO_60)),
      settle(pot('NOPE-01', 'SUMMER-2025', SCENARIO_60)),
      settle(funding(118001, 'SUMMER-2025', 'protectionRate', SCENARIO_60)),
      settle(funding(118001, 'SUMMER-2025', 'total', true)),
    ]);
    expect(r[0]).toEqual({
      error: '#N/A',
      message: 'No scenario 5c000000-0000-4000-8000-0000000000ff, or you have no access to it',
    });
    expect(r[1]).toEqual({
      error: '#N/A',
      message: `Scenario ${SCENARIO_60} has no result for URN 999999 in SUMMER-2025`,
    });
    expect(r[2]).toMatchObject({
      error: '#N/A',
      message: expect.stringMatching(/no result for URN 118001 in SPRING-2031/),
    });
    expect(r[3]).toEqual({ error: '#N/A', message: `Scenario ${SCENARIO_60} has no pot for NOPE-01 in SUMMER-2025` });
    expect(r[4]).toMatchObject({
      error: '#VALUE!',
      message: expect.stringMatching(
        /^line: a scenario has baseline, protectedAmount, communityShare, bandedTopUp, total only/,
      ),
    });
    expect(r[5]).toMatchObject({ error: '#VALUE!', message: expect.stringMatching(/^scenario: /) });
    expect(hub.requests).toBe(2);
  });

  it('gives #N/A saying so when not connected, and #N/A with the reason when the hub is unreachable', async () => {
    const none = await settle(school(118000, 'name'));
    expect(none).toMatchObject({ error: '#N/A', message: expect.stringMatching(/Not connected/) });
    const hub = new FakeHub();
    const s = connect(hub);
    s.client = new HubClient({
      url: 'http://hub.test',
      token: () => 'x',
      fetchImpl: (async () => {
        throw new TypeError('fetch failed');
      }) as any,
    });
    const r = await settle(school(118000, 'name'));
    expect(r).toMatchObject({ error: '#N/A', message: expect.stringMatching(/Cannot reach the hub/) });
  });

  it('caches answers until refresh clears them, and retries a failed call on the next recalculation', async () => {
    const hub = new FakeHub();
    const s = connect(hub);
    await school(118000, 'name');
    await school(118000, 'phase');
    expect(hub.requests).toBe(1);
    hub.data.schools[0].name = 'Renamed';
    expect(await school(118000, 'name')).toBe('School 1');
    s.batcher!.clear();
    expect(await school(118000, 'name')).toBe('Renamed');
    expect(hub.requests).toBe(2);
    s.token = 'expired-token';
    s.batcher!.clear();
    expect(await settle(school(118000, 'name'))).toMatchObject({
      error: '#N/A',
      message: expect.stringMatching(/expired/),
    });
    s.token = 'finance-token';
    expect(await school(118000, 'name')).toBe('Renamed');
    expect(hub.requests).toBe(4);
  });
});
