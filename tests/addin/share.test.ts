import ExcelJS from 'exceljs';
import { prepareToShare, suppressColumn } from '../../addin/src/core/share';
import { installFakeOffice, type FakeWorkbook } from '../../addin/src/dev/fake-office';
import { ExcelGateway } from '../../addin/src/gateway/excel';
import { AddinActions } from '../../addin/src/app/actions';
import { session } from '../../addin/src/shared/session';
import { FakeHub, FakeHubData } from './helpers/fake-hub';
import { isSmall, SMALL_MAX, SMALL_MIN } from '../../server/modules/caseload/small-counts';

async function workbook(): Promise<Uint8Array> {
  const wb = new ExcelJS.Workbook();
  const cases = wb.addWorksheet('Caseloads');
  cases.addRow(['Caseloads from https://hub · as at …']);
  cases.addRow([]);
  cases.addRow(['Kind', 'Key', 'Label', 'Period', 'Count', 'Suppressed']);
  const counts = [3, 12, 1, 'c', 4, 5, 0];
  counts.forEach((n, i) =>
    cases.addRow(['SIPS_CHILDREN', `W-${i}`, `Worker ${i}`, '2025/26-T1', n, n === 'c' ? 'yes' : '']),
  );
  cases.getCell('H5').value = 2; // a 2 outside the count column stays
  const base = wb.addWorksheet('_hnh_baseline', { state: 'veryHidden' });
  base.addRow(['table', 'id', 'version', 'schoolUrn', 'communityCode', 'term', 'amount']);
  base.addRow(['{t}', 'a1', '1', '118000', 'ASH-01', 'SUMMER-2025', '1234.50']);
  return new Uint8Array(await wb.xlsx.writeBuffer());
}

