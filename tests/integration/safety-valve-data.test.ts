import ExcelJS from 'exceljs';
import { startTestHub, TestHub } from '../helpers/hub';
import { localAuthority, setLocalAuthority } from '../../server/common/local-authority';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ realData: true });
});
afterAll(() => t?.stop());

const q = <T = any>(sql: string, params: unknown[] = []): Promise<T[]> => t.db.dataSource.query(sql, params);

async function post(kind: string, body: Buffer | string, token: string = t.tokens.FINANCE, file = 'sv-test.csv') {
  const payload: BodyInit = typeof body === 'string' ? body : new Uint8Array(body);
  const res = await fetch(`${t.url}/import/${kind}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'x-file-name': file },
    body: payload,
  });
  return { status: res.status, body: await res.json() };
}

const REPORT = `query($p: String!) { safetyValveMonitoringReport(period: $p) {
  localAuthority periodCode agreement { code version effectiveFrom reportsPerYear dfeContribution }
  inYear { plan forecast variance } cumulative { plan forecast variance } instalmentThisPeriod instalmentStatus instalmentsToDate
  kpis { kpiCode plan actual variance } trajectory { label cumulativePlan cumulativeForecast } } }`;
const report = async (p: string) => (await t.gql(REPORT, { p })).body.data.safetyValveMonitoringReport;

const AGREEMENT_HEADER =
  'agreementCode,effectiveFrom,firstFinancialYear,lastFinancialYear,dfeContribution,laContribution,deficitAtStart,deficitAtStartDate,reportsPerYear,broughtForwardDate,broughtForwardPlan,broughtForwardOutturn,note';

describe('Safety Valve agreement versions', () => {
  let before: any;
  beforeAll(async () => {
    before = await report('2025-26-Q2');
  });

  it('holds the demo agreement as version 1, in effect from its starting date, reporting four times a year', async () => {
    const r = await t.gql(
      `{ safetyValve { agreement { code version effectiveFrom reportsPerYear } agreementVersions { code version } } }`,
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.safetyValve.agreement).toEqual({
      code: 'SV-KENT-2022',
      version: 1,
      effectiveFrom: '2022-03-31',
      reportsPerYear: 4,
    });
    expect(r.body.data.safetyValve.agreementVersions).toEqual([{ code: 'SV-KENT-2022', version: 1 }]);
    expect(before.localAuthority).toBe(`${localAuthority().code} ${localAuthority().name}`);
  });

  it('imports a DfE revision as version 2: the agreement of record from its date, audited, with provenance; earlier returns keep version 1', async () => {
    const csv =
      `${AGREEMENT_HEADER}\r\n` +
      'SV-KENT-2022,2025-04-01,2022-23,2028-29,150000000.00,85000000,97000000.00,31/03/2022,3,2023-03-31,-83000000.00,-85800000.00,Extended a year; three reports a year\r\n';
    const r = await post('safety-valve-agreement', csv);
    expect(r.status).toBe(200);
    expect(r.body.report).toMatchObject({ applied: true, created: 1, updated: 0, unchanged: 0, errorCount: 0 });
    const g = await t.gql(
      `{ safetyValve { agreement { version effectiveFrom lastFinancialYear dfeContribution laContribution reportsPerYear note } agreementVersions { version effectiveFrom } } }`,
    );
    expect(g.body.data.safetyValve.agreement).toEqual({
      version: 2,
      effectiveFrom: '2025-04-01',
      lastFinancialYear: '2028-29',
      dfeContribution: '150000000.00',
      laContribution: '85000000.00',
      reportsPerYear: 3,
      note: 'Extended a year; three reports a year',
    });
    expect(g.body.data.safetyValve.agreementVersions).toEqual([
      { version: 1, effectiveFrom: '2022-03-31' },
      { version: 2, effectiveFrom: '2025-04-01' },
    ]);
    const [row] = await q(
      `SELECT source_kind, source_file, source_by, source_at IS NOT NULL AS at FROM safety_valve_agreement WHERE version = 2`,
    );
    expect(row).toEqual({
      source_kind: 'IMPORTED',
      source_file: 'sv-test.csv',
      source_by: 'Demo finance officer',
      at: true,
    });
    const audits = await q(
      `SELECT action, after, source FROM audit_log WHERE entity = 'IMPORT' AND entity_id = 'safety-valve-agreement:SV-KENT-2022|2025-04-01'`,
    );
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      action: 'CREATE',
      source: 'API',
      after: { version: 2, dfeContribution: '150000000.00' },
    });

    // A return made before the revision is regenerated as sent, against version 1; a later one against version 2.
    expect((await report('2024-25-Q2')).agreement).toMatchObject({ version: 1, dfeContribution: '140000000.00' });
    const after = await report('2025-26-Q2');
    expect(after.agreement).toMatchObject({ version: 2, reportsPerYear: 3, dfeContribution: '150000000.00' });
    // The DSG position is the block's: the revision of the totals does not move it.
    expect({ ...after, agreement: null }).toEqual({ ...before, agreement: null });
  });

  it('changes nothing when the same file is imported again, and corrects a version in place when its figures change', async () => {
    const line =
      'SV-KENT-2022,2025-04-01,2022-23,2028-29,150000000.00,85000000,97000000.00,2022-03-31,3,2023-03-31,-83000000.00,-85800000.00,Extended a year; three reports a year';
    const same = await post('safety-valve-agreement', `${AGREEMENT_HEADER}\n${line}\n`);
    expect(same.body.report).toMatchObject({ applied: false, created: 0, updated: 0, unchanged: 1 });
    const fixed = await post(
      'safety-valve-agreement',
      `${AGREEMENT_HEADER}\n${line.replace('150000000.00', '151000000.00')}\n`,
    );
    expect(fixed.body.report).toMatchObject({ applied: true, created: 0, updated: 1 });
    const rows = await q(`SELECT version, dfe_contribution FROM safety_valve_agreement ORDER BY version`);
    expect(rows).toEqual([
      { version: 1, dfe_contribution: '140000000.00' },
      { version: 2, dfe_contribution: '151000000.00' },
    ]);
  });

  it('rejects a whole file with every problem named by line, column, value and reason, writing nothing', async () => {
    const csv =
      `${AGREEMENT_HEADER}\n` +
      'SV-KENT-2022,2026-02-30,2027-28,2022-23,-5,82000000,97000000,2022-03-31,13,2023-03-31,,,\n' +
      'SV-KENT-2022,2026-06-01,2022-23,2028-30,1,1,1,2022-03-31,3,,,,\n' +
      'SV-KENT-2022,2026-09-01,2022-23,2028-29,1,1,1,2022-03-31,3,,,,fine on its own\n';
    const count = (await q(`SELECT count(*)::int AS n FROM safety_valve_agreement`))[0].n;
    const r = await post('safety-valve-agreement', csv);
    expect(r.status).toBe(400);
    const errs = r.body.report.errors.map((e: any) => [e.line, e.column, e.value]);
    expect(errs).toEqual(
      expect.arrayContaining([
        [2, 'effectiveFrom', '2026-02-30'],
        [2, 'dfeContribution', '-5'],
        [2, 'lastFinancialYear', '2022-23'],
        [2, 'reportsPerYear', '13'],
        [2, 'broughtForwardPlan', ''],
        [2, 'broughtForwardOutturn', ''],
        [3, 'lastFinancialYear', '2028-30'],
      ]),
    );
    expect(r.body.report.errors.find((e: any) => e.column === 'reportsPerYear').reason).toBe(
      'must be from 1 to 12 reports a year',
    );
    expect(r.body.report).toMatchObject({ applied: false, rejected: 2 });
    expect((await q(`SELECT count(*)::int AS n FROM safety_valve_agreement`))[0].n).toBe(count);
  });

  it('says what a file of the wrong kind lacks', async () => {
    const r = await post('safety-valve-agreement', 'communityCode,term,amount\nASH-01,AUTUMN-2026,1\n');
    expect(r.status).toBe(400);
    expect(r.body.errors[0].message).toMatch(
      /lacks the columns "agreementCode", "effectiveFrom".*of the safety-valve-agreement template/,
    );
  });

  it('offers an XLSX template whose header is the import’s columns', async () => {
    const res = await fetch(`${t.url}/import/templates/safety-valve-instalments.xlsx`, {
      headers: { authorization: `Bearer ${t.tokens.ANALYST}` },
    });
    expect(res.status).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await res.arrayBuffer()) as unknown as ArrayBuffer);
    expect(wb.getWorksheet('Data')!.getRow(1).values).toEqual([
      undefined,
      'periodCode',
      'financialYear',
      'dueOn',
      'amount',
      'status',
      'paidOn',
    ]);
  });
});

describe('Safety Valve reports at the agreement’s cadence, plan, instalments and KPIs', () => {
  const REPORT_HEADER =
    'periodCode,financialYear,reportNumber,reportDate,inYearPlan,inYearForecast,cumulativePlan,cumulativeForecast,dfeInstalment';

  it('refuses a fourth report in a year once the version in effect asks for three, and accepts the third', async () => {
    const bad = await post(
      'safety-valve-reports',
      `${REPORT_HEADER}\n2026-27-Q4,2026-27,4,2027-05-15,17000000,1000000,-20000000,-40000000,\n`,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.report.errors).toEqual([
      {
        line: 2,
        column: 'reportNumber',
        value: '4',
        reason: 'is more than the 3 reports a year agreement SV-KENT-2022 (version 2) asks for',
      },
    ]);
    const wrongYear = await post(
      'safety-valve-reports',
      `${REPORT_HEADER}\n2025-26-R3,2026-27,3,2026-01-31,17000000,1000000,-20000000,-40000000,\n`,
    );
    expect(wrongYear.body.report.errors.map((e: any) => [e.column, e.reason])).toEqual(
      expect.arrayContaining([
        ['periodCode', 'is not in the financial year 2026-27 given on the line'],
        ['reportDate', 'is before the financial year 2026-27 it reports on starts (2026-04-01)'],
      ]),
    );
    const ok = await post(
      'safety-valve-reports',
      `${REPORT_HEADER}\n2026-27-Q3,2026-27,3,2027-01-31,17000000.00,1500000.00,-20000000.00,-41000000.00,\n`,
    );
    expect(ok.status).toBe(200);
    expect(ok.body.report).toMatchObject({ applied: true, created: 1 });
    const rep = await report('2026-27-Q3');
    expect(rep.periodCode).toBe('2026-27-Q3');
    expect(rep.agreement.version).toBe(2);
    const [row] = await q(
      `SELECT quarter, source_kind, source_file FROM safety_valve_report WHERE period_code = '2026-27-Q3'`,
    );
    expect(row).toEqual({ quarter: 3, source_kind: 'IMPORTED', source_file: 'sv-test.csv' });
  });

  it("refuses a plan year outside the agreement's years and sets one inside, audited", async () => {
    const bad = await post('safety-valve-plan', 'financialYear,inYearPlan\n2029-30,1000\n2026-27,abc\n');
    expect(bad.status).toBe(400);
    expect(bad.body.report.errors.map((e: any) => [e.line, e.column])).toEqual(
      expect.arrayContaining([
        [2, 'financialYear'],
        [3, 'inYearPlan'],
      ]),
    );
    const ok = await post('safety-valve-plan', 'financialYear,inYearPlan\n2026-27,-1250000.50\n');
    expect(ok.body.report).toMatchObject({ applied: true, updated: 1 });
    const g = await t.gql(`{ safetyValve { plan { financialYear inYearPlan source { kind file by } } } }`);
    expect(g.body.data.safetyValve.plan.find((p: any) => p.financialYear === '2026-27')).toEqual({
      financialYear: '2026-27',
      inYearPlan: '-1250000.50',
      source: { kind: 'IMPORTED', file: 'sv-test.csv', by: 'Demo finance officer' },
    });
  });

  it('records an instalment paid late, refusing inconsistent status and dates', async () => {
    const header = 'periodCode,financialYear,dueOn,amount,status,paidOn';
    const bad = await post(
      'safety-valve-instalments',
      `${header}\n2026-27-Q2,2026-27,2026-10-31,3500000,PAID,\n2026-27-Q1,2026-27,2026-07-31,3500000,PAID_LATE,2026-07-01\n2026-27-Q3,2026-27,2027-01-31,3500000,WITHHELD,2027-02-01\n2026-27-Q4,2026-27,2027-05-15,3500000,LOST,\n`,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.report.errors.map((e: any) => [e.line, e.column, e.reason])).toEqual([
      [2, 'status', 'is PAID: give the day it was paid (paidOn)'],
      [3, 'paidOn', 'is not after the due date 2026-07-31: a late payment comes after it'],
      [4, 'paidOn', 'is given, but an instalment WITHHELD has not been paid: leave it blank or set the status'],
      [5, 'status', 'is not one of DUE, PAID, PAID_LATE, WITHHELD'],
    ]);
    const ok = await post(
      'safety-valve-instalments',
      `${header}\n2026-27-Q2,2026-27,2026-10-31,3500000,paid_late,2026-11-20\n`,
    );
    expect(ok.body.report).toMatchObject({ applied: true, updated: 1 });
    const g = await t.gql(`{ safetyValve { instalments { periodCode status paidOn source { kind } } } }`);
    expect(g.body.data.safetyValve.instalments.find((i: any) => i.periodCode === '2026-27-Q2')).toEqual({
      periodCode: '2026-27-Q2',
      status: 'PAID_LATE',
      paidOn: '2026-11-20',
      source: { kind: 'IMPORTED' },
    });
  });

  it('reads real date cells from the XLSX template', async () => {
    const res = await fetch(`${t.url}/import/templates/safety-valve-instalments.xlsx`, {
      headers: { authorization: `Bearer ${t.tokens.FINANCE}` },
    });
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await res.arrayBuffer()) as unknown as ArrayBuffer);
    wb.getWorksheet('Data')!.addRow([
      '2026-27-Q3',
      '2026-27',
      new Date(Date.UTC(2027, 0, 31)),
      3500000,
      'PAID',
      new Date(Date.UTC(2027, 1, 3)),
    ]);
    const r = await post(
      'safety-valve-instalments',
      Buffer.from(await wb.xlsx.writeBuffer()),
      undefined,
      'dfe-payments.xlsx',
    );
    expect(r.body.report?.errors ?? r.body.errors).toEqual([]);
    expect(r.status).toBe(200);
    expect(r.body.report).toMatchObject({ format: 'xlsx', applied: true, updated: 1 });
    const [row] = await q(
      `SELECT due_on::text AS due, paid_on::text AS paid, status, source_file AS file FROM safety_valve_instalment WHERE period_code = '2026-27-Q3'`,
    );
    expect(row).toEqual({ due: '2027-01-31', paid: '2027-02-03', status: 'PAID', file: 'dfe-payments.xlsx' });
  });

  it('imports KPIs for a report the hub holds, refusing one for a report it does not, and the return shows them', async () => {
    const header = 'periodCode,kpiCode,name,unit,plan,actual';
    const bad = await post(
      'safety-valve-kpis',
      `${header}\n2030-31-Q1,EHCP_TOTAL,EHCPs,COUNT,1,2\n2026-27-Q3,MAINSTREAM,Mainstream,PERCENT,40,140\n`,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.report.errors.map((e: any) => [e.line, e.column, e.reason])).toEqual([
      [3, 'actual', 'is a percentage: from 0 to 100'],
    ]);
    const bad2 = await post('safety-valve-kpis', `${header}\n2030-31-Q1,EHCP_TOTAL,EHCPs,COUNT,1,2\n`);
    expect(bad2.body.report.errors).toEqual([
      {
        line: 2,
        column: 'periodCode',
        value: '2030-31-Q1',
        reason: 'is not a monitoring report held by the hub: import the report first',
      },
    ]);
    const ok = await post(
      'safety-valve-kpis',
      `${header}\n2026-27-Q3,EHCP_TOTAL,EHCPs maintained,COUNT,"21,000",21456\n`,
    );
    expect(ok.body.report).toMatchObject({ applied: true, created: 1 });
    const rep = await report('2026-27-Q3');
    expect(rep.kpis).toEqual([{ kpiCode: 'EHCP_TOTAL', plan: '21000', actual: '21456', variance: '456' }]);
  });

  it('reads a KPI value as its unit says: GBP by the one money parser, a count or a percentage by the decimal reader, a comma out of place refused', async () => {
    const header = 'periodCode,kpiCode,name,unit,plan,actual';
    const bad = await post(
      'safety-valve-kpis',
      `${header}\n2026-27-Q3,SPEND,Spend,GBP,"12,50",1234567890123\n2026-27-Q3,EHCP_TOTAL,EHCPs,COUNT,,"1,2,3"\n`,
    );
    expect(bad.status).toBe(400);
    const comma = 'has a comma that is not a thousands separator (groups of three digits, as in 1,250.00)';
    expect(bad.body.report.errors.map((e: any) => [e.line, e.column, e.value, e.reason])).toEqual([
      [2, 'plan', '12,50', `is not an amount of pounds and pence: it ${comma}. Write it as 1250.00 or 1,250.00.`],
      [
        2,
        'actual',
        '1234567890123',
        'is not an amount of pounds and pence: it has more than 12 digits before the point. Write it as 1250.00 or 1,250.00.',
      ],
      [3, 'actual', '1,2,3', `is not a number: it ${comma}.`],
    ]);
    const [held] = await q(
      `SELECT plan, actual FROM safety_valve_kpi WHERE period_code = '2026-27-Q3' AND kpi_code = 'EHCP_TOTAL'`,
    );
    expect(held).toEqual({ plan: '21000.00', actual: '21456.00' });
  });
});

describe('Safety Valve Finance mutations', () => {
  const CREATE = `mutation($i: SafetyValveAgreementVersionInput!, $r: String) {
    createSafetyValveAgreementVersion(input: $i, reason: $r) { code version effectiveFrom reportsPerYear dfeContribution } }`;
  const input = (over: Record<string, unknown> = {}) => ({
    agreementCode: 'SV-KENT-2022',
    effectiveFrom: '2026-09-01',
    firstFinancialYear: '2022-23',
    lastFinancialYear: '2028-29',
    dfeContribution: '152000000.00',
    laContribution: '85000000.00',
    deficitAtStart: '97000000.00',
    deficitAtStartDate: '2022-03-31',
    reportsPerYear: 3,
    ...over,
  });

  it('creates a version by hand: MANUAL provenance, audited as SAFETY_VALVE, and the agreement of record moves to it', async () => {
    const r = await t.gql(CREATE, { i: input(), r: 'DfE letter of 1 September 2026' });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.createSafetyValveAgreementVersion).toEqual({
      code: 'SV-KENT-2022',
      version: 3,
      effectiveFrom: '2026-09-01',
      reportsPerYear: 3,
      dfeContribution: '152000000.00',
    });
    const [row] = await q(`SELECT source_kind, source_file, source_by FROM safety_valve_agreement WHERE version = 3`);
    expect(row).toEqual({ source_kind: 'MANUAL', source_file: null, source_by: 'Demo finance officer' });
    const [audit] = await q(
      `SELECT action, reason, after FROM audit_log WHERE entity = 'SAFETY_VALVE' AND entity_id = 'safety-valve-agreement:SV-KENT-2022|2026-09-01'`,
    );
    expect(audit).toMatchObject({ action: 'CREATE', reason: 'DfE letter of 1 September 2026', after: { version: 3 } });
    const g = await t.gql(`{ safetyValve { agreement { version } } }`);
    expect(g.body.data.safetyValve.agreement.version).toBe(3);
  });

  it('refuses a second version on the same date as a CONFLICT', async () => {
    const r = await t.gql(CREATE, { i: input() });
    expect(r.body.errors[0].extensions.code).toBe('CONFLICT');
    expect(r.body.errors[0].message).toBe('Agreement SV-KENT-2022 already has a version effective from 2026-09-01.');
  });

  it('numbers versions created at the same time one after another, and lets only one of two for the same date in', async () => {
    const [a, b, c] = await Promise.all([
      t.gql(CREATE, { i: input({ effectiveFrom: '2030-04-01' }) }),
      t.gql(CREATE, { i: input({ effectiveFrom: '2031-04-01' }) }),
      t.gql(CREATE, { i: input({ effectiveFrom: '2031-04-01' }) }),
    ]);
    expect(a.body.errors).toBeUndefined();
    const versions = [a, b, c]
      .filter((r) => !r.body.errors)
      .map((r) => r.body.data.createSafetyValveAgreementVersion.version);
    expect(versions.sort()).toEqual([4, 5]);
    expect([b, c].map((r) => r.body.errors?.[0].extensions.code ?? 'ok').sort()).toEqual(['CONFLICT', 'ok']);
    // Not yet in effect: version 3 is still the agreement of record.
    expect((await t.gql(`{ safetyValve { agreement { version } } }`)).body.data.safetyValve.agreement.version).toBe(3);
  });

  it.each([
    [{ dfeContribution: '-5' }, 'dfeContribution'],
    [{ dfeContribution: '12.345' }, 'dfeContribution'],
    [{ reportsPerYear: 0 }, 'reportsPerYear'],
    [{ reportsPerYear: 13 }, 'reportsPerYear'],
    [{ effectiveFrom: '2026-13-01' }, 'effectiveFrom'],
    [{ lastFinancialYear: '2021-22' }, 'lastFinancialYear'],
    [{ firstFinancialYear: '2022/23' }, 'firstFinancialYear'],
    [{ broughtForwardDate: '2023-03-31' }, 'broughtForwardPlan'],
    [{ agreementCode: '' }, 'agreementCode'],
  ])('refuses %j as BAD_USER_INPUT naming %s, writing nothing', async (over, field) => {
    const n = (await q(`SELECT count(*)::int AS n FROM safety_valve_agreement`))[0].n;
    const r = await t.gql(CREATE, { i: input({ effectiveFrom: '2027-01-01', ...over }) });
    expect(r.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: field });
    expect(r.body.errors[0].message).toMatch(new RegExp(`^Argument "${field}": ("|\\(blank\\))`));
    expect((await q(`SELECT count(*)::int AS n FROM safety_valve_agreement`))[0].n).toBe(n);
  });

  it('refuses every role but Finance, in the words of the policy table, for the agreement and each hand entry', async () => {
    for (const [role, token] of [
      ['SUBGROUP', t.tokens.SUBGROUP],
      ['CHAIR', t.tokens.CHAIR],
      ['ANALYST', t.tokens.ANALYST],
    ] as const) {
      const r = await t.gql(CREATE, { i: input({ effectiveFrom: '2027-02-01' }) }, token);
      expect(r.body.errors[0].extensions.code).toBe('FORBIDDEN');
      expect(r.body.errors[0].message).toBe(
        `A ${role} may not use createSafetyValveAgreementVersion: the agreement with the DfE is a figure of record.`,
      );
      const plan = await t.gql(
        `mutation { setSafetyValvePlanYear(financialYear: "2027-28", inYearPlan: "1") { financialYear } }`,
        undefined,
        token,
      );
      expect(plan.body.errors[0]).toMatchObject({
        message: `A ${role} may not use setSafetyValvePlanYear: as createSafetyValveAgreementVersion.`,
        extensions: { code: 'FORBIDDEN' },
      });
    }
    expect(
      (await q(`SELECT count(*)::int AS n FROM safety_valve_agreement WHERE effective_from = '2027-02-01'`))[0].n,
    ).toBe(0);
  });

  it('sets a plan year, records a report, an instalment and a KPI, each checked as its import checks it', async () => {
    const plan = await t.gql(
      `mutation { setSafetyValvePlanYear(financialYear: "2027-28", inYearPlan: "9000000") { financialYear inYearPlan source { kind by } } }`,
    );
    expect(plan.body.data.setSafetyValvePlanYear).toEqual({
      financialYear: '2027-28',
      inYearPlan: '9000000.00',
      source: { kind: 'MANUAL', by: 'Demo finance officer' },
    });
    const outside = await t.gql(
      `mutation { setSafetyValvePlanYear(financialYear: "2021-22", inYearPlan: "1") { financialYear } }`,
    );
    expect(outside.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'financialYear' });

    const REP = `mutation($i: SafetyValveReportInput!) { recordSafetyValveReport(input: $i) { periodCode quarter reportDate cumulativeForecast } }`;
    const rep = {
      periodCode: '2027-28-R1',
      financialYear: '2027-28',
      reportNumber: 1,
      reportDate: '2027-07-31',
      inYearPlan: '16000000',
      inYearForecast: '9000000',
      cumulativePlan: '-4000000',
      cumulativeForecast: '-31000000',
    };
    const tooMany = await t.gql(REP, { i: { ...rep, periodCode: '2027-28-R4', reportNumber: 4 } });
    expect(tooMany.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'reportNumber' });
    const ok = await t.gql(REP, { i: rep });
    expect(ok.body.data.recordSafetyValveReport).toEqual({
      periodCode: '2027-28-R1',
      quarter: 1,
      reportDate: '2027-07-31',
      cumulativeForecast: '-31000000.00',
    });

    const INST = `mutation($i: SafetyValveInstalmentInput!) { recordSafetyValveInstalment(input: $i) { periodCode status paidOn source { kind } } }`;
    const inst = {
      periodCode: '2027-28-R1',
      financialYear: '2027-28',
      dueOn: '2027-07-31',
      amount: '3500000',
      status: 'WITHHELD',
    };
    const badInst = await t.gql(INST, { i: { ...inst, status: 'PAID' } });
    expect(badInst.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'status' });
    expect(badInst.body.errors[0].message).toBe(
      'Argument "status": "PAID" is PAID: give the day it was paid (paidOn).',
    );
    const okInst = await t.gql(INST, { i: inst });
    expect(okInst.body.data.recordSafetyValveInstalment).toEqual({
      periodCode: '2027-28-R1',
      status: 'WITHHELD',
      paidOn: null,
      source: { kind: 'MANUAL' },
    });

    const KPI = `mutation($i: SafetyValveKpiInput!) { recordSafetyValveKpi(input: $i) { periodCode kpiCode unit plan actual } }`;
    const badKpi = await t.gql(KPI, {
      i: { periodCode: '2027-28-R1', kpiCode: 'X', name: 'X', unit: 'MILES', actual: '1' },
    });
    expect(badKpi.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'unit' });
    const okKpi = await t.gql(KPI, {
      i: { periodCode: '2027-28-R1', kpiCode: 'EHCP_TOTAL', name: 'EHCPs maintained', unit: 'COUNT', actual: '21900' },
    });
    expect(okKpi.body.data.recordSafetyValveKpi).toEqual({
      periodCode: '2027-28-R1',
      kpiCode: 'EHCP_TOTAL',
      unit: 'COUNT',
      plan: null,
      actual: '21900',
    });
    const audits = await q(
      `SELECT entity_id FROM audit_log WHERE entity = 'SAFETY_VALVE' AND entity_id LIKE '%2027-28-R1%' OR entity_id = 'safety-valve-plan:2027-28' ORDER BY id`,
    );
    expect(audits.map((a) => a.entity_id)).toEqual([
      'safety-valve-plan:2027-28',
      'safety-valve-reports:2027-28-R1',
      'safety-valve-instalments:2027-28-R1',
      'safety-valve-kpis:2027-28-R1|EHCP_TOTAL',
    ]);
  });
});

describe('the local authority on the return', () => {
  it("names the hub's configured authority, not a built-in one", async () => {
    const was = localAuthority();
    setLocalAuthority({ code: 201, name: 'City of London' });
    try {
      expect((await report('2025-26-Q2')).localAuthority).toBe('201 City of London');
    } finally {
      setLocalAuthority(was);
    }
  });
});
