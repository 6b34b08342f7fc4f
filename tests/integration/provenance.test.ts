import Decimal from 'decimal.js';
import { startTestHub, TestHub } from '../helpers/hub';

/*
 * Issue 11, item 4: figures of record know where they came from. A parameter change recomputes only computed
 * figures and reports the imported ones it kept; replaceImported replaces them, audited; an imported pot's
 * schools' shares follow it; GraphQL shows `source` on each figure.
 */
let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ realData: true });
});
afterAll(() => t?.stop());

const q = (sql: string, params: unknown[] = []): Promise<any[]> => t.db.dataSource.query(sql, params);
async function post(kind: string, csv: string, fileName: string) {
  const res = await fetch(`${t.url}/import/${kind}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.tokens.FINANCE}`, 'x-file-name': fileName },
    body: csv,
  });
  return { status: res.status, body: await res.json() };
}
const SET = `mutation($from: Date!, $p: ModelParametersInput!, $replace: Boolean) {
  setModelParameters(effectiveFrom: $from, parameters: $p, note: "provenance test", replaceImported: $replace) {
    version potsChanged importedKept { figure key kind file } importedReplaced { figure key kind file } } }`;
const SOURCE = 'source { kind file importedAt by parameterVersion }';

describe('provenance of the figures of record', () => {
  let pot: { c: string; amount: string };
  let sen: { urn: number; pct: string; formula: string };

  it("marks an imported pot IMPORTED (file, who, when) and splits its schools' shares from the imported amount", async () => {
    [pot] = await q(
      `SELECT community_code AS c, amount FROM community_pot WHERE term_code = 'AUTUMN-2026' ORDER BY community_code LIMIT 1`,
    );
    const r = await post(
      'community-pots',
      `communityCode,term,amount\n${pot.c},AUTUMN-2026,500000.00\n`,
      'pots-autumn-2026.csv',
    );
    expect(r.status).toBe(200);
    const g = await t.gql(
      `{ community(code: "${pot.c}") { pot(term: "AUTUMN-2026") { amount ${SOURCE} } schools { funding(term: "AUTUMN-2026") { communityShare } } } }`,
    );
    expect(g.body.errors).toBeUndefined();
    const c = g.body.data.community;
    expect(c.pot.amount).toBe('500000.00');
    expect(c.pot.source).toMatchObject({
      kind: 'IMPORTED',
      file: 'pots-autumn-2026.csv',
      by: 'Demo finance officer',
      parameterVersion: null,
    });
    expect(Math.abs(Date.parse(c.pot.source.importedAt) - Date.now())).toBeLessThan(60_000);
    const shares = c.schools.map((s: any) => s.funding?.communityShare).filter(Boolean);
    expect(shares.reduce((a: Decimal, s: string) => a.plus(s), new Decimal(0)).toFixed(2)).toBe('500000.00');
  });

  it('keeps an imported notional SEN line at 100% through a parameter change that does not concern it', async () => {
    [sen] = await q(
      `SELECT school_urn AS urn, sen_percentage AS pct, formula_amount AS formula FROM notional_sen_factor WHERE financial_year_code = '2026-27' AND factor = 'BASIC_ENTITLEMENT' ORDER BY school_urn LIMIT 1`,
    );
    expect(sen.pct).toBe('0.0500');
    const r = await post(
      'notional-sen',
      `schoolUrn,financialYear,factor,formulaAmount,senPercentage\n${sen.urn},2026-27,BASIC_ENTITLEMENT,${sen.formula},1\n`,
      'nsen-2026-27.xlsx',
    );
    expect(r.status).toBe(200);
    const change = await t.gql(SET, { from: '2026-04-01', p: { protectionRate: '0.70' } });
    expect(change.body.errors).toBeUndefined();
    const kept = change.body.data.setModelParameters.importedKept;
    expect(kept).toEqual(
      expect.arrayContaining([
        { figure: 'POT', key: `${pot.c}|AUTUMN-2026`, kind: 'IMPORTED', file: 'pots-autumn-2026.csv' },
        {
          figure: 'NOTIONAL_SEN_LINE',
          key: `${sen.urn}|2026-27|BASIC_ENTITLEMENT`,
          kind: 'IMPORTED',
          file: 'nsen-2026-27.xlsx',
        },
      ]),
    );
    const [line] = await q(
      `SELECT sen_percentage AS pct, sen_amount AS amount, source_kind AS kind FROM notional_sen_factor WHERE school_urn = $1 AND financial_year_code = '2026-27' AND factor = 'BASIC_ENTITLEMENT'`,
      [sen.urn],
    );
    expect(line).toEqual({ pct: '1.0000', amount: sen.formula, kind: 'IMPORTED' });
    const [p] = await q(
      `SELECT amount, source_kind AS kind FROM community_pot WHERE community_code = $1 AND term_code = 'AUTUMN-2026'`,
      [pot.c],
    );
    expect(p).toEqual({ amount: '500000.00', kind: 'IMPORTED' });
    // A computed pot of the same year was recomputed and says with which version.
    const g = await t.gql(
      `{ community(code: "${pot.c}") { pot(term: "SPRING-2027") { ${SOURCE} } } school(urn: ${sen.urn}) { notionalSenBudget(financialYear: "2026-27") { factors { factor ${SOURCE} } } } }`,
    );
    expect(g.body.data.community.pot.source).toMatchObject({
      kind: 'COMPUTED',
      parameterVersion: change.body.data.setModelParameters.version,
      file: null,
    });
    const factors = g.body.data.school.notionalSenBudget.factors;
    expect(factors.find((f: any) => f.factor === 'BASIC_ENTITLEMENT').source).toMatchObject({
      kind: 'IMPORTED',
      file: 'nsen-2026-27.xlsx',
    });
    expect(factors.find((f: any) => f.factor === 'FSM_EVER6').source).toMatchObject({
      kind: 'COMPUTED',
      parameterVersion: change.body.data.setModelParameters.version,
    });
  });

  it('replaces imported figures when asked (replaceImported: true), says which, and audits it', async () => {
    const change = await t.gql(SET, { from: '2026-04-01', p: { protectionRate: '0.70' }, replace: true });
    expect(change.body.errors).toBeUndefined();
    const res = change.body.data.setModelParameters;
    expect(res.importedKept).toEqual([]);
    expect(res.importedReplaced).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ figure: 'POT', key: `${pot.c}|AUTUMN-2026` }),
        expect.objectContaining({ figure: 'NOTIONAL_SEN_LINE' }),
      ]),
    );
    const [line] = await q(
      `SELECT sen_percentage AS pct, source_kind AS kind, source_parameter_version AS v FROM notional_sen_factor WHERE school_urn = $1 AND financial_year_code = '2026-27' AND factor = 'BASIC_ENTITLEMENT'`,
      [sen.urn],
    );
    expect(line).toEqual({ pct: '0.0500', kind: 'COMPUTED', v: res.version });
    const [p] = await q(
      `SELECT amount, source_kind AS kind FROM community_pot WHERE community_code = $1 AND term_code = 'AUTUMN-2026'`,
      [pot.c],
    );
    expect(p.kind).toBe('COMPUTED');
    expect(p.amount).not.toBe('500000.00');
    const [audit] = await q(`SELECT after FROM audit_log WHERE entity = 'MODEL_PARAMETERS' AND entity_id = $1`, [
      String(res.version),
    ]);
    expect(audit.after.replaceImported).toBe(true);
    expect(audit.after.importedReplaced.length).toBe(res.importedReplaced.length);
  });

  it('shows where a block line came from', async () => {
    const g = await t.gql(`{ highNeedsBlock(financialYear: "2026-27") { lines { lineCode ${SOURCE} } } }`);
    expect(g.body.errors).toBeUndefined();
    const line = g.body.data.highNeedsBlock.lines.find((l: any) => l.lineCode === 'COMMUNITY_POTS');
    expect(line.source).toMatchObject({ kind: 'COMPUTED' });
    expect(line.source.parameterVersion).toBeGreaterThan(1);
  });
});