describe('Prepare to share', () => {
  it('turns caseload counts from 1 to 4 into "c" and empties the baseline in the copy, and says what it removed', async () => {
    const out = await prepareToShare(await workbook(), {
      emptySheets: ['_hnh_baseline'],
      counts: [{ sheet: 'Caseloads', column: 'E', firstRow: 4, lastRow: 10, table: 'HNH_caseloads' }],
    });
    expect(out.suppressed).toBe(3);
    expect(out.removed).toEqual([
      'the add-in\'s hidden sheet "_hnh_baseline"',
      '3 caseload counts from 1 to 4 in HNH_caseloads (now "c")',
    ]);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(out.bytes) as any);
    const cases = wb.getWorksheet('Caseloads')!;
    expect([4, 5, 6, 7, 8, 9, 10].map((r) => cases.getCell(`E${r}`).value)).toEqual(['c', 12, 'c', 'c', 'c', 5, 0]);
    expect(cases.getCell('H5').value).toBe(2);
    expect(wb.getWorksheet('_hnh_baseline')!.rowCount).toBe(0);
  });

  it('hides exactly the counts the server calls small (isSmall, 1 to 4), edges included', () => {
    const values = Array.from({ length: SMALL_MAX + 3 }, (_, i) => i); // 0 .. SMALL_MAX + 2
    const cells = values.map((v, i) => `<c r="E${i + 4}"><v>${v}</v></c>`).join('');
    const out = suppressColumn(`<sheetData><row r="4">${cells}</row></sheetData>`, 'E', 4, 4 + values.length);
    const hidden = values.filter((v) => out.xml.includes(`<c r="E${v + 4}" t="inlineStr"><is><t>c</t></is></c>`));
    expect(hidden).toEqual(values.filter(isSmall));
    expect([SMALL_MIN, SMALL_MAX]).toEqual([1, 4]);
    expect(out.count).toBe(SMALL_MAX - SMALL_MIN + 1);
  });

  it('leaves formulas and text alone, and does not backtrack on hostile cell text', () => {
    const xml =
      '<sheetData><row r="4"><c r="E4"><f>1+1</f><v>2</v></c><c r="E5" t="s"><v>3</v></c><c r="E6"><v>4</v></c></row></sheetData>';
    expect(suppressColumn(xml, 'E', 4, 10)).toEqual({
      xml: '<sheetData><row r="4"><c r="E4"><f>1+1</f><v>2</v></c><c r="E5" t="s"><v>3</v></c><c r="E6" t="inlineStr"><is><t>c</t></is></c></row></sheetData>',
      count: 1,
    });
    const hostile = `<c r="E4"><v>${'<c '.repeat(20_000)}</v></c>`;
    const t0 = Date.now();
    suppressColumn(hostile, 'E', 4, 4);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe('Prepare to share through Office (the strict fake host)', () => {
  // The saved file as Excel would hand it out: every sheet of the fake workbook, hidden ones included.
  async function savedFile(wb: FakeWorkbook): Promise<Uint8Array> {
    const x = new ExcelJS.Workbook();
    for (const sheet of wb.sheets) {
      const ws = x.addWorksheet(sheet.name, {
        state: sheet.visibility === 'VeryHidden' ? 'veryHidden' : sheet.visibility === 'Hidden' ? 'hidden' : 'visible',
      });
      sheet.grid().forEach((row, r) =>
        row.forEach((v, c) => {
          if (v !== '' && v !== null) ws.getCell(r + 1, c + 1).value = v as ExcelJS.CellValue;
        }),
      );
    }
    return new Uint8Array(await x.xlsx.writeBuffer());
  }

  async function pulled() {
    const host = installFakeOffice(globalThis);
    const hub = new FakeHub(new FakeHubData());
    const actions = new AddinActions({ port: new ExcelGateway(), fetchImpl: hub.fetch });
    await actions.connect('http://hub.test', 'finance-token');
    await actions.insert('caseloads', { kind: 'SIPS_CHILDREN' });
    await actions.insert('allocations', { communityCode: 'ASH-01', term: 'SUMMER-2025' });
    host.file.bytes = await savedFile(host.workbook);
    return { host, actions };
  }

  afterEach(() => {
    const s = session();
    s.client = undefined;
    s.me = undefined;
    s.token = undefined;
  });

  it('reads the saved file in slices, opens a cleaned copy, closes the file and leaves the open workbook as it was', async () => {
    const { host, actions } = await pulled();
    host.file.maxSlice = 1024; // many slices, joined in order
    const before = host.workbook.tableValues('HNH_caseloads');
    expect(before.map((r) => r[4])).toEqual(['Count', 12, 3]);
    const r = await actions.prepareToShare();
    expect(r.suppressed).toBe(1);
    expect(r.removed).toEqual(
      expect.arrayContaining([
        'the add-in\'s hidden sheet "_hnh_baseline"',
        '1 caseload count from 1 to 4 in HNH_caseloads (now "c")',
      ]),
    );
    expect(host.file.opened).toEqual([{ fileType: 'compressed', sliceSize: 4 * 1024 * 1024 }]);
    expect(host.file.bytes!.length).toBeGreaterThan(3 * 1024);
    expect([host.file.open, host.file.closed]).toEqual([0, 1]);
    expect(host.file.created).toHaveLength(1);
    const copy = new ExcelJS.Workbook();
    await copy.xlsx.load(Buffer.from(host.file.created[0], 'base64') as any);
    const t = host.workbook.tables.find((x) => x.name === 'HNH_caseloads')!;
    const counts = copy.getWorksheet(t.sheet.name)!;
    expect([1, 2].map((i) => counts.getCell(t.r0 + i + 1, t.c0 + 5).value)).toEqual([12, 'c']);
    expect(copy.getWorksheet('_hnh_baseline')!.actualRowCount).toBe(0);
    // The open workbook keeps its figures and its baseline: only the copy was cleaned.
    expect(host.workbook.tableValues('HNH_caseloads')).toEqual(before);
    expect(host.workbook.sheet('_hnh_baseline')!.grid().length).toBeGreaterThan(0);
  });

  it('says why when a slice cannot be read, closes the file and opens nothing', async () => {
    const { host, actions } = await pulled();
    host.file.maxSlice = 1024;
    host.file.failSlice = 2;
    await expect(actions.prepareToShare()).rejects.toThrow('fake Office: slice 2 failed to read');
    expect([host.file.open, host.file.closed, host.file.created.length]).toEqual([0, 1, 0]);
  });

  it('refuses on an Excel without ExcelApi 1.8 before reading anything', async () => {
    const { host, actions } = await pulled();
    host.workbook.requirementSets.ExcelApi = '1.7';
    await expect(actions.prepareToShare()).rejects.toThrow(/needs a newer Excel \(ExcelApi 1.8/);
    expect(host.file.opened).toEqual([]);
  });
});
