/**
 * The task pane's "Data status" section: its rendering (escaped, in words), and the built pane in headless
 * Chromium with the fake Office host against a real hub whose data has a gap.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  fetchDataStatus,
  renderDataStatus,
  sourceText,
  summaryText,
  type DataStatusView,
} from '../../addin/src/app/data-status';
import { OPERATIONS } from '../../addin/src/core/operations.generated';

const view = (over: Partial<DataStatusView> = {}): DataStatusView => ({
  period: 'AUTUMN-2026',
  communityCode: null,
  datasets: [
    {
      key: 'pots',
      title: 'Community pots',
      periodKind: 'fundingTerm',
      rows: 1234,
      latest: { kind: 'IMPORTED', file: 'pots.xlsx', by: 'A. Officer', at: '2026-11-30T10:15:00Z', rows: 52 },
      missing: ['AUTUMN-2026: no pot for TON-04'],
    },
    {
      key: 'notional-sen',
      title: 'Notional SEN factor inputs',
      periodKind: 'financialYear',
      rows: 0,
      latest: null,
      missing: [],
    },
  ],
  missing: ['AUTUMN-2026: no pot for TON-04'],
  ...over,
});

describe('data status rendering', () => {
  it('lists what is missing, then each dataset with its rows and latest load in words', () => {
    const html = renderDataStatus(view());
    expect(html).toContain('<b>Missing for AUTUMN-2026:</b>');
    expect(html).toContain('<li>AUTUMN-2026: no pot for TON-04</li>');
    expect(html).toMatch(
      /<tr data-key="pots" class="has-missing"><td>Community pots<\/td><td class="num">1,234<\/td><td>from pots.xlsx, by A. Officer, 30 Nov 2026, \d\d:\d\d<\/td><\/tr>/,
    );
    expect(html).toContain(
      '<tr data-key="notional-sen"><td>Notional SEN factor inputs</td><td class="num">0</td><td>no source recorded</td></tr>',
    );
    expect(summaryText(view())).toBe('Data status for AUTUMN-2026: 1 of 2 datasets hold rows; 1 thing missing');
    expect(renderDataStatus(view({ missing: [], communityCode: 'ASH-01' }))).toContain(
      'Nothing missing for AUTUMN-2026 for ASH-01.',
    );
  });

  it('escapes every text the hub sends back (file names are whatever an officer called them)', () => {
    const hostile = '<img src=x onerror="alert(1)">';
    const html = renderDataStatus(
      view({
        missing: [hostile],
        datasets: [
          {
            ...view().datasets[0],
            title: hostile,
            latest: { kind: 'IMPORTED', file: hostile, by: hostile, at: null, rows: 1 },
          },
        ],
      }),
    );
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;');
  });

  it('says computed and hand-entered rows in words', () => {
    expect(sourceText({ kind: 'COMPUTED', file: null, by: null, at: null, rows: 3 })).toBe(
      'computed by the funding model',
    );
    expect(sourceText({ kind: 'MANUAL', file: null, by: 'B. Officer', at: null, rows: 1 })).toBe(
      'entered by hand, by B. Officer',
    );
  });

  it('asks the hub with the DataStatus operation for the chosen term, and refuses no term', async () => {
    const calls: [string, unknown][] = [];
    const hub = {
      request: async <T>(q: string, v?: Record<string, unknown>) => {
        calls.push([q, v]);
        return { dataStatus: view() } as T;
      },
    };
    await expect(fetchDataStatus(hub, '')).rejects.toThrow('Choose a term');
    expect(calls).toEqual([]);
    expect((await fetchDataStatus(hub, 'AUTUMN-2026')).period).toBe('AUTUMN-2026');
    expect(calls).toEqual([[OPERATIONS.DataStatus, { term: 'AUTUMN-2026' }]]);
  });
});

const root = join(__dirname, '../..');
const out = join(root, 'tests/artifacts/addin');
const dist = join(out, 'dist-data-status');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const describeIf = existsSync(CHROMIUM) ? describe : describe.skip;
if (!existsSync(CHROMIUM)) process.stderr.write(`data status browser test: no Chromium at ${CHROMIUM}: skipped\n`);

describeIf('the Data status section in headless Chromium against a running hub', () => {
  let hub: import('../helpers/hub').TestHub;
  let addin: { url: string; close: () => Promise<void> };
  let browser: Browser;
  let page: Page;
  let potless = '';

  beforeAll(async () => {
    mkdirSync(out, { recursive: true });
    execFileSync(process.execPath, [join(root, 'addin/build.mjs'), '--quiet'], {
      env: { ...process.env, ADDIN_OUT: dist },
      stdio: 'pipe',
    });
    const { startTestHub } = await import('../helpers/hub');
    hub = await startTestHub();
    [{ code: potless }] = await hub.db.dataSource.query(
      `SELECT community_code AS code FROM community_pot WHERE term_code = 'AUTUMN-2026' ORDER BY community_code LIMIT 1`,
    );
    await hub.db.dataSource.query(`DELETE FROM community_pot WHERE term_code = 'AUTUMN-2026' AND community_code = $1`, [
      potless,
    ]);
    const { startAddinServer } = require('../../addin/tools/server.cjs');
    addin = await startAddinServer({ root: dist, hubUrl: hub.url, port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
      ],
    });
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 900, height: 1200 } });
    const fake = readFileSync(join(`${dist}-dev`, 'fake-office.js'), 'utf8');
    await ctx.route('**/office.js', (r) => r.fulfill({ status: 200, contentType: 'text/javascript', body: fake }));
    await ctx.route(
      (u) => !u.href.startsWith(addin.url),
      (r) => {
        throw new Error(`unexpected external request ${r.request().url()}`);
      },
    );
    page = await ctx.newPage();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await addin?.close();
    await hub?.stop();
  });

  const waitStatus = (re: RegExp) =>
    page.waitForFunction(
      (src) => new RegExp(src).test(document.getElementById('status')!.textContent ?? ''),
      re.source,
      { timeout: 60_000 },
    );

  it('shows the rows, files and the missing pot for the chosen term', async () => {
    await page.goto(`${addin.url}/taskpane.html`);
    await page.fill('#hub-token', hub.tokens.FINANCE);
    await page.click('#connect-btn');
    await waitStatus(/Connected as/);
    await page.click('#data-status-section > summary');
    await waitStatus(/terms to choose from/);
    await page.selectOption('#ds-term', 'AUTUMN-2026');
    await page.click('#data-status-btn');
    await waitStatus(/Data status for AUTUMN-2026: \d+ of \d+ datasets hold rows; 1 thing missing/);
    await page.screenshot({ path: join(out, 'data-status.png'), fullPage: true });
    expect(await page.locator('.ds-missing li').allInnerTexts()).toEqual([`AUTUMN-2026: no pot for ${potless}`]);
    const [{ n }] = await hub.db.dataSource.query(
      `SELECT count(*)::int AS n FROM community_pot WHERE term_code = 'AUTUMN-2026'`,
    );
    const pots = page.locator('tr[data-key="pots"] td');
    expect(await pots.allInnerTexts()).toEqual([
      'Community pots',
      n.toLocaleString('en-GB'),
      'computed by the funding model',
    ]);
    expect(await page.locator('tr[data-key="place-numbers"] td').nth(2).innerText()).toBe(
      'from high-needs-places-2026-27.csv, by demo data',
    );
  }, 120_000);
});
