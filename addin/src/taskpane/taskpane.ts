/* Wires the pane's DOM to AddinActions. No workbook or hub logic lives here. */
import { DATASETS, datasetById, type DatasetParams, type FilterName } from '../core/datasets';
import { pounds } from '../core/format';
import { whenText } from '../core/stamp';
import type { AuthConfig } from '../core/sso';
import { HubRequestError } from '../core/graphql';
import { OPERATIONS } from '../core/operations.generated';
import type { Conflict, Preview } from '../core/allocations';
import { ExcelGateway } from '../gateway/excel';
import { OfficeSignIn } from '../gateway/office-auth';
import { SsoError } from '../core/sso';
import { session } from '../shared/session';
import { AddinActions } from '../app/actions';
import { mountDataStatus } from '../app/data-status';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const val = (id: string) => ($<HTMLInputElement>(id).value ?? '').trim();
const TOKEN_KEY = 'hnh.token';
const URL_KEY = 'hnh.url';
/** "microsoft" when the person chose to be remembered after signing in with Microsoft (no token is stored). */
const SIGNIN_KEY = 'hnh.signin';

let authConfig: AuthConfig['oidc'] | undefined;
const actions = new AddinActions({
  port: new ExcelGateway(),
  signIn: new OfficeSignIn({ config: () => authConfig ?? undefined }),
});
let lastPreview: Preview | null = null;
let lastWarnings: string[] = [];
/** The running pull or refresh, for the Cancel button. */
let current: { cancelled: boolean } | null = null;

function setStatus(text: string, kind: 'busy' | 'error' | 'ok' | '' = '') {
  const s = $('status');
  s.textContent = text;
  s.className = kind;
}

/** What an action reports: words, and whether they are a success or a problem the person must act on. */
class Problem extends Error {}
const n = (x: number) => x.toLocaleString('en-GB');

