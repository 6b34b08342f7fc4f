import Decimal from 'decimal.js';
import { startTestHub, TestHub } from '../helpers/hub';
import { computeFunding } from '../../server/modules/funding/engine';
import { loadFundingInputs } from '../../server/modules/funding/funding-inputs';
import { recordParameters } from '../../server/modules/funding/parameters-of-record';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(() => t?.stop());

const CREATE = `mutation($name: String!, $basedOn: String) { createScenario(name: $name, basedOn: $basedOn) { id state version owner } }`;
const UPDATE = `mutation($id: String!, $p: ModelParametersInput!, $v: Int) { updateScenarioParameters(id: $id, parameters: $p, baseVersion: $v) { id version parameters } }`;
const cents = (s: string) => BigInt(s.replace('.', ''));

async function snapshotOfRecord() {
  const [row] = await t.db.dataSource.query(
    `SELECT (SELECT sum(protected_amount)::text FROM school_term_funding) AS p, (SELECT sum(amount)::text FROM community_pot) AS pots,
            (SELECT count(*)::int FROM school_term_funding) AS n, (SELECT sum(budget)::text FROM high_needs_block_line) AS b`,
  );
  return row;
}

describe('the funding model of record', () => {
  it('reproduces every stored figure exactly from the stored inputs and the parameters of record', async () => {
    const inputs = await loadFundingInputs(t.db.dataSource.manager);
    const { parameters, version } = await recordParameters(t.db.dataSource.manager);
    expect(version).toBe(1);
    const model = computeFunding(inputs, parameters);
    const stored = await t.db.dataSource.query(
      `SELECT school_urn AS "schoolUrn", term_code AS "termCode", baseline, protection_rate AS "protectionRate", protected_amount AS "protectedAmount",
              community_share AS "communityShare", banded_top_up AS "bandedTopUp" FROM school_term_funding`,
    );
    const byKey = new Map(model.schoolTerms.map((r) => [`${r.schoolUrn}|${r.termCode}`, r]));
    expect(model.schoolTerms.length).toBe(stored.length);
    for (const s of stored) expect(byKey.get(`${s.schoolUrn}|${s.termCode}`)).toEqual(s);
    const pots = await t.db.dataSource.query(
      `SELECT community_code AS "communityCode", term_code AS "termCode", amount FROM community_pot`,
    );
    const potBy = new Map(model.pots.map((p) => [`${p.communityCode}|${p.termCode}`, p.amount]));
    for (const p of pots) expect(potBy.get(`${p.communityCode}|${p.termCode}`)).toBe(p.amount);
    const [line] = await t.db.dataSource.query(
      `SELECT budget FROM high_needs_block_line WHERE financial_year_code = '2025-26' AND line_code = 'INDIVIDUAL_PROTECTION'`,
    );
    expect(model.blockLines.get('2025-26')!.INDIVIDUAL_PROTECTION).toBe(line.budget);
  });

  it('exposes the versioned parameters of record with author and effective date', async () => {
    const r = await t.gql(
      `{ modelParameters { version effectiveFrom author parameters } modelParameterVersions { version } }`,
    );
    expect(r.body.data.modelParameters).toMatchObject({ version: 1, effectiveFrom: '2025-04-01', author: 'demo data' });
    expect(r.body.data.modelParameters.parameters.protectionRate).toBe('0.75');
  });
});

