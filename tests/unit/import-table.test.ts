import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { TABLE_LIMITS, TableRows } from '../../server/modules/imports/table';
import { FileRejected } from '../../server/modules/imports/report';
import { readTable } from '../../server/modules/imports/upload';

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
    const t = await readTable(buf, 'Data');
    expect(t.sheet).toBe('Data');
    expect(t.sheets).toEqual(['Notes', 'Data']);
    expect(rowsOf(t.rows, ['schoolUrn', 'term', 'startDate'])).toEqual([[2, '118001', 'AUTUMN-2025', '2025-09-01']]);
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

/** A workbook from its parts' XML as another program might write it (the parts given, in the order given). */
async function handWritten(parts: Record<string, string>): Promise<Buffer> {
  const zip = new JSZip();
  for (const [name, xml] of Object.entries(parts)) zip.file(name, xml);
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}

const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const rootRels = `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`;
const bookRels = (extra = '') =>
  `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
  `<Relationship Id="rA" Type="${REL}/worksheet" Target="worksheets/sheet7.xml"/>` +
  `<Relationship Id="rB" Type="${REL}/worksheet" Target="/xl/worksheets/other.xml"/>` +
  `<Relationship Id="rS" Type="${REL}/sharedStrings" Target="strings.xml"/>` +
  `<Relationship Id="rT" Type="${REL}/styles" Target="styles.xml"/>${extra}</Relationships>`;
const styles = `<?xml version="1.0"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy;@"/></numFmts><cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs><cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="14"/><xf numFmtId="4"/></cellXfs></styleSheet>`;
const sheetXml = (rows: string, prefix = '') =>
  `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><${prefix}worksheet xmlns${prefix ? ':' + prefix.slice(0, -1) : ''}="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><${prefix}sheetData>${rows}</${prefix}sheetData></${prefix}worksheet>`;

