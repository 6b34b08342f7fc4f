/**
 * "Prepare to share": a copy of the workbook that can be sent on. In the copy, small caseload counts (isSmall,
 * the server's own threshold in server/modules/caseload/small-counts.ts) become "c", and the
 * add-in's own sheets (the baseline of allocations as pulled, the table registry with who pulled what, the
 * settings) are emptied, so the copy cannot be used to submit and carries no hidden figures. It works on the
 * saved file (XLSX, a zip of XML parts) so the workbook that is open is never touched.
 *
 * The XML is walked with indexOf, not regular expressions, so hostile cell text cannot make it backtrack.
 */
import JSZip from 'jszip';
import { isSmall, SMALL_RANGE } from '../../../server/modules/caseload/small-counts';

export interface SharePlan {
  /** Sheets whose data is removed (the add-in's own). */
  emptySheets: string[];
  /** Count columns to suppress: sheet, column letter, first and last sheet row (1-based) of the table body. */
  counts: { sheet: string; column: string; firstRow: number; lastRow: number; table: string }[];
}

export interface ShareResult {
  bytes: Uint8Array;
  /** What was taken out, in words, for the pane. */
  removed: string[];
  suppressed: number;
}

function attr(tag: string, name: string): string | null {
  const i = tag.indexOf(` ${name}="`);
  if (i < 0) return null;
  const start = i + name.length + 3;
  const end = tag.indexOf('"', start);
  return end < 0 ? null : tag.slice(start, end);
}

function unescapeXml(s: string): string {
  return s
    .split('&apos;')
    .join("'")
    .split('&quot;')
    .join('"')
    .split('&lt;')
    .join('<')
    .split('&gt;')
    .join('>')
    .split('&amp;')
    .join('&');
}

/** Sheet name → part path ("xl/worksheets/sheet3.xml"), from workbook.xml and its relationships. */
async function sheetParts(zip: JSZip): Promise<Map<string, string>> {
  const wb = (await zip.file('xl/workbook.xml')?.async('string')) ?? '';
  const rels = (await zip.file('xl/_rels/workbook.xml.rels')?.async('string')) ?? '';
  const targets = new Map<string, string>();
  for (let i = rels.indexOf('<Relationship '); i >= 0; i = rels.indexOf('<Relationship ', i + 1)) {
    const tag = rels.slice(i, rels.indexOf('>', i) + 1);
    const id = attr(tag, 'Id');
    const target = attr(tag, 'Target');
    if (id && target) targets.set(id, target.startsWith('/') ? target.slice(1) : `xl/${target}`);
  }
  const out = new Map<string, string>();
  for (let i = wb.indexOf('<sheet '); i >= 0; i = wb.indexOf('<sheet ', i + 1)) {
    const tag = wb.slice(i, wb.indexOf('>', i) + 1);
    const name = attr(tag, 'name');
    const rid = attr(tag, 'r:id');
    if (name && rid && targets.has(rid)) out.set(unescapeXml(name), targets.get(rid)!);
  }
  return out;
}

function splitRef(ref: string): [string, number] {
  let i = 0;
  while (i < ref.length && ref[i] >= 'A' && ref[i] <= 'Z') i++;
  return [ref.slice(0, i), Number(ref.slice(i))];
}

/** Replaces numeric cells with a small count (isSmall) in the column and rows with the text "c"; returns the new XML and how many. */
export function suppressColumn(
  xml: string,
  column: string,
  firstRow: number,
  lastRow: number,
): { xml: string; count: number } {
  let out = '';
  let count = 0;
  let pos = 0;
  for (let i = xml.indexOf('<c ', pos); i >= 0; i = xml.indexOf('<c ', pos)) {
    const open = xml.indexOf('>', i);
    if (open < 0) break;
    const selfClosing = xml[open - 1] === '/';
    const end = selfClosing ? open + 1 : xml.indexOf('</c>', open) + 4;
    if (end < 4) break;
    const tag = xml.slice(i, open + 1);
    const ref = attr(tag, 'r');
    const type = attr(tag, 't');
    let replaced = false;
    if (ref && !selfClosing && (type === null || type === 'n')) {
      const [col, row] = splitRef(ref);
      if (col === column && row >= firstRow && row <= lastRow) {
        const body = xml.slice(open + 1, end - 4);
        const v0 = body.indexOf('<v>');
        const v = v0 >= 0 ? Number(body.slice(v0 + 3, body.indexOf('</v>', v0))) : NaN;
        if (isSmall(v) && body.indexOf('<f') < 0) {
          const style = attr(tag, 's');
          out += xml.slice(pos, i) + `<c r="${ref}"${style ? ` s="${style}"` : ''} t="inlineStr"><is><t>c</t></is></c>`;
          count++;
          replaced = true;
        }
      }
    }
    if (!replaced) out += xml.slice(pos, end);
    pos = end;
  }
  return { xml: out + xml.slice(pos), count };
}

/** Removes every row of a sheet (its sheetData), keeping the sheet itself so nothing else in the file breaks. */
export function emptySheet(xml: string): string {
  const a = xml.indexOf('<sheetData');
  if (a < 0) return xml;
  const selfClosing = xml.indexOf('/>', a) >= 0 && xml.indexOf('/>', a) < xml.indexOf('>', a) + 1;
  if (selfClosing) return xml;
  const b = xml.indexOf('</sheetData>', a);
  if (b < 0) return xml;
  return `${xml.slice(0, a)}<sheetData/>${xml.slice(b + '</sheetData>'.length)}`;
}

export async function prepareToShare(xlsx: Uint8Array, plan: SharePlan): Promise<ShareResult> {
  const zip = await JSZip.loadAsync(xlsx);
  const parts = await sheetParts(zip);
  const removed: string[] = [];
  let suppressed = 0;
  for (const name of plan.emptySheets) {
    const part = parts.get(name);
    if (!part || !zip.file(part)) continue;
    zip.file(part, emptySheet(await zip.file(part)!.async('string')));
    removed.push(`the add-in's hidden sheet "${name}"`);
  }
  for (const c of plan.counts) {
    const part = parts.get(c.sheet);
    if (!part || !zip.file(part)) continue;
    const r = suppressColumn(await zip.file(part)!.async('string'), c.column, c.firstRow, c.lastRow);
    zip.file(part, r.xml);
    suppressed += r.count;
    if (r.count)
      removed.push(`${r.count} caseload count${r.count === 1 ? '' : 's'} from ${SMALL_RANGE} in ${c.table} (now "c")`);
  }
  // Excel rebuilds its calculation chain; a stale one would point at cells that changed.
  if (zip.file('xl/calcChain.xml')) zip.remove('xl/calcChain.xml');
  const bytes = await zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE' });
  return { bytes, removed, suppressed };
}
