/**
 * The built task pane in headless Chromium, with a fake Office/Excel host (addin/src/dev/fake-office.ts)
 * served in place of office.js, against a real hub started in-process (tests/helpers/hub.ts).
 * HNH_ADDIN_FAKE_HUB=1 runs it against tests/addin/helpers/fake-hub.ts instead (no database).
 * Screenshots of every step go to tests/artifacts/addin/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const root = join(__dirname, '../..');
const out = join(root, 'tests/artifacts/addin');
const dist = join(out, 'dist-browser');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

interface Hub {
  url: string;
  finance: string;
  gql: (q: string, v?: Record<string, unknown>) => Promise<any>;
  /** A sign-in token for this hub, as Office single sign-on would return it from Entra ID. */
  signIn: (claims: { name: string; roles: string[]; community?: string }) => Promise<string>;
  stop: () => Promise<void>;
}

async function startHub(): Promise<Hub> {
  if (process.env.HNH_ADDIN_FAKE_HUB === '1') {
    const { FakeHub } = await import('./helpers/fake-hub');
    const fake = new FakeHub();
    fake.data.allocations = [];
    const srv = await fake.listen();
    fake.authConfig = {
      oidc: {
        issuer: 'https://login.microsoftonline.com/kcc-test/v2.0',
        audience: SSO_CLIENT_ID,
        clientId: SSO_CLIENT_ID,
      },
    };
    const signIn = async (c: { name: string; roles: string[]; community?: string }) => {
      fake.data.tokens[`sso-${c.name}`] = {
        name: c.name,
        role: c.roles[0].toUpperCase(),
        communityCode: c.community ?? null,
      };
      return `sso-${c.name}`;
    };
    return {
      url: srv.url,
      finance: 'finance-token',
      gql: async (q, v) => (await fake.handle({ query: q, variables: v }, 'Bearer finance-token')).json,
      signIn,
      stop: srv.close,
    };
  }
  // The real hub with OIDC configured, trusting a key made here (Entra ID's stand-in); hub tokens still work.
  const { startTestHub } = await import('../helpers/hub');
  const { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } = await import('jose');
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const oidc = {
    issuer: 'https://login.microsoftonline.com/kcc-test/v2.0',
    audience: `api://localhost:3000/${SSO_CLIENT_ID}`,
    clientId: SSO_CLIENT_ID,
    jwksUrl: 'unused://',
    roleClaim: 'roles',
    communityClaim: 'community',
  };
  const hub = await startTestHub({
    oidc,
    jwtKeys: createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k', alg: 'RS256' }] }),
  });
  const signIn = (c: { name: string; roles: string[]; community?: string }) =>
    new SignJWT({ ...c })
      .setProtectedHeader({ alg: 'RS256', kid: 'k' })
      .setIssuer(oidc.issuer)
      .setAudience(oidc.audience)
      .setSubject(`u-${c.name}`)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
  return {
    url: hub.url,
    finance: hub.tokens.FINANCE,
    gql: async (q, v) => (await hub.gql(q, v)).body,
    signIn,
    stop: () => hub.stop(),
  };
}