describe('an XLSX written by another program, read part by part from its relationships', () => {
  const workbookXml = (date1904 = false) =>
    `<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="${REL}">` +
    `<workbookPr${date1904 ? ' date1904="1"' : ''}/><sheets><sheet name="Notes" sheetId="1" r:id="rB"/><sheet name="Data" sheetId="2" r:id="rA"/></sheets></workbook>`;
  const strings =
    `<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3">` +
    `<si><t>schoolUrn</t></si>` +
    `<si><r><rPr><b/></rPr><t xml:space="preserve">Rich </t></r><r><t>text</t></r><rPh sb="0" eb="1"><t>PHONETIC</t></rPh></si>` +
    `<si><t>A &amp;lt; B_x000D_</t></si></sst>`;

  it('finds the sheet named Data through the relationships (stored as sheet7.xml, listed second) and reads every kind of cell as Excel shows it', async () => {
    const buf = await handWritten({
      '_rels/.rels': rootRels,
      'xl/_rels/workbook.xml.rels': bookRels(),
      'xl/worksheets/sheet7.xml': sheetXml(
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>rich</t></is></c><c r="C1" t="inlineStr"><is><t>escaped</t></is></c>' +
          '<c r="D1" t="inlineStr"><is><t>date</t></is></c><c r="E1" t="inlineStr"><is><t>dateF</t></is></c><c r="F1" t="inlineStr"><is><t>strF</t></is></c>' +
          '<c r="G1" t="inlineStr"><is><t>boolF</t></is></c><c r="H1" t="inlineStr"><is><t>errF</t></is></c><c r="I1" t="inlineStr"><is><t>inline</t></is></c>' +
          '<c r="J1" t="inlineStr"><is><t>shared</t></is></c><c r="K1" t="inlineStr"><is><t>money</t></is></c></row>' +
          '<row r="2"><c r="A2"><v>118001</v></c><c r="B2" t="s"><v>1</v></c><c r="C2" t="s"><v>2</v></c><c r="D2" s="1"><v>45901</v></c>' +
          '<c r="E2" s="2"><f>DATE(2025,9,1)</f><v>45901</v></c><c r="F2" t="str"><f>"AUTUMN-"&amp;2025</f><v>AUTUMN-2025</v></c>' +
          '<c r="G2" t="b"><f>TRUE()</f><v>1</v></c><c r="H2" t="e"><f>1/0</f><v>#DIV/0!</v></c>' +
          '<c r="I2" t="inlineStr"><is><r><t>in</t></r><r><t>line</t></r></is></c><c r="J2"><f t="shared" si="0"/><v>7</v></c><c r="K2" s="3"><v>12.5</v></c></row>',
      ),
      'xl/worksheets/other.xml': sheetXml('<row r="1"><c r="A1" t="inlineStr"><is><t>not this one</t></is></c></row>'),
      'xl/strings.xml': strings,
      'xl/styles.xml': styles,
      'xl/workbook.xml': workbookXml(),
    });
    const t = await readTable(buf, 'Data');
    expect(t.sheets).toEqual(['Notes', 'Data']);
    expect(t.sheet).toBe('Data');
    const headings = [
      'schoolUrn',
      'rich',
      'escaped',
      'date',
      'dateF',
      'strF',
      'boolF',
      'errF',
      'inline',
      'shared',
      'money',
    ];
    expect(t.header).toEqual(headings);
    // Runs joined, the phonetic guide left out; an entity decoded once; Excel's _x000D_ escape is a carriage return (trimmed).
    expect(rowsOf(t.rows, headings)).toEqual([
      [
        2,
        '118001',
        'Rich text',
        'A &lt; B',
        '2025-09-01',
        '2025-09-01',
        'AUTUMN-2025',
        'TRUE',
        '#DIV/0!',
        'inline',
        '7',
        '12.5',
      ],
    ]);
    expect(t.rows.error(0, 'errF')).toBe('the cell holds the Excel error #DIV/0!');
    expect(t.rows.error(0, 'strF')).toBeUndefined();
  });

  it('reads the 1904 date system, elements with a namespace prefix, and cells without references', async () => {
    const buf = await handWritten({
      '_rels/.rels': rootRels,
      'xl/workbook.xml': workbookXml(true),
      'xl/_rels/workbook.xml.rels': bookRels(),
      'xl/styles.xml': styles,
      'xl/strings.xml': strings,
      'xl/worksheets/other.xml': sheetXml(''),
      'xl/worksheets/sheet7.xml': sheetXml(
        '<x:row><x:c t="inlineStr"><x:is><x:t>day</x:t></x:is></x:c><x:c t="inlineStr"><x:is><x:t>n</x:t></x:is></x:c><x:c t="inlineStr"><x:is><x:t>empty</x:t></x:is></x:c></x:row>' +
          '<x:row><x:c s="2"><x:v>0</x:v></x:c><x:c><x:v>3</x:v></x:c><x:c t="s"><x:v></x:v></x:c></x:row>',
        'x:',
      ),
    });
    const t = await readTable(buf, 'Data');
    // An empty shared-string index is an empty cell, not the first string.
    expect(rowsOf(t.rows, ['day', 'n', 'empty'])).toEqual([[2, '1904-01-01', '3', '']]);
  });

  it('says which part is missing or broken, as a 400 the person can act on', async () => {
    const parts = {
      '_rels/.rels': rootRels,
      'xl/workbook.xml': workbookXml(),
      'xl/_rels/workbook.xml.rels': bookRels(),
      'xl/worksheets/other.xml': sheetXml(''),
    };
    await expect(readTable(await handWritten(parts), 'Data')).rejects.toThrow(/its sheet "Data" is missing/);
    const broken = { ...parts, 'xl/worksheets/sheet7.xml': '<worksheet><sheetData><row r="1"><c></row>' };
    const err = await readTable(await handWritten(broken), 'Data').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileRejected);
    expect((err as Error).message).toMatch(/cannot be read: xl\/worksheets\/sheet7\.xml/);
    const noBook = { 'xl/worksheets/sheet1.xml': sheetXml('') };
    await expect(readTable(await handWritten(noBook), 'Data')).rejects.toThrow(/has no xl\/workbook\.xml/);
  });

  it('passes over a chart sheet for the first worksheet, and reads folders written with backslashes', async () => {
    const buf = await handWritten({
      'xl\\workbook.xml':
        `<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="${REL}">` +
        `<sheets><sheet name="Chart" sheetId="1" r:id="rC"/><sheet name="Figures" sheetId="2" r:id="rA"/></sheets></workbook>`,
      'xl\\_rels\\workbook.xml.rels': bookRels(
        `<Relationship Id="rC" Type="${REL}/chartsheet" Target="chartsheets/sheet1.xml"/>`,
      ),
      'xl\\chartsheets\\sheet1.xml': '<chartsheet/>',
      'xl\\worksheets\\sheet7.xml': sheetXml(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>n</t></is></c></row><row r="2"><c r="A2"><v>5</v></c></row>',
      ),
    });
    const t = await readTable(buf, 'Data');
    expect(t.sheets).toEqual(['Figures']);
    expect(t.sheet).toBe('Figures');
    expect(rowsOf(t.rows, ['n'])).toEqual([[2, '5']]);
  });

  it('refuses a cell wider than the limit where it is, before the row is kept', async () => {
    const buf = await handWritten({
      'xl/workbook.xml': workbookXml(),
      'xl/_rels/workbook.xml.rels': bookRels(),
      'xl/worksheets/sheet7.xml': sheetXml('<row r="1"><c r="A1"><v>1</v></c><c r="XFD1"><v>2</v></c></row>'),
    });
    await expect(readTable(buf, 'Data')).rejects.toThrow(/Row 1 has more than 200 columns/);
  });
});

