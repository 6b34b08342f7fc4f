/*
 * The task pane's "Data status" section: what the hub holds for a chosen funding term, dataset by dataset
 * (rows, the file they came from, when, by whom), and what is missing, in the hub's own words. No workbook
 * is touched. The pane calls mountDataStatus once; everything else lives here.
 */
import { HubRequestError } from '../core/graphql';
import { OPERATIONS } from '../core/operations.generated';
import { session } from '../shared/session';

export interface DatasetSourceView {
  kind: string;
  file: string | null;
  by: string | null;
  at: string | null;
  rows: number;
}
export interface DatasetStatusView {
  key: string;
  title: string;
  periodKind: string | null;
  rows: number;
  latest: DatasetSourceView | null;
  missing: string[];
}
export interface DataStatusView {
  period: string;
  communityCode: string | null;
  datasets: DatasetStatusView[];
  missing: string[];
}

/** What a caller needs from the hub: one GraphQL request. */
export interface Requester {
  request<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

export async function fetchDataStatus(hub: Requester, term: string): Promise<DataStatusView> {
  if (!term) throw new Error('Choose a term to see what is loaded for it.');
  const data = await hub.request<{ dataStatus: DataStatusView }>(OPERATIONS.DataStatus, { term });
  return data.dataStatus;
}

const esc = (s: unknown) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** "3 Dec 2026, 14:05" in the person's own time zone; "" when the hub does not know when. */
function when(at: string | null): string {
  if (!at) return '';
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleString('en-GB', {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

/** Where a dataset's latest rows came from, in words. */
export function sourceText(s: DatasetSourceView | null): string {
  if (!s) return 'no source recorded';
  if (s.kind === 'COMPUTED') return 'computed by the funding model';
  const how = s.kind === 'MANUAL' ? 'entered by hand' : s.file ? `from ${s.file}` : 'imported';
  return [how, s.by ? `by ${s.by}` : '', when(s.at)].filter(Boolean).join(', ');
}

/** The section's HTML: the missing list first (what to do), then a table of every dataset. All text escaped. */
export function renderDataStatus(v: DataStatusView): string {
  const scope = v.communityCode ? ` for ${esc(v.communityCode)}` : '';
  const missing = v.missing.length
    ? `<p class="warn"><b>Missing for ${esc(v.period)}${scope}:</b></p><ul class="ds-missing">${v.missing
        .map((m) => `<li>${esc(m)}</li>`)
        .join('')}</ul>`
    : `<p class="ok">Nothing missing for ${esc(v.period)}${scope}.</p>`;
  const rows = v.datasets
    .map(
      (d) =>
        `<tr data-key="${esc(d.key)}"${d.missing.length ? ' class="has-missing"' : ''}><td>${esc(d.title)}</td>` +
        `<td class="num">${d.rows.toLocaleString('en-GB')}</td><td>${esc(sourceText(d.latest))}</td></tr>`,
    )
    .join('');
  return `${missing}<table class="ds-table"><thead><tr><th>Dataset</th><th>Rows</th><th>Latest load</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** One line for the status bar. */
export function summaryText(v: DataStatusView): string {
  const loaded = v.datasets.filter((d) => d.rows > 0).length;
  return `Data status for ${v.period}: ${loaded} of ${v.datasets.length} datasets hold rows; ${
    v.missing.length ? `${v.missing.length} thing${v.missing.length === 1 ? '' : 's'} missing` : 'nothing missing'
  }`;
}

/**
 * Wires the section: fills its term list from the hub when first opened, and shows the status on the button.
 * `run` is the pane's busy/status wrapper.
 */
export function mountDataStatus(
  doc: Document,
  run: (label: string, fn: () => Promise<string | void>) => Promise<void>,
): void {
  const section = doc.getElementById('data-status-section') as HTMLDetailsElement | null;
  const select = doc.getElementById('ds-term') as HTMLSelectElement | null;
  const button = doc.getElementById('data-status-btn') as HTMLButtonElement | null;
  const out = doc.getElementById('data-status');
  if (!section || !select || !button || !out) return;
  const hub = (): Requester => {
    const c = session().client;
    if (!c) throw new HubRequestError('UNAUTHENTICATED', 'Not connected: enter the hub address and your token');
    return c;
  };
  const fillTerms = async () => {
    if (select.options.length > 1) return;
    const data = await hub().request<any>(OPERATIONS.Periods);
    for (const t of data.periods.fundingTerms as { code: string; name?: string }[])
      select.add(new Option(t.name && t.name !== t.code ? `${t.code} (${t.name})` : t.code, t.code));
  };
  section.addEventListener('toggle', () => {
    if (!section.open || select.options.length > 1) return;
    void run('Loading terms', async () => {
      await fillTerms();
      return `${select.options.length - 1} terms to choose from`;
    });
  });
  button.onclick = () =>
    run('Loading data status', async () => {
      await fillTerms();
      const v = await fetchDataStatus(hub(), select.value);
      out.innerHTML = renderDataStatus(v);
      return summaryText(v);
    });
}
