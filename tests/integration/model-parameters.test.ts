import Decimal from 'decimal.js';
import { startTestHub, TestHub } from '../helpers/hub';
import { computeFunding } from '../../server/modules/funding/engine';
import { loadFundingInputs } from '../../server/modules/funding/funding-inputs';
import { parameterVersions, recordOn } from '../../server/modules/funding/parameters-of-record';
import { setModelParameters } from '../../server/modules/scenario/parameters.service';
import { OPERATIONS } from '../../server/auth/policy';
import { Role, Viewer } from '../../server/auth/roles';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(() => t?.stop());

const SET = `mutation($from: Date!, $p: ModelParametersInput!, $note: String) {
  setModelParameters(effectiveFrom: $from, parameters: $p, note: $note) { version termsRecomputed financialYearsRecomputed schoolTermRowsChanged potsChanged }
}`;
const sum = async (sql: string) => (await t.db.dataSource.query(sql))[0].v as string;

describe('changing the model parameters of record', () => {
  it('refuses roles other than Finance, and dates that are not the start of an open term', async () => {
    const sub = await t.gql(SET, { from: '2026-04-01', p: { protectionRate: '0.5' } }, t.tokens.SUBGROUP);
    expect(sub.body.errors[0].extensions.code).toBe('FORBIDDEN');
    const mid = await t.gql(SET, { from: '2026-05-01', p: { protectionRate: '0.5' } });
    expect(mid.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'effectiveFrom' });
    expect(mid.body.errors[0].message).toMatch(/2026-04-01 \(Summer 2026\)/);
    const closed = await t.gql(SET, { from: '2025-09-01', p: { protectionRate: '0.5' } });
    expect(closed.body.errors[0].message).toMatch(/Autumn 2025 is closed/);
  });

  it("refuses a change of record called from outside GraphQL by the policy's rule, in the policy's words", async () => {
    const rule = OPERATIONS['Mutation.setModelParameters'];
    expect(rule.roles).toEqual([Role.FINANCE]);
    const subgroup: Viewer = {
      subject: 'sub-group',
      name: 'Sub-Group',
      role: Role.SUBGROUP,
      communityCode: null,
      via: 'token',
    };
    const change = { effectiveFrom: '2026-04-01', parameters: { protectionRate: '0.5' } };
    await expect(setModelParameters(t.db.dataSource.manager, subgroup, change, 'API')).rejects.toMatchObject({
      extensions: { code: 'FORBIDDEN' },
      message: expect.stringContaining(rule.why),
    });
  });

  it('recomputes the figures of record from the effective term on, leaves earlier terms alone, and audits it', async () => {
    const autumn2025 = await sum(
      `SELECT sum(protected_amount)::text AS v FROM school_term_funding WHERE term_code = 'AUTUMN-2025'`,
    );
    const r = await t.gql(SET, {
      from: '2026-04-01',
      p: { protectionRate: '0.50' },
      note: 'Schools Funding Forum, 12 March 2026',
    });
    expect(r.body.errors).toBeUndefined();
    const change = r.body.data.setModelParameters;
    expect(change.version).toBe(2);
    // The demo data runs to the end of the Safety Valve agreement (Spring 2028).
    expect(change.termsRecomputed).toEqual([
      'SUMMER-2026',
      'AUTUMN-2026',
      'SPRING-2027',
      'SUMMER-2027',
      'AUTUMN-2027',
      'SPRING-2028',
    ]);
    expect(change.financialYearsRecomputed).toEqual(['2026-27', '2027-28']);
    expect(change.schoolTermRowsChanged).toBeGreaterThan(500);

    expect(
      await sum(`SELECT sum(protected_amount)::text AS v FROM school_term_funding WHERE term_code = 'AUTUMN-2025'`),
    ).toBe(autumn2025);
    const rows = await t.db.dataSource.query(
      `SELECT baseline, protected_amount, protection_rate FROM school_term_funding WHERE term_code = 'SUMMER-2026' LIMIT 50`,
    );
    for (const row of rows) {
      expect(row.protection_rate).toBe('0.5000');
      expect(row.protected_amount).toBe(
        new Decimal(row.baseline).times('0.5').toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2),
      );
    }
    const line = await sum(
      `SELECT budget::text AS v FROM high_needs_block_line WHERE financial_year_code = '2026-27' AND line_code = 'INDIVIDUAL_PROTECTION'`,
    );
    expect(line).toBe(
      await sum(
        `SELECT sum(f.protected_amount)::text AS v FROM school_term_funding f JOIN funding_term t ON t.code = f.term_code WHERE t.financial_year_code = '2026-27'`,
      ),
    );

    const [audit] = await t.db.dataSource.query(
      `SELECT role, reason, after FROM audit_log WHERE entity = 'MODEL_PARAMETERS' AND entity_id = '2'`,
    );
    expect(audit.role).toBe('FINANCE');
    expect(audit.reason).toBe('Schools Funding Forum, 12 March 2026');
    expect(audit.after.parameters.protectionRate).toBe('0.5');
  });

  it("keeps every stored figure equal to what the model computes with each term's parameters", async () => {
    const inputs = await loadFundingInputs(t.db.dataSource.manager);
    const model = computeFunding(inputs, recordOn(await parameterVersions(t.db.dataSource.manager)));
    const stored = await t.db.dataSource.query(
      `SELECT school_urn AS "schoolUrn", term_code AS "termCode", protected_amount AS p, community_share AS c FROM school_term_funding`,
    );
    const by = new Map(model.schoolTerms.map((r) => [`${r.schoolUrn}|${r.termCode}`, r]));
    for (const s of stored) {
      const m = by.get(`${s.schoolUrn}|${s.termCode}`)!;
      expect([m.protectedAmount, m.communityShare]).toEqual([s.p, s.c]);
    }
  });

  it('refuses parameters that would set a pot below what is already approved, changing nothing', async () => {
    const [m] = await t.db.dataSource.query(
      `SELECT m.school_urn, m.community_code, p.amount FROM community_membership m JOIN community_pot p ON p.community_code = m.community_code AND p.term_code = 'AUTUMN-2026'
        WHERE m.effective_from <= '2026-09-01' AND (m.effective_to IS NULL OR m.effective_to > '2026-09-01') ORDER BY m.school_urn LIMIT 1`,
    );
    const submit = await t.gql(`mutation($i: SubmitAllocationsInput!) { submitAllocations(input: $i) { applied } }`, {
      i: {
        idempotencyKey: 'params-test-approve-1',
        decisionReference: 'D-1',
        reason: 'test',
        rows: [
          {
            schoolUrn: m.school_urn,
            communityCode: m.community_code,
            term: 'AUTUMN-2026',
            amount: new Decimal(m.amount).div(2).toFixed(2),
            purpose: 'Outreach',
            status: 'APPROVED',
          },
        ],
      },
    });
    expect(submit.body.errors).toBeUndefined();
    expect(submit.body.data.submitAllocations.applied).toBe(true);
    const versions = await sum(`SELECT count(*)::text AS v FROM model_parameter_set`);
    const r = await t.gql(SET, {
      from: '2026-09-01',
      p: { communityPotAnnual: [{ financialYear: '2026-27', amount: '1000.00' }] },
    });
    expect(r.body.errors[0].extensions).toMatchObject({ code: 'CONFLICT', reason: 'OVER_POT' });
    expect(r.body.errors[0].message).toContain(m.community_code);
    expect(await sum(`SELECT count(*)::text AS v FROM model_parameter_set`)).toBe(versions);
  });
});