function escapeHtml(s: unknown): string {
  return String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/**
 * Runs one action with a visible status. Every path ends the busy state: the hub client has its own
 * timeout, so "busy" can never outlive it.
 */
async function run(label: string, fn: () => Promise<string | void>, cancellable = false) {
  // Focus stays on the control that acted (disabling a focused button would drop it to <body>).
  const focused = document.activeElement as HTMLElement | null;
  const buttons = (Array.from(document.querySelectorAll('button')) as HTMLButtonElement[]).filter(
    (b) => b.id !== 'cancel-btn',
  );
  buttons.forEach((b) => (b.disabled = true));
  setStatus(`${label}…`, 'busy');
  current = cancellable ? { cancelled: false } : null;
  $('cancel-btn').hidden = !cancellable;
  try {
    const msg = await fn();
    setStatus(msg || `${label}: done`, 'ok');
  } catch (e) {
    if (e instanceof Problem) {
      setStatus(e.message, 'error');
      return;
    }
    if (e instanceof HubRequestError && e.kind === 'UNAUTHENTICATED') {
      showConnect('Your sign-in has expired or was refused. Reconnect: your edits in the workbook are kept.');
    }
    if (e instanceof SsoError) {
      // Microsoft sign-in did not work here: say why and fall back to the token field.
      showConnect(e.message);
      $('hub-token').focus();
    }
    setStatus(`${label} failed: ${(e as Error).message}`, 'error');
  } finally {
    buttons.forEach((b) => (b.disabled = false));
    $('cancel-btn').hidden = true;
    current = null;
    // Unless the action moved focus on purpose (to the token field, say), it goes back where it was.
    const now = document.activeElement;
    const lost = !now || now === document.body || now === focused;
    if (lost && focused && document.body.contains(focused) && !(focused as HTMLButtonElement).hidden) focused.focus();
  }
}

function progressText(
  verb: string,
  p: { table?: string; tableIndex?: number; tables?: number; received: number; total?: number },
) {
  const of = p.total !== undefined ? ` of ${n(p.total)}` : '';
  const which = p.tables ? ` (table ${p.tableIndex} of ${p.tables}${p.table ? `, ${p.table}` : ''})` : '';
  return `${verb}${which}: ${n(p.received)}${of} rows received…`;
}

function showConnect(reason?: string) {
  $('connect').hidden = false;
  const r = $('connect-reason');
  r.hidden = !reason;
  r.textContent = reason ?? '';
}

function showWho() {
  const me = session().me;
  $('who').textContent = me
    ? `${me.name} · ${me.role}${me.communityCode ? ` · ${me.communityCode}` : ''}`
    : 'Not connected';
  $('main').hidden = !me;
  if (me) $('connect').hidden = true;
}

function fillSelect(id: string, values: { value: string; label: string }[]) {
  const sel = $<HTMLSelectElement>(id);
  const first = sel.options[0];
  sel.innerHTML = '';
  if (first) sel.appendChild(first);
  for (const v of values) sel.add(new Option(v.label, v.value));
}

async function loadChoices() {
  try {
    const data = await session().client!.request<any>(OPERATIONS.Periods);
    // The codes, as the =HNH functions take them (SUMMER-2026), with the name beside.
    fillSelect(
      'f-term',
      data.periods.fundingTerms.map((t: any) => ({
        value: t.code,
        label: t.name && t.name !== t.code ? `${t.code} (${t.name})` : t.code,
      })),
    );
    fillSelect(
      'f-year',
      data.periods.financialYears.map((y: any) => ({ value: y.code, label: y.code })),
    );
    fillSelect(
      'f-period',
      data.periods.schoolTerms.map((y: any) => ({ value: y.code, label: y.code })),
    );
    fillSelect(
      'f-districtCode',
      data.districts.map((d: any) => ({ value: d.onsCode, label: d.name })),
    );
    await loadScenarios();
  } catch (e) {
    setStatus(`Could not load filter choices: ${(e as Error).message}`, 'error');
  }
}

/** Roles the hub lets see scenarios; the others get FORBIDDEN, so the pane does not ask for them. */
const SCENARIO_ROLES = new Set(['FINANCE', 'SUBGROUP']);

/** The scenario picker: every scenario this user can see, newest change first (Query.scenarios). */
async function loadScenarios() {
  const note = $('scenarios-note');
  const me = session().me;
  if (!me || !SCENARIO_ROLES.has(me.role)) {
    fillSelect('f-scenario', []);
    note.textContent = 'Scenarios are for Finance and the Sub-Group.';
    return;
  }
  const keep = val('f-scenario');
  const data = await session().client!.request<any>(OPERATIONS.Scenarios);
  const list: any[] = data.scenarios ?? [];
  fillSelect(
    'f-scenario',
    list.map((x) => ({ value: x.id, label: `${x.name} · ${x.state.toLowerCase()} · v${x.version} · ${x.ownerName}` })),
  );
  if (keep && list.some((x) => x.id === keep)) $<HTMLSelectElement>('f-scenario').value = keep;
  note.textContent = list.length ? '' : 'No scenarios yet: create one in the hub.';
}

function showFilters() {
  const def = datasetById(val('dataset'));
  document.querySelectorAll<HTMLElement>('#filters [data-filter]').forEach((el) => {
    el.hidden = !def.filters.includes(el.dataset.filter as FilterName);
  });
}

function params(): DatasetParams {
  const p: Record<string, string> = {};
  for (const f of [
    'districtCode',
    'communityCode',
    'phase',
    'term',
    'year',
    'kind',
    'groupBy',
    'period',
    'status',
    'scenario',
  ]) {
    const v = val(`f-${f}`);
    if (v) p[f] = v;
  }
  return p as DatasetParams;
}

async function renderTables() {
  const tables = await actions.listTables();
  const ul = $('tables');
  ul.innerHTML = tables.length ? '' : '<li class="muted">No tables yet</li>';
  for (const t of tables) {
    const li = document.createElement('li');
    li.className = t.status;
    li.innerHTML = `<b>${escapeHtml(t.table)}</b> on "${escapeHtml(t.sheet)}" · as at ${escapeHtml(whenText(t.stamp.asAt))}${t.status === 'failed' ? ` · <b>not refreshed</b>: ${escapeHtml(t.message)}` : ''} `;
    const b = document.createElement('button');
    b.textContent = 'Refresh';
    b.className = 'link refresh-one';
    b.onclick = () =>
      run(
        `Refreshing ${t.table}`,
        async () => {
          const r = await actions.refresh(t.id || t.table, {
            onProgress: (p) => setStatus(progressText(`Refreshing ${t.table}`, p), 'busy'),
            signal: current!,
          });
          await renderTables();
          if (r.status !== 'refreshed') throw new Problem(`${r.table}: not refreshed. ${r.message}`);
          return `Refreshed ${r.table}: ${r.message}`;
        },
        true,
      );
    li.appendChild(b);
    ul.appendChild(li);
  }
  fillSelect(
    'submit-table',
    tables
      .filter((t) => t.dataset === 'allocations')
      .map((t) => ({ value: t.id || t.table, label: `${t.table} on "${t.sheet}"` })),
  );
  ($('refresh-on-open') as HTMLInputElement).checked = await actions.refreshOnOpen().catch(() => false);
}

function renderPreview() {
  if (!lastPreview) return;
  const p = lastPreview;
  const errorsOnly = $<HTMLInputElement>('errors-only').checked;
  $('preview').hidden = false;
  const ok = p.rows.length - p.rejected;
  $('preview-summary').innerHTML =
    (p.rejected
      ? `<div class="error-box"><b>${n(p.rejected)} row${p.rejected === 1 ? '' : 's'} would be rejected</b>, so nothing can be sent yet: fix ${p.rejected === 1 ? 'it' : 'them'} in the sheet (highlighted, reason in the Result column) and preview again. ${n(ok)} other row${ok === 1 ? '' : 's'} would go through.</div>`
      : `<b>${n(p.rows.length)}</b> row${p.rows.length === 1 ? '' : 's'} would change.`) +
    (lastWarnings.length
      ? `<div class="warn-box"><b>Overspend:</b> ${lastWarnings.map(escapeHtml).join('<br>')}</div>`
      : '') +
    (p.errors.length ? `<div class="error-box">${p.errors.map(escapeHtml).join('<br>')}</div>` : '');
  $('preview-rows').querySelector('tbody')!.innerHTML = p.rows
    .filter((r) => !errorsOnly || r.rejected)
    .map(
      (r) =>
        `<tr class="${r.rejected ? 'rejected' : ''}"><td>${r.sheetRow ?? r.row + 1}</td><td>${escapeHtml(r.schoolName || '')}${r.schoolName ? '<br>' : ''}<span class="muted">${r.school} · ${escapeHtml(r.term)}</span></td><td class="num">${escapeHtml(r.before)}</td><td class="num">${escapeHtml(r.after)}</td><td>${escapeHtml(r.message)}</td></tr>`,
    )
    .join('');
  $('preview-totals').querySelector('tbody')!.innerHTML = p.totals
    .map(
      (t) =>
        `<tr class="${Number(t.approvedAfter) > Number(t.pot) ? 'over' : ''}"><td>${escapeHtml(t.communityCode)}</td><td>${escapeHtml(t.term)}</td><td class="num">${pounds(t.pot)}</td><td class="num">${pounds(t.approvedBefore)}</td><td class="num">${pounds(t.approvedAfter)}</td></tr>`,
    )
    .join('');
  ($('confirm-btn') as HTMLButtonElement).hidden = p.rejected > 0;
}

function renderConflicts(conflicts: Conflict[]) {
  const box = $('conflicts');
  box.innerHTML = '';
  for (const c of conflicts) {
    const div = document.createElement('div');
    div.className = 'conflict';
    div.innerHTML =
      `<b>${escapeHtml(c.schoolName ?? `Row ${c.row + 1}`)}</b> was changed by someone else since you pulled it.<br>` +
      `base (what you pulled): ${pounds(c.base?.amount)} ${escapeHtml(c.base?.status)} (v${c.base?.version})<br>` +
      `mine: ${pounds(c.mine.amount)} ${escapeHtml(c.mine.status)}<br>` +
      `theirs (now on the hub): ${pounds(c.theirs.amount)} ${escapeHtml(c.theirs.status)} (v${c.theirs.version})<br>`;
    for (const [choice, label] of [
      ['mine', 'Keep mine'],
      ['theirs', 'Take theirs'],
    ] as const) {
      const b = document.createElement('button');
      b.textContent = label;
      b.className = `resolve-${choice}`;
      b.onclick = () =>
        run(label, async () => {
          await actions.resolve(c, choice);
          renderConflicts(actions.conflicts);
          // The old preview no longer says what would be sent.
          $('preview').hidden = true;
          return `${c.schoolName ?? `Row ${c.row + 1}`}: ${choice === 'mine' ? 'kept your value on top of theirs; preview again to send it' : 'took their value'}`;
        });
      div.appendChild(b);
    }
    box.appendChild(div);
  }
}

/** Shows "Sign in with Microsoft" next to the token field when the hub at this address accepts it. */
async function showSignInOptions(url: string) {
  const cfg = await actions.authConfig(url);
  authConfig = cfg.oidc;
  $('sso').hidden = !cfg.oidc;
}

async function connect(url: string, token: string | null, remember: boolean) {
  if (token === null) await actions.signInWithMicrosoft(url);
  else await actions.connect(url, token);
  if (typeof OfficeRuntime !== 'undefined' && OfficeRuntime.storage) {
    try {
      // A Microsoft token is never stored: Office keeps its own sign-in, so only the choice is remembered.
      if (remember && token !== null) await OfficeRuntime.storage.setItem(TOKEN_KEY, token);
      else await OfficeRuntime.storage.removeItem(TOKEN_KEY);
      if (remember && token === null) await OfficeRuntime.storage.setItem(SIGNIN_KEY, 'microsoft');
      else await OfficeRuntime.storage.removeItem(SIGNIN_KEY);
      if (remember) await OfficeRuntime.storage.setItem(URL_KEY, url);
    } catch {
      // Storage is a convenience; the session still works from memory.
    }
  }
  void showSignInOptions(url);
  showWho();
  await loadChoices();
  await renderTables();
  const me = session().me!;
  return `${token === null ? 'Signed in with Microsoft' : 'Connected'} as ${me.name} (${me.role}${me.communityCode ? `, ${me.communityCode}` : ''})`;
}

async function refreshAll(): Promise<string> {
  try {
    const results = await actions.refreshAll({
      onProgress: (p) => setStatus(progressText('Refreshing all', p), 'busy'),
      signal: current ?? undefined,
    });
    $('refresh-results').innerHTML = results
      .map(
        (r) =>
          `<li class="${r.status === 'refreshed' ? '' : r.status}">${escapeHtml(r.table)}: ${r.status === 'refreshed' ? 'refreshed' : `<b>${r.status === 'failed' ? 'not refreshed' : r.status}</b>`} · ${escapeHtml(r.message)}</li>`,
      )
      .join('');
    const failed = results.filter((r) => r.status !== 'refreshed').length;
    if (failed)
      throw new Problem(
        `${failed} of ${results.length} table${results.length === 1 ? '' : 's'} not refreshed; see the list`,
      );
    return `Refreshed ${results.length} table${results.length === 1 ? '' : 's'}`;
  } finally {
    await renderTables().catch(() => undefined);
  }
}

function init() {
  const ds = $<HTMLSelectElement>('dataset');
  for (const d of DATASETS) ds.add(new Option(d.label, d.id));
  ds.onchange = showFilters;
  showFilters();

  // Forms, so Enter in a field does what its button does.
  $('connect-form').onsubmit = (ev) => {
    ev.preventDefault();
    void run('Connecting', () => connect(val('hub-url'), val('hub-token'), $<HTMLInputElement>('remember').checked));
  };
  $('cancel-btn').onclick = () => {
    if (current) current.cancelled = true;
    setStatus('Cancelling after the page in flight…', 'busy');
  };
  $('refresh-on-open').onchange = () =>
    run('Saving', async () => {
      const on = ($('refresh-on-open') as HTMLInputElement).checked;
      await actions.setRefreshOnOpen(on);
      return on ? 'Every table will be refreshed when this workbook opens' : 'Tables refresh only when you ask';
    });
  $('sso-btn').onclick = () =>
    run('Signing in with Microsoft', () => connect(val('hub-url'), null, $<HTMLInputElement>('remember').checked));
  $('hub-url').onchange = () => void showSignInOptions(val('hub-url'));
  $('disconnect-btn').onclick = () => {
    actions.disconnect();
    showWho();
    showConnect();
  };
  $('insert-btn').onclick = () =>
    run(
      'Pulling',
      async () => {
        const label = datasetById(val('dataset')).label;
        const r = await actions.insert(val('dataset'), params(), {
          onProgress: (p) => setStatus(progressText(`Pulling ${label}`, p), 'busy'),
          signal: current!,
        });
        await renderTables();
        return `${r.refreshed ? 'Refreshed' : 'Pulled'} ${n(r.rows)} rows into ${r.table} on "${r.sheet}"`;
      },
      true,
    );
  $('refresh-btn').onclick = () => run('Refreshing all', () => refreshAll(), true);
  $('preview-form').onsubmit = (ev) => {
    ev.preventDefault();
    void run('Previewing', async () => {
      $('preview').hidden = true;
      $('submit-result').textContent = '';
      lastPreview = null;
      const out = await actions.preview(val('submit-table'), val('decision-ref'), val('reason'));
      if (out.kind === 'blocked') {
        if (out.tableErrors.length) throw new Problem(out.tableErrors.join(' '));
        const more = out.issues.length > 5 ? ` and ${n(out.issues.length - 5)} more (see the Result column)` : '';
        throw new Problem(
          `Nothing was sent: ${n(out.issues.length)} cell${out.issues.length === 1 ? ' needs' : 's need'} fixing first. ${out.issues
            .slice(0, 5)
            .map((i) => i.message)
            .join('; ')}${more}.`,
        );
      }
      if (out.kind === 'nothing') return out.message;
      lastPreview = out.preview;
      lastWarnings = out.warnings;
      renderPreview();
      renderConflicts(actions.conflicts);
      if (out.preview.rejected)
        throw new Problem(
          `Preview: ${n(out.preview.rejected)} row${out.preview.rejected === 1 ? '' : 's'} would be rejected; nothing can be sent until ${out.preview.rejected === 1 ? 'it is' : 'they are'} fixed.`,
        );
      const creates = out.creates ? ` (${n(out.creates)} new)` : '';
      return `Preview ready: ${n(out.changes)} change${out.changes === 1 ? '' : 's'}${creates}${out.warnings.length ? '. Check the overspend warning before you confirm.' : ''}`;
    });
  };
  $('errors-only').onchange = renderPreview;
  $('scenarios-reload').onclick = () =>
    run('Loading scenarios', async () => {
      await loadScenarios();
      return `${$<HTMLSelectElement>('f-scenario').options.length - 1} scenario(s)`;
    });
  $('confirm-btn').onclick = () =>
    run('Submitting', async () => {
      const r = await actions.confirm();
      $('preview').hidden = true;
      renderConflicts(r.conflicts);
      const rejected = r.outcomes.filter((o) => o.result === 'REJECTED').length;
      $('submit-result').innerHTML = r.applied
        ? `<b>Submitted.</b> ${r.outcomes.length} row(s) written; results are in the Result column.`
        : `<b>Nothing written.</b> ${rejected} row(s) rejected; see the highlighted cells.${r.errors.length ? `<br>${r.errors.map(escapeHtml).join('<br>')}` : ''}`;
      if (!r.applied)
        throw new Problem(
          `Nothing was written: ${n(rejected)} row${rejected === 1 ? ' was' : 's were'} rejected (highlighted in the sheet).`,
        );
      return `Submitted: ${n(r.outcomes.length)} row${r.outcomes.length === 1 ? '' : 's'} written`;
    });
  $('share-btn').onclick = () =>
    run('Preparing a copy to share', async () => {
      const r = await actions.prepareToShare();
      return `A copy opened in a new window. Removed from it: ${r.removed.length ? r.removed.join('; ') : 'nothing needed removing'}. Save it before you send it.`;
    });
  mountDataStatus(document, run);
  $('chart-sv-btn').onclick = () => run('Charting Safety Valve', () => actions.chartSafetyValve());
  $('chart-scenario-btn').onclick = () =>
    run('Charting the scenario trajectory', () => actions.chartScenarioTrajectory(val('f-scenario')));
  $('chart-pots-btn').onclick = () =>
    run('Charting pots', () => actions.chartPots(val('f-term'), val('f-districtCode')));

  void (async () => {
    if (typeof OfficeRuntime === 'undefined' || !OfficeRuntime.storage) return showSignInOptions(val('hub-url'));
    try {
      const token = await OfficeRuntime.storage.getItem(TOKEN_KEY);
      const url = (await OfficeRuntime.storage.getItem(URL_KEY)) ?? '';
      const microsoft = (await OfficeRuntime.storage.getItem(SIGNIN_KEY)) === 'microsoft';
      if (token || microsoft) $<HTMLInputElement>('hub-url').value = url;
      await showSignInOptions(val('hub-url'));
      if (token) await run('Reconnecting', () => connect(url, token, true));
      else if (microsoft) await run('Signing in with Microsoft', () => connect(url, null, true));
      if (session().me && (await actions.refreshOnOpen()))
        await run('Refreshing all (on open)', () => refreshAll(), true);
    } catch {
      // No stored token: the form is already showing.
    }
  })();
}

void Office.onReady(() => init());
