import { installFakeOffice } from '../../addin/src/dev/fake-office';
import { HubClient } from '../../addin/src/core/graphql';
import { Batcher } from '../../addin/src/functions/batcher';
import { caseload, funding, notionalSen, pot, school } from '../../addin/src/functions/functions';
import { session } from '../../addin/src/shared/session';
import { FakeHub, FakeHubData } from './helpers/fake-hub';

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
  s.client = new HubClient({ url: 'http://hub.test', token: () => s.token, fetchImpl: hub.fetch, timeoutMs: opts.timeoutMs ?? 30_000 });
  s.timeoutMs = opts.timeoutMs ?? 30_000;
  s.batcher = new Batcher({ execute: () => (s.client ? (q, v) => s.client!.execute(q, v, s.timeoutMs) : null), windowMs: opts.windowMs ?? 100, timeoutMs: s.timeoutMs });
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

  it('answers a scenario argument with #N/A saying scenarios are not available yet, without breaking the batch', async () => {
    const hub = new FakeHub();
    connect(hub);
    const [a, b, c] = await Promise.all([settle(funding(118000, 'SUMMER-2025', 'total', 'SC-1')), settle(pot('ASH-01', 'SUMMER-2025', 'SC-1')), settle(funding(118000, 'SUMMER-2025', 'total'))]);
    expect(a).toMatchObject({ error: '#N/A', message: expect.stringMatching(/Scenarios are not available/) });
    expect(b).toMatchObject({ error: '#N/A', message: expect.stringMatching(/Scenarios are not available/) });
    expect(c.value).toBe(Number(hub.data.funding(118000, 'SUMMER-2025').total));
  });

  it('gives #N/A saying so when not connected, and #N/A with the reason when the hub is unreachable', async () => {
    const none = await settle(school(118000, 'name'));
    expect(none).toMatchObject({ error: '#N/A', message: expect.stringMatching(/Not connected/) });
    const hub = new FakeHub();
    const s = connect(hub);
    s.client = new HubClient({ url: 'http://hub.test', token: () => 'x', fetchImpl: (async () => { throw new TypeError('fetch failed'); }) as any });
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
    expect(await settle(school(118000, 'name'))).toMatchObject({ error: '#N/A', message: expect.stringMatching(/expired/) });
    s.token = 'finance-token';
    expect(await school(118000, 'name')).toBe('Renamed');
    expect(hub.requests).toBe(4);
  });
});
