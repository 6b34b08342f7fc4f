import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { SaxesParser } from 'saxes';
import { startTestHub, TestHub } from '../helpers/hub';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(() => t?.stop());

const REPORT = `query($p: String!) { safetyValveMonitoringReport(period: $p) {
  localAuthority periodCode financialYear quarter reportDate agreement { code deficitAtStart }
  inYear { plan forecast variance } cumulative { plan forecast variance } instalmentThisPeriod instalmentsToDate
  kpis { kpiCode name unit plan actual variance } trajectory { label date periodCode cumulativePlan cumulativeForecast } } }`;

function wellFormed(xml: string): void {
  const p = new SaxesParser();
  p.write(xml).close();
}

describe('Safety Valve monitoring report', () => {
  it('reports the DSG position of the period with forecast-minus-plan variances', async () => {
    const r = await t.gql(REPORT, { p: '2025-26-Q2' });
    expect(r.body.errors).toBeUndefined();
    const rep = r.body.data.safetyValveMonitoringReport;
    const [row] = await t.db.dataSource.query(`SELECT * FROM safety_valve_report WHERE period_code = '2025-26-Q2'`);
    expect(rep).toMatchObject({
      localAuthority: '886 Kent',
      periodCode: '2025-26-Q2',
      financialYear: '2025-26',
      quarter: 2,
      reportDate: '2025-10-31',
    });
    expect(rep.inYear.plan).toBe('18000000.00');
    expect(rep.inYear.forecast).toBe(row.in_year_forecast);
    expect(rep.cumulative.forecast).toBe(row.cumulative_forecast);
    expect(rep.inYear.variance).toBe(
      (BigInt(row.in_year_forecast.replace('.', '')) - 1800000000n).toString().replace(/(\d\d)$/, '.$1'),
    );
    // Paid on time after reports up to this one, plus the 2024-25 Q3 instalment the DfE paid late (15 August 2025).
    const [{ paid }] = await t.db.dataSource.query(
      `SELECT sum(amount)::text AS paid FROM safety_valve_instalment WHERE (status = 'PAID' AND due_on <= '2025-10-31') OR (status = 'PAID_LATE' AND paid_on <= '2025-10-31')`,
    );
    expect(rep.instalmentsToDate).toBe(paid);
    expect(paid).toBe('35000000.00');
    expect(rep.kpis.map((k: any) => k.kpiCode)).toEqual(
      expect.arrayContaining([
        'EHCP_TOTAL',
        'ASSESSMENT_REQUESTS',
        'NEW_PLANS',
        'CEASED_PLANS',
        'PLACEMENT_MAINSTREAM_PCT',
        'UNIT_COST_SPECIAL',
      ]),
    );
    const ehcp = rep.kpis.find((k: any) => k.kpiCode === 'EHCP_TOTAL');
    expect(Number(ehcp.variance)).toBe(Number(ehcp.actual) - Number(ehcp.plan));
  });

  it('draws the trajectory from the starting deficit to each year end as known at the period, never from later reports', async () => {
    const now = (await t.gql(REPORT, { p: '2025-26-Q2' })).body.data.safetyValveMonitoringReport.trajectory;
    expect(now.map((p: any) => [p.label, p.periodCode])).toEqual([
      ['Start (Mar 2022)', null],
      ['Mar 2024', '2023-24-Q4'],
      ['Mar 2025', '2024-25-Q4'],
      ['Mar 2026', '2025-26-Q2'],
    ]);
    expect(now[0]).toMatchObject({ cumulativePlan: '-97000000.00', cumulativeForecast: '-97000000.00' });
    const earlier = (await t.gql(REPORT, { p: '2024-25-Q2' })).body.data.safetyValveMonitoringReport.trajectory;
    expect(earlier.map((p: any) => p.periodCode)).toEqual([null, '2023-24-Q4', '2024-25-Q2']);
  });

  it('reports a withheld instalment as null', async () => {
    const rep = (await t.gql(REPORT, { p: '2024-25-Q3' })).body.data.safetyValveMonitoringReport;
    expect(rep.instalmentThisPeriod).toBeNull();
  });

  it('rejects an unknown reporting period listing the valid ones', async () => {
    const r = await t.gql(REPORT, { p: '2025-26-Q9' });
    expect(r.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(r.body.errors[0].message).toMatch(
      /Unknown Safety Valve reporting period "2025-26-Q9"\. Valid periods: 2023-24-Q1, .*2025-26-Q2/,
    );
  });
});

describe('Safety Valve monitoring return as XLSX', () => {
  async function download(query: string, token = t.tokens.FINANCE) {
    const res = await fetch(`${t.url}/export/${query}`, { headers: { authorization: `Bearer ${token}` } });
    return {
      status: res.status,
      body: Buffer.from(await res.arrayBuffer()),
      disposition: res.headers.get('content-disposition'),
    };
  }

  it('lays out the return with the same figures as the GraphQL report', async () => {
    const rep = (await t.gql(REPORT, { p: '2025-26-Q2' })).body.data.safetyValveMonitoringReport;
    const r = await download('safety-valve-report.xlsx?period=2025-26-Q2', t.tokens.ANALYST);
    expect(r.status).toBe(200);
    expect(r.disposition).toContain('safety-valve-report_2025-26-Q2.xlsx');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(r.body as unknown as ArrayBuffer);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['Monitoring return', 'Deficit trajectory']);
    const ws = wb.getWorksheet('Monitoring return')!;
    const rows: ExcelJS.CellValue[][] = [];
    ws.eachRow((row) => rows.push((row.values as ExcelJS.CellValue[]).slice(1)));
    const find = (label: RegExp) => rows.find((x) => label.test(String(x[0])))!;
    expect(find(/^In-year position 2025-26/).slice(1, 4)).toEqual([
      Number(rep.inYear.plan),
      Number(rep.inYear.forecast),
      Number(rep.inYear.variance),
    ]);
    expect(find(/^Cumulative position/).slice(1, 4)).toEqual([
      Number(rep.cumulative.plan),
      Number(rep.cumulative.forecast),
      Number(rep.cumulative.variance),
    ]);
    expect(find(/^EHCPs maintained by Kent/).slice(1, 3)).toEqual([
      Number(rep.kpis.find((k: any) => k.kpiCode === 'EHCP_TOTAL').plan),
      Number(rep.kpis.find((k: any) => k.kpiCode === 'EHCP_TOTAL').actual),
    ]);
    let inYearRow = 0;
    ws.eachRow((row, n) => {
      if (/^In-year position/.test(String(row.getCell(1).value))) inYearRow = n;
    });
    const cell = ws.getCell(`B${inYearRow}`);
    expect(cell.numFmt).toBe('"£"#,##0.00;[Red]-"£"#,##0.00');
    const tr = wb.getWorksheet('Deficit trajectory')!;
    expect(tr.getCell('C2').value).toBe(-97000000);
    expect(tr.getCell('D5').value).toBe(Number(rep.cumulative.forecast));
    // A PERCENT KPI is a fraction under a % format, so that it calculates as a percentage.
    const pct = rep.kpis.find((k: any) => k.unit === 'PERCENT');
    let pctCell: ExcelJS.Cell | undefined;
    ws.eachRow((row) => {
      if (row.getCell(1).value === pct.name) pctCell = row.getCell(3);
    });
    expect(pctCell!.value).toBeCloseTo(Number(pct.actual) / 100, 10);
    expect(pctCell!.numFmt).toBe('0.0%');
  });

  it('carries a line chart of the deficit trajectory wired into the sheet, with cached values equal to the report', async () => {
    const rep = (await t.gql(REPORT, { p: '2025-26-Q2' })).body.data.safetyValveMonitoringReport;
    const zip = await JSZip.loadAsync((await download('safety-valve-report.xlsx?period=2025-26-Q2')).body);
    const chart = await zip.file('xl/charts/chart1.xml')!.async('string');
    const drawing = await zip.file('xl/drawings/drawing1.xml')!.async('string');
    const drawingRels = await zip.file('xl/drawings/_rels/drawing1.xml.rels')!.async('string');
    const sheet = await zip.file('xl/worksheets/sheet2.xml')!.async('string');
    const sheetRels = await zip.file('xl/worksheets/_rels/sheet2.xml.rels')!.async('string');
    const types = await zip.file('[Content_Types].xml')!.async('string');
    for (const xml of [chart, drawing, drawingRels, sheet, sheetRels, types]) wellFormed(xml);
    expect(chart).toContain('<c:lineChart>');
    expect(chart).toContain("<c:f>'Deficit trajectory'!$C$2:$C$5</c:f>");
    expect(chart).toContain("<c:f>'Deficit trajectory'!$D$2:$D$5</c:f>");
    const cache = (part: string) =>
      [...chart.matchAll(new RegExp(`<c:${part}>.*?</c:${part}>`, 'gs'))].map((m) =>
        [...m[0].matchAll(/<c:v>([^<]+)<\/c:v>/g)].map((v) => Number(v[1])),
      );
    expect(cache('val')).toEqual([
      rep.trajectory.map((p: any) => Number(p.cumulativePlan)),
      rep.trajectory.map((p: any) => Number(p.cumulativeForecast)),
    ]);
    // The x axis is a date axis over the Date column, its cache the Excel serials of the year ends.
    const serial = (iso: string) =>
      Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10)) / 86_400_000 + 25569;
    expect(cache('cat')).toEqual([0, 1].map(() => rep.trajectory.map((p: any) => serial(p.date))));
    expect(chart).toContain("<c:f>'Deficit trajectory'!$B$2:$B$5</c:f>");
    expect(chart).toMatch(/<c:dateAx>.*<c:baseTimeUnit val="months"\/>.*<\/c:dateAx>/s);
    expect(drawingRels).toContain('Target="../charts/chart1.xml"');
    const rid = /<drawing r:id="([^"]+)"\/>/.exec(sheet)![1];
    expect(sheetRels).toMatch(new RegExp(`Id="${rid}"[^>]*Target="../drawings/drawing1.xml"`));
    expect(types).toContain(
      'PartName="/xl/charts/chart1.xml" ContentType="application/vnd.openxmlformats-officedocument.drawingml.chart+xml"',
    );
    expect(types).toContain('PartName="/xl/drawings/drawing1.xml"');
  });

  it('answers 400 for a CSV of the return, a missing period and an unknown one', async () => {
    const csv = await download('safety-valve-report.csv?period=2025-26-Q2');
    expect(csv.status).toBe(400);
    expect(JSON.parse(csv.body.toString()).errors[0].message).toMatch(
      /laid out for Excel: ask for \/export\/safety-valve-report\.xlsx/,
    );
    const missing = await download('safety-valve-report.xlsx');
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.body.toString()).errors[0].message).toMatch(/needs the filter "period"/);
    const unknown = await download('safety-valve-report.xlsx?period=2030-31-Q1');
    expect(unknown.status).toBe(400);
    expect(JSON.parse(unknown.body.toString()).errors[0].message).toMatch(/Unknown Safety Valve reporting period/);
  });
});