describe('scenarios for the Sub-Group', () => {
  it('models protection at 60%: protected amounts fall by exactly a fifth, and the figures of record do not move', async () => {
    const before = await snapshotOfRecord();
    const created = await t.gql(CREATE, { name: 'Protection at 60%' }, t.tokens.SUBGROUP);
    expect(created.body.errors).toBeUndefined();
    const id = created.body.data.createScenario.id;
    expect(created.body.data.createScenario).toMatchObject({ state: 'PRIVATE', version: 1 });
    const upd = await t.gql(UPDATE, { id, p: { protectionRate: '0.60' }, v: 1 }, t.tokens.SUBGROUP);
    expect(upd.body.errors).toBeUndefined();
    expect(upd.body.data.updateScenarioParameters.version).toBe(2);

    const r = await t.gql(
      `query($id: String!) { scenario(id: $id) { results(term: "AUTUMN-2025") { totals { protectedAmount } schools { schoolUrn baseline protectedAmount } computeMs }
        comparison(term: "AUTUMN-2025") { total { baseline scenario difference } schools { schoolUrn difference } communities { key } } } }`,
      { id },
      t.tokens.SUBGROUP,
    );
    expect(r.body.errors).toBeUndefined();
    const res = r.body.data.scenario.results;
    expect(res.schools.length).toBeGreaterThan(500);
    for (const s of res.schools.slice(0, 50)) {
      expect(s.protectedAmount).toBe(
        new Decimal(s.baseline).times('0.60').toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2),
      );
    }
    const [{ p }] = await t.db.dataSource.query(
      `SELECT sum(protected_amount)::text AS p FROM school_term_funding WHERE term_code = 'AUTUMN-2025'`,
    );
    const cmp = r.body.data.scenario.comparison;
    expect(cents(cmp.total.difference)).toBe(cents(res.totals.protectedAmount) - cents(p));
    expect(cmp.total.difference.startsWith('-')).toBe(true);
    expect(cmp.communities).toEqual([]);
    expect(await snapshotOfRecord()).toEqual(before);
  });

  it('models a bigger pot and EHCP growth, with community and block-line differences', async () => {
    const id = (await t.gql(CREATE, { name: 'Pot £30m, EHCPs +8%' }, t.tokens.FINANCE)).body.data.createScenario.id;
    await t.gql(
      UPDATE,
      { id, p: { communityPotAnnual: [{ financialYear: '2026-27', amount: '30000000.00' }], ehcpGrowth: '0.08' } },
      t.tokens.FINANCE,
    );
    const r = await t.gql(
      `query($id: String!) { scenario(id: $id) { comparison(term: "AUTUMN-2026") { communities { key baseline scenario difference } blockLines { key period difference } }
        results(term: "AUTUMN-2026") { communities { pot } } } }`,
      { id },
    );
    expect(r.body.errors).toBeUndefined();
    const pots = r.body.data.scenario.results.communities.map((c: any) => c.pot);
    expect(pots.reduce((a: bigint, x: string) => a + cents(x), 0n)).toBe(cents('10000000.00')); // £30m x 4/12
    const diffs = r.body.data.scenario.comparison.communities;
    expect(diffs).toHaveLength(53);
    expect(diffs.every((d: any) => !d.difference.startsWith('-'))).toBe(true);
    const lines = r.body.data.scenario.comparison.blockLines
      .filter((l: any) => l.period === '2026-27')
      .map((l: any) => l.key);
    expect(lines).toContain('COMMUNITY_POTS');
  });

  it('compares one scenario with another', async () => {
    const a = (await t.gql(CREATE, { name: 'A' }, t.tokens.SUBGROUP)).body.data.createScenario.id;
    await t.gql(UPDATE, { id: a, p: { protectionRate: '0.50' } }, t.tokens.SUBGROUP);
    const b = (await t.gql(CREATE, { name: 'B from A', basedOn: a }, t.tokens.SUBGROUP)).body.data.createScenario.id;
    const same = await t.gql(
      `query($b: String!, $a: String) { scenario(id: $b) { comparison(against: $a) { total { difference } schools { schoolUrn } } } }`,
      { a, b },
      t.tokens.SUBGROUP,
    );
    expect(same.body.data.scenario.comparison).toEqual({ total: { difference: '0.00' }, schools: [] });
  });

  it('keeps a private scenario from other Sub-Group members until it is shared, and refuses changes once locked', async () => {
    const id = (await t.gql(CREATE, { name: 'Mine' }, t.tokens.FINANCE)).body.data.createScenario.id;
    const other = await t.gql(`query($id: String!) { scenario(id: $id) { id } }`, { id }, t.tokens.SUBGROUP);
    expect(other.body.data.scenario).toBeNull();
    await t.gql(
      `mutation($id: String!) { setScenarioState(id: $id, state: SHARED) { state } }`,
      { id },
      t.tokens.FINANCE,
    );
    const shared = await t.gql(`query($id: String!) { scenario(id: $id) { id state } }`, { id }, t.tokens.SUBGROUP);
    expect(shared.body.data.scenario.state).toBe('SHARED');
    const notOwner = await t.gql(UPDATE, { id, p: { protectionRate: '0.5' } }, t.tokens.SUBGROUP);
    expect(notOwner.body.errors[0].extensions.code).toBe('FORBIDDEN');
    await t.gql(
      `mutation($id: String!) { setScenarioState(id: $id, state: LOCKED) { state } }`,
      { id },
      t.tokens.FINANCE,
    );
    const locked = await t.gql(UPDATE, { id, p: { protectionRate: '0.5' } }, t.tokens.FINANCE);
    expect(locked.body.errors[0]).toMatchObject({ extensions: { code: 'CONFLICT', reason: 'LOCKED' } });
  });

  it('refuses a stale version, bad parameters, and roles that do not model', async () => {
    const id = (await t.gql(CREATE, { name: 'Checks' }, t.tokens.SUBGROUP)).body.data.createScenario.id;
    await t.gql(UPDATE, { id, p: { protectionRate: '0.7' }, v: 1 }, t.tokens.SUBGROUP);
    const stale = await t.gql(UPDATE, { id, p: { protectionRate: '0.6' }, v: 1 }, t.tokens.SUBGROUP);
    expect(stale.body.errors[0].extensions).toMatchObject({
      code: 'CONFLICT',
      reason: 'STALE_VERSION',
      currentVersion: 2,
    });
    const rate = await t.gql(UPDATE, { id, p: { protectionRate: '1.5' } }, t.tokens.SUBGROUP);
    expect(rate.body.errors[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'parameters.protectionRate',
    });
    const weights = await t.gql(
      UPDATE,
      { id, p: { communityWeights: { pupils: '0.5', fsmPupils: '0.4' } } },
      t.tokens.SUBGROUP,
    );
    expect(weights.body.errors[0].message).toMatch(/sum to 1/);
    const term = await t.gql(UPDATE, { id, p: { protectedTerms: ['WINTER-2026'] } }, t.tokens.SUBGROUP);
    expect(term.body.errors[0].message).toMatch(/Unknown funding term\(s\) WINTER-2026/);
    for (const role of ['ANALYST', 'CHAIR'] as const) {
      const r = await t.gql(CREATE, { name: 'x' }, t.tokens[role]);
      expect(r.body.errors[0].extensions.code).toBe('FORBIDDEN');
    }
  });

  it('audits every scenario change', async () => {
    const id = (await t.gql(CREATE, { name: 'Audited' }, t.tokens.SUBGROUP)).body.data.createScenario.id;
    await t.gql(UPDATE, { id, p: { ehcpGrowth: '0.05' } }, t.tokens.SUBGROUP);
    const rows = await t.db.dataSource.query(
      `SELECT action, role, after FROM audit_log WHERE entity = 'SCENARIO' AND entity_id = $1 ORDER BY id`,
      [id],
    );
    expect(rows.map((r: any) => r.action)).toEqual(['CREATE', 'UPDATE']);
    expect(rows[1].role).toBe('SUBGROUP');
    expect(rows[1].after.ehcpGrowth).toBe('0.05');
  });
});
