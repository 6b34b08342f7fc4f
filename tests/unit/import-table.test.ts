import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { TableRows } from '../../server/modules/imports/table';
import { readTable, XLSX_LIMITS } from '../../server/modules/imports/upload';

/*
 * The table an import reads (issue 10, item 7): kept compactly (TableRows), only the columns asked for, each cell
 * as the person would read it in Excel; XLSX through the streaming reader whatever order the workbook's parts
 * come in.
 */

const workbook = async (fill: (wb: ExcelJS.Workbook) => void): Promise<Buffer> => {
  const wb = new ExcelJS.Workbook();
  fill(wb);
  return Buffer.from(await wb.xlsx.writeBuffer());
};

/** The same workbook with its parts in the order given first (the others after, xl/workbook.xml last). */
async function reordered(buf: Buffer, first: string[]): Promise<Buffer> {
  const zip = await JSZip.loadAsync(buf);
  const names = Object.keys(zip.files).filter((n) => !zip.files[n].dir);
  const out = new JSZip();
  const order = [...first, ...names.filter((n) => !first.includes(n) && n !== 'xl/workbook.xml'), 'xl/workbook.xml'];
  for (const n of order) out.file(n, await zip.file(n)!.async('nodebuffer'));
  return out.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}

const rowsOf = (rows: TableRows, headings: string[]) =>
  [...rows].map((r) => [r.line, ...headings.map((h) => r.text(h))]);

describe('a CSV read for the columns a template has', () => {
  const csv = Buffer.from(
    'schoolUrn,term,baseline,notes\n118001,AUTUMN-2025,12.50,first note\n118002, AUTUMN-2025 ,7,second\n',
  );

  it('keeps the cells of the columns asked for, names every heading, and refuses to answer for a column it dropped', async () => {
    const t = await readTable(csv, { columns: ['schoolUrn', 'term', 'baseline'] });
    expect(t.header).toEqual(['schoolUrn', 'term', 'baseline', 'notes']);
    expect(rowsOf(t.rows, ['schoolUrn', 'term', 'baseline'])).toEqual([
      [2, '118001', 'AUTUMN-2025', '12.50'],
      [3, '118002', 'AUTUMN-2025', '7'],
    ]);
    expect(t.rows.has('notes')).toBe(false);
    expect(() => t.rows.text(0, 'notes')).toThrow(/"notes" was not kept/);
    // A heading the file does not have is an empty cell, as a missing optional column is.
    expect(t.rows.text(0, 'financialYear')).toBe('');
  });

  it('keeps every column without a list, and a repeated heading reads its last column', async () => {
    const t = await readTable(Buffer.from('a,b,a\n1,2,3\n'));
    expect(t.rows.text(0, 'a')).toBe('3');
    expect(t.rows.text(0, 'b')).toBe('2');
  });

  it('reads Windows-1252 and UTF-8 alike, and reports the line of a CSV it cannot parse', async () => {
    // “A”,£1 in Windows-1252 (not valid UTF-8).
    const win = Buffer.concat([Buffer.from('name,amount\n'), Buffer.from([0x93, 0x41, 0x94, 0x2c, 0xa3, 0x31, 0x0a])]);
    const t = await readTable(win);
    expect([t.rows.text(0, 'name'), t.rows.text(0, 'amount')]).toEqual(['\u201cA\u201d', '£1']);
    const utf8 = await readTable(Buffer.from('\uFEFFname\n\u201cA\u201d\n'));
    expect(utf8.header).toEqual(['name']);
    expect(utf8.rows.text(0, 'name')).toBe('\u201cA\u201d');
    await expect(readTable(Buffer.from('a,b\n"1,2\n'))).rejects.toThrow(/not valid CSV at line/);
  });

  it('finds a header below title rows and keeps only the rows asked for, counting the others', async () => {
    const t = await readTable(Buffer.from('Title,\n,\nURN,LA\n1,886\n2,201\n3,886\n'), {
      findHeader: (cells) => cells.includes('URN'),
      keepRow: (cells, header) => cells[header.indexOf('LA')] === '886',
    });
    expect(t.headerLine).toBe(3);
    expect(rowsOf(t.rows, ['URN'])).toEqual([
      [4, '1'],
      [6, '3'],
    ]);
    expect(t.droppedRows).toBe(1);
  });
});

describe('an XLSX read as its cells read in Excel', () => {
  it('numbers to 15 significant digits, dates as dates, text trimmed; an Excel error or a formula never calculated is the reason the cell gives no value', async () => {
    const buf = await workbook((wb) => {
      const ws = wb.addWorksheet('Data');
      ws.addRow(['n', 'd', 's', 'e', 'f', 'notes']);
      ws.addRow([
        0.1 + 0.2,
        new Date('2026-09-01T00:00:00Z'),
        '  padded ',
        { error: '#REF!' },
        { formula: 'A2*2' },
        'x',
      ]);
    });
    const t = await readTable(buf, { columns: ['n', 'd', 's', 'e', 'f'] });
    expect(rowsOf(t.rows, ['n', 'd', 's', 'e', 'f'])).toEqual([[2, '0.3', '2026-09-01', 'padded', '#REF!', '=A2*2']]);
    expect(t.rows.error(0, 'e')).toBe('the cell holds the Excel error #REF!');
    expect(t.rows.error(0, 'f')).toMatch(/^the formula has no saved value/);
    expect(t.rows.error(0, 'n')).toBeUndefined();
  });

  it("streams a workbook whose shared strings come before its sheets and xl/workbook.xml after them (ExcelJS's streaming reader crashed on it), choosing the sheet by name", async () => {
    const buf = await reordered(
      await workbook((wb) => {
        wb.addWorksheet('Notes').addRow(['not this one']);
        const ws = wb.addWorksheet('Data');
        ws.addRow(['schoolUrn', 'term', 'startDate']);
        ws.addRow([118001, 'AUTUMN-2025', new Date('2025-09-01T00:00:00Z')]);
      }),
      ['[Content_Types].xml', '_rels/.rels', 'xl/_rels/workbook.xml.rels', 'xl/sharedStrings.xml'],
    );
    // Read whole, a workbook is held at once: were this one not streamed, it would be refused as too large for that.
    const whole = XLSX_LIMITS.maxWholeInflatedBytes;
    XLSX_LIMITS.maxWholeInflatedBytes = 1;
    try {
      const t = await readTable(buf, 'Data');
      expect(t.sheet).toBe('Data');
      expect(t.sheets).toEqual(['Notes', 'Data']);
      expect(rowsOf(t.rows, ['schoolUrn', 'term', 'startDate'])).toEqual([[2, '118001', 'AUTUMN-2025', '2025-09-01']]);
    } finally {
      XLSX_LIMITS.maxWholeInflatedBytes = whole;
    }
  });

  it('leaves out rows blank in every column, and without a row 1 has no header', async () => {
    const buf = await workbook((wb) => {
      const ws = wb.addWorksheet('Data');
      ws.getRow(1).values = ['a', 'b'];
      ws.getRow(2).values = ['1', ''];
      ws.getRow(3).getCell(5).value = 'beyond the header';
      ws.getRow(4).values = ['', '2'];
    });
    const t = await readTable(buf, { columns: ['b'] });
    expect(rowsOf(t.rows, ['b'])).toEqual([
      [2, ''],
      [4, '2'],
    ]);
    const noRowOne = await workbook((wb) => {
      wb.addWorksheet('Data').getRow(2).values = ['a', 'b'];
    });
    const t2 = await readTable(noRowOne);
    expect(t2.header).toEqual([]);
    expect(t2.rows.length).toBe(0);
  });
});