const SSO_CLIENT_ID = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  const line = `browser test: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
  // In CI a missing browser is a failure, never a silent skip; locally, one line says why it did not run.
  if (process.env.CI === 'true')
    describe('the browser test', () =>
      it('needs Chromium', () => {
        throw new Error(line);
      }));
  else process.stderr.write(`${line}: skipped\n`);
}
const describeIf = haveChromium ? describe : describe.skip;

describeIf('task pane in headless Chromium against a running hub', () => {
  let hub: Hub;
  let addin: { url: string; close: () => Promise<void> };
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  let community = 'ASH-01';
  let term = 'SUMMER-2025';
  let scenarioId = '';
  const shot = (name: string) => page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
  const status = () => page.locator('#status').innerText();
  const waitStatus = (re: RegExp) =>
    page.waitForFunction(
      (src) => new RegExp(src).test(document.getElementById('status')!.textContent ?? ''),
      re.source,
      { timeout: 30_000 },
    );
  const sheetTable = (name: string) =>
    page.evaluate((n) => (window as any).__fakeExcel.workbook.tableValues(n), name) as Promise<unknown[][]>;

  beforeAll(async () => {
    mkdirSync(out, { recursive: true });
    execFileSync(process.execPath, [join(root, 'addin/build.mjs'), '--quiet'], {
      env: { ...process.env, ADDIN_OUT: dist },
      stdio: 'pipe',
    });
    hub = await startHub();

    const { startAddinServer } = require('../../addin/tools/server.cjs');
    addin = await startAddinServer({ root: dist, hubUrl: hub.url, port: 0 });

    // Three allocations of record to edit, in a community and term the hub knows.
    const terms = await hub.gql('{ periods { fundingTerms { code closed } } }');
    term = terms.data.periods.fundingTerms.find((t: any) => !t.closed)?.code ?? term;
    const c = await hub.gql('query($c: String!) { community(code: $c) { code schools { urn } } }', { c: community });
    community = c.data.community.code;
    const urns: number[] = c.data.community.schools.slice(0, 3).map((s: any) => s.urn);
    const seeded = await hub.gql(
      'mutation($i: SubmitAllocationsInput!) { submitAllocations(input: $i) { applied results { result userErrors { code message } } } }',
      {
        i: {
          idempotencyKey: `seed-${Date.now()}`,
          decisionReference: 'SEED',
          reason: 'browser test',
          dryRun: false,
          rows: urns.map((u, k) => ({
            schoolUrn: u,
            communityCode: community,
            term,
            amount: `${1000 * (k + 1)}.00`,
            purpose: 'Inclusion support',
            status: 'PROPOSED',
            baseVersion: null,
          })),
        },
      },
    );
    expect(seeded.data.submitAllocations.applied).toBe(true);

    // A scenario to pull, made the way Finance would: a copy of the record with protection at 60%.
    const created = await hub.gql('mutation($n: String!) { createScenario(name: $n) { id version } }', {
      n: 'Protection at 60% (browser test)',
    });
    expect(created.errors).toBeUndefined();
    scenarioId = created.data.createScenario.id;
    const updated = await hub.gql(
      'mutation($id: String!, $v: Int) { updateScenarioParameters(id: $id, parameters: { protectionRate: "0.60" }, baseVersion: $v) { id version parameters } }',
      { id: scenarioId, v: created.data.createScenario.version },
    );
    expect(updated.errors).toBeUndefined();
    expect(Number(updated.data.updateScenarioParameters.parameters.protectionRate)).toBe(0.6);

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
    ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1500, height: 900 } });
    const fake = readFileSync(join(`${dist}-dev`, 'fake-office.js'), 'utf8');
    await ctx.route('**/office.js', (r) => r.fulfill({ status: 200, contentType: 'text/javascript', body: fake }));
    // Nothing may leave the machine: any request not to the add-in server fails the test.
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

  it("connects, pulls, submits two edits, then shows a second writer's change as a conflict", async () => {
    await page.goto(`${addin.url}/taskpane.html`);
    await page.fill('#hub-token', hub.finance);
    await page.click('#connect-btn');
    await waitStatus(/Connected as/);
    expect(await page.locator('#who').innerText()).toMatch(/FINANCE/);
    await shot('01-connected');

    await page.selectOption('#dataset', 'schools');
    await page.fill('#f-communityCode', community);
    await page.click('#insert-btn');
    await waitStatus(/Pulled \d+ rows into HNH_schools/);
    const schools = await sheetTable('HNH_schools');
    expect(schools[0].slice(0, 3)).toEqual(['URN', 'LAESTAB', 'Name']);
    expect(schools.length).toBeGreaterThan(3);
    await shot('02-schools');

    await page.selectOption('#dataset', 'allocations');
    await page.click('#insert-btn');
    await waitStatus(/Pulled 3 rows into HNH_allocations/);
    await shot('03-allocations');

    const pulled = await sheetTable('HNH_allocations');
    // The hub orders allocations its own way: find the seeded rows by amount.
    const rowOf = (amount: number) => pulled.slice(1).findIndex((r) => r[pulled[0].indexOf('Amount')] === amount);
    const [r1, r2, r3] = [rowOf(1000), rowOf(2000), rowOf(3000)];
    expect([r1, r2, r3].sort((a, b) => a - b)).toEqual([0, 1, 2]);
    await page.evaluate(
      ([a, b]) => {
        const wb = (window as any).__fakeExcel.workbook;
        wb.setTableCell('HNH_allocations', a, 'Amount', 1500.25);
        wb.setTableCell('HNH_allocations', b, 'Amount', 2750);
      },
      [r1, r2],
    );
    await page.selectOption('#submit-table', { label: 'HNH_allocations on "Allocations"' });
    await page.fill('#decision-ref', 'SG-2025-07');
    await page.fill('#reason', 'Sub-Group advice, July meeting');
    await shot('04-edited');
    await page.click('#preview-btn');
    await waitStatus(/Preview ready: 2 change/);
    const previewRows = await page.locator('#preview-rows tbody tr').allInnerTexts();
    expect(previewRows).toHaveLength(2);
    expect(previewRows.join('\n')).toMatch(/£1,000\.00 PROPOSED\s+£1,500\.25 PROPOSED\s+would update/);
    expect(previewRows.join('\n')).toMatch(/£2,000\.00 PROPOSED\s+£2,750\.00 PROPOSED\s+would update/);
    expect(await page.locator('#preview-totals tbody tr').count()).toBe(1);
    await shot('05-preview');

    await page.click('#confirm-btn');
    await waitStatus(/^Submitted: 2 rows written/);
    const after = await sheetTable('HNH_allocations');
    const col = (h: string) => after[0].indexOf(h);
    expect([after[r1 + 1][col('Result')], after[r2 + 1][col('Result')], after[r3 + 1][col('Result')]]).toEqual([
      'updated (v2)',
      'updated (v2)',
      '',
    ]);
    expect(after[r1 + 1][col('Version')]).toBe(2);
    const onHub = await hub.gql(
      'query($f: AllocationFilter) { allocations(filter: $f, first: 10, offset: 0) { nodes { schoolUrn amount version } } }',
      { f: { communityCode: community, term } },
    );
    expect(onHub.data.allocations.nodes.map((n: any) => n.amount).sort()).toEqual(['1500.25', '2750.00', '3000.00']);
    await shot('06-submitted');

    // A second writer changes the third row on the hub; this workbook then edits the same row.
    const third = after[r3 + 1];
    const second = await hub.gql('mutation($i: SubmitAllocationsInput!) { submitAllocations(input: $i) { applied } }', {
      i: {
        idempotencyKey: `other-${Date.now()}`,
        decisionReference: 'OTHER',
        reason: 'second writer',
        dryRun: false,
        rows: [
          {
            schoolUrn: third[col('School URN')],
            communityCode: community,
            term,
            amount: '3100.00',
            purpose: 'Inclusion support',
            status: 'PROPOSED',
            baseVersion: third[col('Version')],
          },
        ],
      },
    });
    expect(second.data.submitAllocations.applied).toBe(true);
    await page.evaluate(
      (r) => (window as any).__fakeExcel.workbook.setTableCell('HNH_allocations', r, 'Amount', 3333),
      r3,
    );
    await page.click('#preview-btn');
    await waitStatus(/Preview: 1 row would be rejected/);
    expect(await page.locator('#status').getAttribute('class')).toBe('error');
    const conflict = await page.locator('.conflict').innerText();
    // Named by the sheet's own row number and the school, not by an allocation id.
    expect(conflict).toMatch(new RegExp(`^Row ${r3 + 4} \\(.+\\) was changed by someone else`));
    expect(conflict).toMatch(/base \(what you pulled\): £3,000\.00 PROPOSED \(v1\)/);
    expect(conflict).toMatch(/mine: £3,333\.00 PROPOSED/);
    expect(conflict).toMatch(/theirs \(now on the hub\): £3,100\.00 PROPOSED \(v2\)/);
    expect(
      await page.evaluate((r) => (window as any).__fakeExcel.workbook.tableFill('HNH_allocations', r, 'Version'), r3),
    ).toBe('#F4CCCC');
    await shot('07-conflict');

    await page.click('.conflict .resolve-theirs');
    await waitStatus(/took their value/);
    const resolved = await sheetTable('HNH_allocations');
    expect(resolved[r3 + 1][col('Amount')]).toBe(3100);
    expect(resolved[r3 + 1][col('Version')]).toBe(2);
    await shot('08-took-theirs');
    expect(await status()).toMatch(new RegExp(`Row ${r3 + 4} \\(`));
  }, 120_000);

  it('pulls a scenario picked from the list next to the figures of record', async () => {
    if (await page.locator('#main').isHidden()) {
      await page.goto(`${addin.url}/taskpane.html`);
      await page.fill('#hub-token', hub.finance);
      await page.click('#connect-btn');
      await waitStatus(/Connected as/);
    }
    await page.selectOption('#dataset', 'scenario');
    // The picker lists the scenarios this user can see (Query.scenarios); the one made in setup is there.
    const options = await page
      .locator('#f-scenario option')
      .evaluateAll((os) => os.map((o) => ({ value: (o as HTMLOptionElement).value, label: o.textContent })));
    expect(options).toContainEqual({
      value: scenarioId,
      label: expect.stringMatching(/^Protection at 60% \(browser test\) · private · v2 · /),
    });
    expect(await page.locator('#f-year').isVisible()).toBe(false);
    await page.selectOption('#f-scenario', scenarioId);
    await page.selectOption('#f-term', term);
    await page.fill('#f-communityCode', community);
    await page.click('#insert-btn');
    await waitStatus(/Pulled \d+ rows into HNH_scenario/);
    const table = await sheetTable('HNH_scenario');
    const head = table[0] as string[];
    expect(head).toEqual([
      'URN',
      'School',
      'Community',
      'Term',
      'Baseline funding',
      'Protected',
      'Community share',
      'Banded top-up',
      'Scenario total',
      'Record total',
      'Difference',
    ]);
    const rows = table.slice(1);
    expect(rows.length).toBeGreaterThan(3);
    const col = (h: string) => head.indexOf(h);
    expect(rows.every((r) => r[col('Term')] === term && r[col('Community')] === community)).toBe(true);
    // includeUnchanged: every row has a record total and a difference, and they add up.
    for (const r of rows) {
      expect(typeof r[col('Record total')]).toBe('number');
      expect(Math.round(((r[col('Scenario total')] as number) - (r[col('Record total')] as number)) * 100)).toBe(
        Math.round((r[col('Difference')] as number) * 100),
      );
    }
    // Protection at 60% instead of the record's rate changes some schools' funding.
    expect(rows.some((r) => r[col('Difference')] !== 0)).toBe(true);
    await shot('09-scenario');
  }, 120_000);

  const fake = () => 'window.__fakeExcel.workbook';
  const wbEval = <T>(fn: string) => page.evaluate(`(() => { const wb = ${fake()}; return ${fn}; })()`) as Promise<T>;

  it("pulls the scenario's whole block per year beside the record and the plan, and charts its trajectory", async () => {
    if (await page.locator('#main').isHidden()) {
      await page.goto(`${addin.url}/taskpane.html`);
      await page.fill('#hub-token', hub.finance);
      await page.click('#connect-btn');
      await waitStatus(/Connected as/);
    }
    await page.selectOption('#dataset', 'scenarioBlock');
    await page.selectOption('#f-scenario', scenarioId);
    await page.click('#insert-btn');
    await waitStatus(/Pulled \d+ rows into HNH_scenarioBlock/);
    const table = await sheetTable('HNH_scenarioBlock');
    const head = table[0] as string[];
    const col = (h: string) => head.indexOf(h);
    const rows = table.slice(1);
    const years = [...new Set(rows.filter((r) => r[col('Section')] !== 'Missing driver').map((r) => r[0]))];
    // To the end of the Safety Valve agreement (2027-28).
    expect(years).toContain('2027-28');
    const cumulative = rows.filter((r) => r[col('Code')] === 'CUMULATIVE');
    expect(cumulative).toHaveLength(years.length);
    for (const r of cumulative) {
      expect(typeof r[col('Scenario')]).toBe('number');
      expect(typeof r[col('Record')]).toBe('number');
      expect(Math.round(((r[col('Scenario')] as number) - (r[col('Record')] as number)) * 100)).toBe(
        Math.round((r[col('Difference')] as number) * 100),
      );
    }
    expect(cumulative.some((r) => typeof r[col('Plan')] === 'number')).toBe(true);
    // Protection at 60% lowers the protection line in the years it applies, so the block differs from the record.
    const protection = rows.filter((r) => r[col('Code')] === 'INDIVIDUAL_PROTECTION');
    expect(protection.some((r) => (r[col('Difference')] as number) < 0)).toBe(true);
    // Each year's lines add up to its total spend.
    for (const fy of years) {
      const spend = rows.filter((r) => r[0] === fy && r[col('Section')] === 'Spend');
      const lines = spend.filter((r) => r[col('Code')] !== 'SPEND');
      const total = spend.find((r) => r[col('Code')] === 'SPEND')!;
      expect(Math.round(lines.reduce((n, r) => n + (r[col('Scenario')] as number) * 100, 0))).toBe(
        Math.round((total[col('Scenario')] as number) * 100),
      );
    }
    await shot('09b-scenario-block');
    await page.click('summary:has-text("Charts")');
    await page.click('#chart-scenario-btn');
    await waitStatus(/Added a chart on "Scenario trajectory chart"/);
    const charts = await wbEval<{ title: string; type: string }[]>(
      `wb.sheet('Scenario trajectory chart').charts.map((c) => ({ title: c.title.text, type: c.type }))`,
    );
    expect(charts).toEqual([
      {
        title: 'Cumulative DSG position: "Protection at 60% (browser test)" beside the plan and the record',
        type: 'Line',
      },
    ]);
    await shot('09c-scenario-trajectory-chart');
    await page.click('#chart-scenario-btn');
    await waitStatus(/Updated the chart on "Scenario trajectory chart"/);
    expect(await wbEval<number>(`wb.sheet('Scenario trajectory chart').charts.length`)).toBe(1);
  }, 120_000);

  it('refreshes in place: a user column with a formula, a note beside the table and a formula on another sheet all survive', async () => {
    await page.selectOption('#dataset', 'funding');
    await page.selectOption('#f-term', term);
    await page.fill('#f-communityCode', community);
    await page.click('#insert-btn');
    await waitStatus(/Pulled \d+ rows into HNH_funding/);
    const id = await wbEval<string>(`wb.table('HNH_funding').id`);
    await wbEval(
      `(wb.addUserColumn('HNH_funding', 'Double', '=[@Total]*2'), wb.setCell('School funding', 'N5', 'Checked with Jo, 3 June'), wb.addSheet('Summary'), wb.setCell('Summary', 'B2', '=SUM(HNH_funding[Total])'), 0)`,
    );
    await page.click('#refresh-btn');
    await waitStatus(/^Refreshed \d+ tables?/);
    expect(await wbEval<string>(`wb.table('${id}').name`)).toBe('HNH_funding');
    const t = await sheetTable('HNH_funding');
    const head = t[0] as string[];
    expect(head.at(-1)).toBe('Double');
    for (const r of t.slice(1)) expect(r[head.indexOf('Double')]).toBe((r[head.indexOf('Total')] as number) * 2);
    expect(await wbEval(`wb.sheet('School funding').valueAt(4, 13)`)).toBe('Checked with Jo, 3 June');
    const sum = await wbEval<number>(`wb.sheet('Summary').valueAt(1, 1)`);
    expect(sum).toBe(Math.round(t.slice(1).reduce((n, r) => n + (r[head.indexOf('Total')] as number), 0) * 100) / 100);
    await wbEval(`(wb.active = 'School funding', wb.onSync(), 0)`);
    await shot('12-refresh-kept-user-work');
  }, 120_000);

  it('refreshes a table the user renamed, on the sheet they renamed, without making another', async () => {
    await wbEval(`(wb.renameTable('HNH_schools', 'OurSchools'), wb.renameSheet('Schools', 'Our schools'), 0)`);
    const tables = await wbEval<number>('wb.tables.length');
    await page.click('#refresh-btn');
    await waitStatus(/^Refreshed \d+ tables?/);
    expect(await wbEval<number>('wb.tables.length')).toBe(tables);
    expect(await page.locator('#tables').innerText()).toMatch(/OurSchools on "Our schools"/);
    expect((await sheetTable('OurSchools')).length).toBeGreaterThan(3);
    await wbEval(`(wb.active = 'Our schools', wb.onSync(), 0)`);
    await shot('13-renamed-table-refreshed');
  }, 120_000);

  it('creates the first allocation for a community and term that has none, typed into the empty pulled table', async () => {
    const cs = await hub.gql('{ communities { code } }');
    const other = cs.data.communities.map((c: any) => c.code).find((c: string) => c !== community);
    const members = await hub.gql('query($c: String!) { community(code: $c) { schools { urn name } } }', { c: other });
    const school = members.data.community.schools[0];
    await page.selectOption('#dataset', 'allocations');
    await page.fill('#f-communityCode', other);
    await page.selectOption('#f-term', term);
    await page.click('#insert-btn');
    await waitStatus(/Pulled 0 rows into HNH_allocations_2/);
    await page.evaluate(
      ([u, c, t]) => {
        const wb = (window as any).__fakeExcel.workbook;
        for (const [k, v] of Object.entries({
          'School URN': u,
          Community: c,
          Term: t,
          Amount: 4200,
          Status: 'PROPOSED',
          Purpose: 'Speech and language',
        }))
          wb.setTableCell('HNH_allocations_2', 0, k, v);
      },
      [school.urn, other, term],
    );
    await page.selectOption('#submit-table', { label: 'HNH_allocations_2 on "Allocations 2"' });
    await page.fill('#decision-ref', 'SG-2025-11');
    await page.fill('#reason', 'First allocation for this community');
    await page.press('#reason', 'Enter');
    await waitStatus(/Preview ready: 1 change \(1 new\)/);
    expect(await page.locator('#preview-rows tbody').innerText()).toMatch(/new\s+£4,200\.00 PROPOSED\s+would create/);
    await page.click('#confirm-btn');
    await waitStatus(/^Submitted: 1 row written/);
    const onHub = await hub.gql(
      'query($f: AllocationFilter) { allocations(filter: $f, first: 10, offset: 0) { nodes { schoolUrn amount } } }',
      { f: { communityCode: other, term } },
    );
    expect(onHub.data.allocations.nodes).toEqual([{ schoolUrn: school.urn, amount: '4200.00' }]);
    await shot('14-first-allocation-created');
  }, 120_000);

  it('shows a preview with a rejected row as an error, on the row Excel shows, with the school named', async () => {
    const cs = await hub.gql('{ communities { code } }');
    const other = cs.data.communities.map((c: any) => c.code).find((c: string) => c !== community);
    const mine = await hub.gql('query($c: String!) { community(code: $c) { schools { urn } } }', { c: community });
    // A school of another community typed under this community's table: the hub says NOT_MEMBER.
    await page.evaluate(
      ([u, c, t]) => {
        const wb = (window as any).__fakeExcel.workbook;
        wb.typeBelowTable('HNH_allocations_2', {
          'School URN': u,
          Community: c,
          Term: t,
          Amount: 900,
          Status: 'PROPOSED',
          Purpose: 'Outreach',
        });
      },
      [mine.data.community.schools[0].urn, other, term],
    );
    await page.fill('#reason', 'Second allocation');
    await page.click('#preview-btn');
    await waitStatus(/Preview: 1 row would be rejected; nothing can be sent/);
    expect(await page.locator('#status').getAttribute('class')).toBe('error');
    expect(await page.locator('#preview-summary .error-box').innerText()).toMatch(/1 row would be rejected/);
    expect(await page.locator('#preview-rows tr.rejected').innerText()).toMatch(/^5\s/);
    expect(await page.locator('#confirm-btn').isHidden()).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('preview-btn');
    await wbEval(`(wb.active = 'Allocations 2', wb.onSync(), 0)`);
    await shot('16-preview-with-rejected-row');
  }, 120_000);

  it('recalculates =HNH cells that showed #N/A before sign-in, as soon as the pane connects', async () => {
    const p2 = await ctx.newPage();
    await p2.goto(`${addin.url}/taskpane.html`);
    await p2.evaluate(
      ([c, t]) => {
        const wb = (window as any).__fakeExcel.workbook;
        wb.setCell('Sheet1', 'A2', 'Pot');
        wb.setCell('Sheet1', 'B2', `=HNH.POT("${c}", "${t}")`);
        wb.setCell('Sheet1', 'A3', 'Approved');
        wb.setCell('Sheet1', 'B3', `=HNH.POT("${c}", "${t}", , "approved")`);
      },
      [community, term],
    );
    await p2.waitForFunction(() => (window as any).__fakeExcel.workbook.sheet('Sheet1').valueAt(1, 1) === '#N/A');
    await p2.screenshot({ path: join(out, '15a-functions-before-sign-in.png'), fullPage: true });
    await p2.fill('#hub-token', hub.finance);
    await p2.click('#connect-btn');
    await p2.waitForFunction(() => /Connected as/.test(document.getElementById('status')!.textContent ?? ''));
    await p2.waitForFunction(
      () => typeof (window as any).__fakeExcel.workbook.sheet('Sheet1').valueAt(1, 1) === 'number',
    );
    const pot = await hub.gql(
      'query($c: String!, $t: String!) { community(code: $c) { pot(term: $t) { amount approved } } }',
      { c: community, t: term },
    );
    expect(await p2.evaluate(() => (window as any).__fakeExcel.workbook.sheet('Sheet1').valueAt(1, 1))).toBe(
      Number(pot.data.community.pot.amount),
    );
    await p2.waitForFunction(
      () => typeof (window as any).__fakeExcel.workbook.sheet('Sheet1').valueAt(2, 1) === 'number',
    );
    // Only those two cells, not a full recalculation of every open workbook.
    expect(await p2.evaluate(() => (window as any).__fakeExcel.workbook.calculations)).toBe(0);
    expect((await p2.evaluate(() => (window as any).__fakeExcel.workbook.calculatedRanges)).sort()).toEqual([
      'Sheet1!B2',
      'Sheet1!B3',
    ]);
    await p2.screenshot({ path: join(out, '15-functions-after-sign-in.png'), fullPage: true });
    await p2.close();
  }, 120_000);

  it('marks a 10,000-row allocations table without any sync above 5 MB', async () => {
    const { FakeHub, FakeHubData } = await import('./helpers/fake-hub');
    const data = new FakeHubData(10_000);
    data.allocations = data.schools.map((x: any, i: number) => ({
      id: String(i + 1),
      schoolUrn: x.urn,
      communityCode: x.communityCode,
      term: 'SUMMER-2025',
      amount: '1000.00',
      purpose: 'Inclusion support',
      status: 'PROPOSED',
      version: 1,
    }));
    const bulk = new FakeHub(data);
    const p3 = await ctx.newPage();
    // A second hub at its own origin, answered in-process (with CORS for the pane's origin).
    await p3.route('https://bulk-hub.test/**', async (r) => {
      const cors = {
        'access-control-allow-origin': addin.url,
        'access-control-allow-headers': 'authorization, content-type, accept',
        'access-control-allow-methods': 'GET, POST, OPTIONS',
      };
      if (r.request().method() === 'OPTIONS') return r.fulfill({ status: 204, headers: cors });
      if (r.request().url().endsWith('/auth/config'))
        return r.fulfill({
          status: 200,
          headers: { ...cors, 'content-type': 'application/json' },
          body: '{"oidc":null}',
        });
      const res = await bulk.handle(JSON.parse(r.request().postData() ?? '{}'), r.request().headers().authorization);
      return r.fulfill({
        status: res.status,
        headers: { ...cors, 'content-type': 'application/json' },
        body: JSON.stringify(res.json),
      });
    });
    await p3.goto(`${addin.url}/taskpane.html`);
    await p3.fill('#hub-url', 'https://bulk-hub.test');
    await p3.fill('#hub-token', 'finance-token');
    await p3.click('#connect-btn');
    const st = (re: RegExp) =>
      p3.waitForFunction(
        (src) => new RegExp(src).test(document.getElementById('status')!.textContent ?? ''),
        re.source,
        { timeout: 60_000 },
      );
    await st(/Connected as Fiona Finance/);
    await p3.selectOption('#dataset', 'allocations');
    await p3.click('#insert-btn');
    await st(/Pulled 10,000 rows into HNH_allocations/);
    await p3.evaluate(() => {
      const wb = (window as any).__fakeExcel.workbook;
      const t = wb.table('HNH_allocations');
      const j = t.column('Amount');
      for (let r = 0; r < 10_000; r += 2) t.sheet.cell(t.r0 + 1 + r, t.c0 + j, true).value = 'ten';
      wb.syncs = [];
    });
    await p3.fill('#decision-ref', 'SG-BULK');
    await p3.fill('#reason', 'bulk');
    await p3.click('#preview-btn');
    await st(/Nothing was sent: 5,000 cells need fixing first/);
    const syncs = await p3.evaluate(() => (window as any).__fakeExcel.workbook.syncs.map((x: any) => x.bytes));
    expect(Math.max(...syncs)).toBeLessThan(5 * 1024 * 1024);
    expect(
      await p3.evaluate(() => (window as any).__fakeExcel.workbook.tableFill('HNH_allocations', 9998, 'Amount')),
    ).toBe('#F4CCCC');
    await p3.screenshot({ path: join(out, '17-10000-rows-marked.png'), fullPage: true });
    await p3.close();
  }, 180_000);

  it('signs in with Microsoft (Office single sign-on) and shows who you are, or says why not and offers the token field', async () => {
    const sso = await ctx.newPage();
    await sso.goto(`${addin.url}/taskpane.html`);
    // The hub says (GET /auth/config, through the add-in server) that it accepts Microsoft sign-in.
    await sso.locator('#sso-btn').waitFor({ state: 'visible', timeout: 30_000 });
    const ssoStatus = (re: RegExp) =>
      sso.waitForFunction(
        (src) => new RegExp(src).test(document.getElementById('status')!.textContent ?? ''),
        re.source,
        { timeout: 30_000 },
      );

    // Office's "user aborted" (13002): a clear message, still disconnected, the token field ready.
    await sso.evaluate(() => {
      (window as any).__fakeExcel.auth.respond = () => Promise.reject({ code: 13002, message: 'User canceled' });
    });
    await sso.click('#sso-btn');
    await ssoStatus(/Signing in with Microsoft failed: Sign-in was cancelled/);
    expect(await sso.locator('#connect-reason').innerText()).toMatch(/cancelled.*token/);
    expect(await sso.locator('#main').isHidden()).toBe(true);
    expect(await sso.evaluate(() => document.activeElement?.id)).toBe('hub-token');
    await sso.screenshot({ path: join(out, '10-sso-cancelled.png'), fullPage: true });

    const jwt = await hub.signIn({ name: 'Alex Chair', roles: ['Chair'], community });
    await sso.evaluate((t) => {
      (window as any).__fakeExcel.auth.respond = () => t;
    }, jwt);
    await sso.check('#remember');
    await sso.click('#sso-btn');
    await ssoStatus(/Signed in with Microsoft as Alex Chair \(CHAIR, /);
    expect(await sso.locator('#who').innerText()).toBe(`Alex Chair · CHAIR · ${community}`);
    expect(await sso.locator('#main').isVisible()).toBe(true);
    const calls = await sso.evaluate(() => (window as any).__fakeExcel.auth.calls);
    expect(calls[calls.length - 1]).toEqual({
      allowSignInPrompt: true,
      allowConsentPrompt: true,
      forMSGraphAccess: false,
    });
    // "Remember" keeps the choice, never the Microsoft token; nothing of it reaches the workbook either.
    const stored = await sso.evaluate(() => Object.fromEntries((window as any).__fakeExcel.storage));
    expect(stored['hnh.signin']).toBe('microsoft');
    expect(JSON.stringify(stored)).not.toContain(jwt);
    expect(
      await sso.evaluate(
        (t) => JSON.stringify((window as any).__fakeExcel.workbook.sheets.map((s: any) => s.grid())).includes(t),
        jwt,
      ),
    ).toBe(false);
    await sso.screenshot({ path: join(out, '11-sso-signed-in.png'), fullPage: true });
    await sso.close();
  }, 120_000);
});
