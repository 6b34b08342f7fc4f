import crypto from 'node:crypto';
import fs from 'node:fs';
import ExcelJS from 'exceljs';

async function write(file: string, urn: number, rows: number, noteBytes: number): Promise<number> {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: false });
  const ws = wb.addWorksheet('Data');
  ws.addRow(['schoolUrn', 'term', 'baseline', 'notes']).commit();
  for (let i = 0; i < rows; i++)
    ws.addRow([
      urn,
      'AUTUMN-2025',
      `${1000 + (i % 9000)}.${String(i % 100).padStart(2, '0')}`,
      crypto.randomBytes(noteBytes).toString('base64'),
    ]).commit();
  await wb.commit();
  return fs.statSync(file).size;
}

/**
 * A finance XLSX (baseline-funding, with a notes column of random text that does not compress) of just under
 * `targetBytes` and under the 200,000-row limit, written with the streaming writer. The size is aimed from a
 * sample's bytes per row, then trimmed if the full file came out over.
 */
export async function nearSizeWorkbook(
  file: string,
  urn: number,
  targetBytes: number,
): Promise<{ bytes: number; rows: number }> {
  const noteBytes = 90;
  const sample = 10_000;
  const perRow = (await write(file, urn, sample, noteBytes)) / sample;
  let rows = Math.min(199_000, Math.floor((targetBytes * 0.995) / perRow));
  for (let attempt = 0; attempt < 4; attempt++) {
    const bytes = await write(file, urn, rows, noteBytes);
    if (bytes <= targetBytes) return { bytes, rows };
    rows = Math.floor(rows * (targetBytes / bytes) * 0.995);
  }
  throw new Error(`could not write an XLSX under ${targetBytes} bytes`);
}

/**
 * The same rows as a CSV of just under `targetBytes` (baseline-funding with a notes column of random text): the
 * rows are short, so the file holds fewer of them than the workbook does.
 */
export function nearSizeCsv(file: string, urn: number, targetBytes: number): { bytes: number; rows: number } {
  const limit = Math.floor(targetBytes * 0.995);
  const lines = ['schoolUrn,term,baseline,notes'];
  let bytes = lines[0].length + 1;
  for (let i = 0; ; i++) {
    const line = [
      urn,
      'AUTUMN-2025',
      `${1000 + (i % 9000)}.${String(i % 100).padStart(2, '0')}`,
      crypto.randomBytes(90).toString('base64'),
    ].join(',');
    if (bytes + line.length + 1 > limit) break;
    lines.push(line);
    bytes += line.length + 1;
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return { bytes: fs.statSync(file).size, rows: lines.length - 1 };
}
