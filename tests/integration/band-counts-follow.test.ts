import { startTestHub, TestHub } from '../helpers/hub';

/**
 * The banded top-up of record is plans x band value x months / 12 per school and term (from the banding start):
 * importing EHCP band counts must move it at once, not at the next parameter change.
 */
let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ realData: true });
}, 120_000);
afterAll(() => t?.stop());

const topUp = async (urn: number, term: string) => {
  const r = await t.gql(
    `query($u: Int!, $t: String!) { school(urn: $u) { funding(term: $t) { bandedTopUp total } } }`,
    {
      u: urn,
      t: term,
    },
  );
  expect(r.body.errors).toBeUndefined();
  return r.body.data.school.funding;
};

const importCounts = (csv: string) =>
  fetch(`${t.url}/import/ehcp-band-counts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.tokens.FINANCE}`, 'content-type': 'text/csv', 'x-file-name': 'bands.csv' },
    body: csv,
  }).then(async (r) => ({ status: r.status, body: await r.json() }));

it('an EHCP band-count import recomputes the banded top-up of that term and later open terms, to the penny', async () => {
  const [s] = await t.db.dataSource.query(
    `SELECT b.school_urn AS urn FROM ehcp_band_count b JOIN school s ON s.urn = b.school_urn
      WHERE b.term_code = 'AUTUMN-2026' AND s.phase = 'PRIMARY' AND s.status = 'OPEN'
      GROUP BY b.school_urn HAVING sum(b.plans) BETWEEN 2 AND 6 ORDER BY b.school_urn LIMIT 1`,
  );
  const bands: { band: string; plans: number }[] = await t.db.dataSource.query(
    `SELECT band, plans FROM ehcp_band_count WHERE school_urn = $1 AND term_code = 'AUTUMN-2026' ORDER BY band`,
    [s.urn],
  );
  const VALUES: Record<string, number> = { A: 2000, B: 4000, C: 6500, D: 9000, E: 12000 };
  const pence = (plans: { band: string; plans: number }[]) =>
    Math.round((plans.reduce((a, b) => a + b.plans * VALUES[b.band], 0) * 4 * 100) / 12);
  const before = await topUp(s.urn, 'AUTUMN-2026');
  expect(Math.round(Number(before.bandedTopUp) * 100)).toBe(pence(bands));

  // Three more plans in band E this term.
  const e = bands.find((b) => b.band === 'E')?.plans ?? 0;
  const res = await importCounts(`schoolUrn,term,band,plans\n${s.urn},AUTUMN-2026,E,${e + 3}\n`);
  expect(res.status).toBe(200);
  const after = await topUp(s.urn, 'AUTUMN-2026');
  const want = pence([...bands.filter((b) => b.band !== 'E'), { band: 'E', plans: e + 3 }]);
  expect(Math.round(Number(after.bandedTopUp) * 100)).toBe(want);
  expect(want - pence(bands)).toBe(1200000); // 3 x £12,000 x 4/12
  expect(Math.round((Number(after.total) - Number(before.total)) * 100)).toBe(1200000);

  // The same file again changes nothing.
  const again = await importCounts(`schoolUrn,term,band,plans\n${s.urn},AUTUMN-2026,E,${e + 3}\n`);
  expect(again.status).toBe(200);
  expect((await topUp(s.urn, 'AUTUMN-2026')).bandedTopUp).toBe(after.bandedTopUp);
});