describe('a hostile XLSX is refused before it fills memory', () => {
  const workbookXml = `<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="${REL}"><sheets><sheet name="Data" sheetId="1" r:id="rA"/></sheets></workbook>`;
  const book = (rows: string, strings?: string) =>
    handWritten({
      'xl/workbook.xml': workbookXml,
      'xl/_rels/workbook.xml.rels': bookRels(),
      'xl/styles.xml': styles,
      ...(strings ? { 'xl/strings.xml': strings } : {}),
      'xl/worksheets/sheet7.xml': sheetXml(rows),
    });

  it('refuses one long shared string repeated down a column once the kept text passes its limit', async () => {
    // 32,767 three-byte characters: each cell that refers to it is 98 KB of text; 700 of them pass 64 MB.
    const strings = `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>h</t></si><si><t>${'\u20ac'.repeat(32_767)}</t></si></sst>`;
    let rows = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>';
    for (let r = 2; r <= 1000; r++) rows += `<row r="${r}"><c r="A${r}" t="s"><v>1</v></c></row>`;
    const buf = await book(rows, strings);
    expect(buf.length).toBeLessThan(200_000);
    await expect(readTable(buf, 'Data')).rejects.toThrow(/more than 64 MB of text in the columns read/);
  });

  it('refuses a table of more cells than its limit (a wide sheet of near-empty rows)', async () => {
    const saved = TABLE_LIMITS.maxCells;
    TABLE_LIMITS.maxCells = 1_000;
    try {
      let header = '<row r="1">';
      for (let c = 1; c <= 40; c++)
        header += `<c r="${String.fromCharCode(64 + (c > 26 ? 1 : c))}${c > 26 ? String.fromCharCode(64 + c - 26) : ''}1" t="inlineStr"><is><t>h${c}</t></is></c>`;
      let rows = header + '</row>';
      for (let r = 2; r <= 100; r++) rows += `<row r="${r}"><c r="A${r}"><v>1</v></c></row>`;
      await expect(readTable(await book(rows), { preferredSheets: ['Data'], maxColumns: 400 })).rejects.toThrow(
        /more than 1,000 cells/,
      );
    } finally {
      TABLE_LIMITS.maxCells = saved;
    }
  });

  it('refuses a text, comment or attribute longer than any cell between two tags, while it is still being read', async () => {
    const buf = await book(`<row r="1"><c r="A1"><v>1</v></c>${'x'.repeat(300_000)}</row>`);
    await expect(readTable(buf, 'Data')).rejects.toThrow(/more than 131068 characters between two tags/);
    const comment = await book(`<row r="1"><!--${'y'.repeat(300_000)}--></row>`);
    await expect(readTable(comment, 'Data')).rejects.toThrow(/between two tags/);
  });

  it("refuses a row number past Excel's last row", async () => {
    await expect(readTable(await book('<row r="4294967297"><c><v>1</v></c></row>'), 'Data')).rejects.toThrow(
      /a row numbered "4294967297"/,
    );
  });

  it('reads an ISO date cell as its own date, CDATA text, and the first days of 1900 as Excel shows them', async () => {
    const buf = await book(
      '<row r="1"><c r="A1" t="inlineStr"><is><t>iso</t></is></c><c r="B1" t="inlineStr"><is><t>cdata</t></is></c><c r="C1" t="inlineStr"><is><t>first</t></is></c></row>' +
        '<row r="2"><c r="A2" t="d"><v>2024-06-01T00:00:00</v></c><c r="B2" t="inlineStr"><is><t><![CDATA[a < b]]></t></is></c><c r="C2" s="2"><v>1</v></c></row>',
    );
    const t = await readTable(buf, 'Data');
    expect(rowsOf(t.rows, ['iso', 'cdata', 'first'])).toEqual([[2, '2024-06-01', 'a < b', '1900-01-01']]);
  });
});

describe('the compact table', () => {
  it('gives back each text exactly (any script, emoji, £), numbers to 15 digits, empties and errors', () => {
    const rows = new TableRows(['a', 'b', 'c']);
    const texts = ['Café – £12.50', '学校 🏫', 'x'.repeat(70_000)];
    texts.forEach((s, i) =>
      rows.add(i + 2, [s, 0.1 + 0.2, i === 1 ? { text: '#N/A', error: 'the cell holds the Excel error #N/A' } : '']),
    );
    expect(rows.length).toBe(3);
    expect([0, 1, 2].map((i) => rows.text(i, 'a'))).toEqual(texts);
    expect(rows.text(0, 'b')).toBe('0.3');
    expect([rows.text(0, 'c'), rows.text(1, 'c'), rows.error(1, 'c'), rows.error(0, 'c')]).toEqual([
      '',
      '#N/A',
      'the cell holds the Excel error #N/A',
      undefined,
    ]);
    expect(rows.line(2)).toBe(4);
  });
});
