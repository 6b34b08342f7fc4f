import ExcelJS from 'exceljs';
import { prepareToShare, suppressColumn } from '../../addin/src/core/share';

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
