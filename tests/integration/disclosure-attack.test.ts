import { startTestHub, TestHub } from '../helpers/hub';
import { attack, AttackReport } from '../helpers/disclosure-attack';

let t: TestHub;
let resolvers: TestHub;
beforeAll(async () => {
  // The hub computes every pattern ahead (the Analyst's and the demo Chair's) before the attacker starts: the
  // attack then reads what any later reader would, and no request waits on a first computation.
  t = await startTestHub({ disclosurePrecomputeMs: 3_600_000 });
  resolvers = await startTestHub({ db: t.db, compiledReads: false });
  const started = Date.now();
  await t.hub.precomputeIdle();
  console.log(`patterns computed ahead in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}, 300_000);
afterAll(async () => {
  await resolvers?.stop();
  await t?.stop();
});

const summary = (r: AttackReport) =>
  `${r.role}: ${r.figures} figures read; ` +
  Object.entries(r.byKind)
    .map(([k, s]) => `${k} ${s.hidden} hidden, ${s.exact} recovered exactly, ${s.twoValues} narrowed to two values`)
    .join('; ') +
  `; ${r.moneyDisclosures.length} small band counts decoded from money (${(r.phases ?? []).join(', ')})` +
  (r.failures.length ? `\n  e.g. ${r.failures.slice(0, 5).join('\n  ')}` : '');

describe('disclosure control under attack (every kind and period of the demo data)', () => {
  it('an Analyst who reads every table, school, community, export and funding figure pins no hidden count', async () => {
    const r = await attack(t, resolvers, t.tokens.ANALYST, 'ANALYST', null);
    console.log(summary(r));
    expect(r.byKind.EHCP_PLANS.hidden).toBeGreaterThan(100);
    expect(r.byKind.SIPS_CHILDREN.hidden).toBeGreaterThan(10);
    expect(r.moneyDisclosures).toEqual([]);
    expect(r.failures).toEqual([]);
  }, 600_000);

  it('a Chair, exempt for their own community, pins no hidden count of the others', async () => {
    const r = await attack(t, resolvers, t.tokens.CHAIR, `CHAIR ${t.tokens.chairCommunity}`, t.tokens.chairCommunity);
    console.log(summary(r));
    expect(r.byKind.EHCP_PLANS.hidden).toBeGreaterThan(100);
    expect(r.moneyDisclosures).toEqual([]);
    expect(r.failures).toEqual([]);
  }, 600_000);
});
