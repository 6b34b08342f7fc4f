import { MONEY_FORMAT } from '../exports/export-format';
import type { ImportKind } from './kinds';
import { excel } from '../../common/excel';

const FORMATS: Record<string, string> = {
  money: MONEY_FORMAT,
  signedMoney: MONEY_FORMAT,
  fraction: '0.00%',
  int: '0',
  code: '@',
  text: '@',
  enum: '@',
};

/**
 * The template a kind is imported from: a "Data" sheet with the header only (an example row would be
 * imported by whoever forgets to delete it) and a "Guide" sheet describing each column with an example.
 */
export async function templateXlsx(kind: ImportKind): Promise<Buffer> {
  const wb = new (excel().Workbook)();
  wb.creator = 'High Needs Hub';
  const ws = wb.addWorksheet('Data', { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.columns = kind.fields.map((f) => ({
    header: f.name,
    key: f.name,
    width: Math.max(14, f.name.length + 4),
    style: FORMATS[f.kind] ? { numFmt: FORMATS[f.kind] } : {},
  }));
  ws.getRow(1).font = { bold: true };
  ws.getRow(1).eachCell((c) => (c.numFmt = '@'));
  for (const [i, f] of kind.fields.entries()) {
    if (f.values) {
      for (let r = 2; r <= 5000; r++) {
        ws.getCell(r, i + 1).dataValidation = {
          type: 'list',
          allowBlank: !f.required,
          formulae: [`"${f.values.join(',')}"`],
        };
      }
    }
  }
  const guide = wb.addWorksheet('Guide');
  guide.columns = [{ width: 18 }, { width: 10 }, { width: 90 }, { width: 22 }];
  guide.addRow([kind.title]).font = { bold: true, size: 13 };
  guide.addRow([kind.description]);
  guide.addRow([
    `Fill the Data sheet (one row per ${kind.key.join(' + ')}), then: npm run import -- ${kind.kind} FILE, or POST the file to /import/${kind.kind}. ` +
      'The whole file is checked first; if any row is rejected nothing is imported and every problem is listed with its line and column.',
  ]);
  guide.addRow([]);
  guide.addRow(['Column', 'Required', 'Meaning', 'Example']).font = { bold: true };
  for (const f of kind.fields)
    guide.addRow([
      f.name,
      f.required ? 'yes' : 'no',
      f.values ? `${f.description} One of: ${f.values.join(', ')}.` : f.description,
      f.example,
    ]);
  guide.getColumn(3).alignment = { wrapText: true, vertical: 'top' };
  return Buffer.from(await wb.xlsx.writeBuffer());
}

export function templateCsv(kind: ImportKind): string {
  return '\uFEFF' + kind.fields.map((f) => f.name).join(',') + '\r\n';
}
