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
    fake.authConfig = { oidc: { issuer: 'https://login.microsoftonline.com/kcc-test/v2.0', audience: SSO_CLIENT_ID, clientId: SSO_CLIENT_ID } };
    const signIn = async (c: { name: string; roles: string[]; community?: string }) => {
      fake.data.tokens[`sso-${c.name}`] = { name: c.name, role: c.roles[0].toUpperCase(), communityCode: c.community ?? null };
      return `sso-${c.name}`;
    };
    return { url: srv.url, finance: 'finance-token', gql: async (q, v) => (await fake.handle({ query: q, variables: v }, 'Bearer finance-token')).json, signIn, stop: srv.close };
  }
  // The real hub with OIDC configured, trusting a key made here (Entra ID's stand-in); hub tokens still work.
  const { startTestHub } = await import('../helpers/hub');
  const { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } = await import('jose');
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const oidc = { issuer: 'https://login.microsoftonline.com/kcc-test/v2.0', audience: `api://localhost:3000/${SSO_CLIENT_ID}`, clientId: SSO_CLIENT_ID, jwksUrl: 'unused://', roleClaim: 'roles', communityClaim: 'community' };
  const hub = await startTestHub({ oidc, jwtKeys: createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k', alg: 'RS256' }] }) });
  const signIn = (c: { name: string; roles: string[]; community?: string }) =>
    new SignJWT({ ...c }).setProtectedHeader({ alg: 'RS256', kid: 'k' }).setIssuer(oidc.issuer).setAudience(oidc.audience).setSubject(`u-${c.name}`).setIssuedAt().setExpirationTime('1h').sign(privateKey);
  return { url: hub.url, finance: hub.tokens.FINANCE, gql: async (q, v) => (await hub.gql(q, v)).body, signIn, stop: () => hub.stop() };
}

const SSO_CLIENT_ID = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const describeIf = existsSync(CHROMIUM) ? describe : describe.skip;

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
  const waitStatus = (re: RegExp) => page.waitForFunction((src) => new RegExp(src).test(document.getElementById('status')!.textContent ?? ''), re.source, { timeout: 30_000 });
  const sheetTable = (name: string) => page.evaluate((n) => (window as any).__fakeExcel.workbook.tableValues(n), name) as Promise<unknown[][]>;

  beforeAll(async () => {
    mkdirSync(out, { recursive: true });
    execFileSync(process.execPath, [join(root, 'addin/build.mjs'), '--quiet'], { env: { ...process.env, ADDIN_OUT: dist }, stdio: 'pipe' });
    hub = await startHub();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startAddinServer } = require('../../addin/tools/server.cjs');
    addin = await startAddinServer({ root: dist, hubUrl: hub.url, port: 0 });

    // Three allocations of record to edit, in a community and term the hub knows.
    const terms = await hub.gql('{ periods { fundingTerms { code closed } } }');
    term = terms.data.periods.fundingTerms.find((t: any) => !t.closed)?.code ?? term;
    const c = await hub.gql('query($c: String!) { community(code: $c) { code schools { urn } } }', { c: community });
    community = c.data.community.code;
    const urns: number[] = c.data.community.schools.slice(0, 3).map((s: any) => s.urn);
    const seeded = await hub.gql('mutation($i: SubmitAllocationsInput!) { submitAllocations(input: $i) { applied results { result userErrors { code message } } } }', {
      i: { idempotencyKey: `seed-${Date.now()}`, decisionReference: 'SEED', reason: 'browser test', dryRun: false, rows: urns.map((u, k) => ({ schoolUrn: u, communityCode: community, term, amount: `${1000 * (k + 1)}.00`, purpose: 'Inclusion support', status: 'PROPOSED', baseVersion: null })) },
    });
    expect(seeded.data.submitAllocations.applied).toBe(true);

    // A scenario to pull, made the way Finance would: a copy of the record with protection at 60%.
    const created = await hub.gql('mutation($n: String!) { createScenario(name: $n) { id version } }', { n: 'Protection at 60% (browser test)' });
    expect(created.errors).toBeUndefined();
    scenarioId = created.data.createScenario.id;
    const updated = await hub.gql('mutation($id: String!, $v: Int) { updateScenarioParameters(id: $id, parameters: { protectionRate: "0.60" }, baseVersion: $v) { id version parameters } }', { id: scenarioId, v: created.data.createScenario.version });
    expect(updated.errors).toBeUndefined();
    expect(Number(updated.data.updateScenarioParameters.parameters.protectionRate)).toBe(0.6);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
    ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1500, height: 900 } });
    const fake = readFileSync(join(`${dist}-dev`, 'fake-office.js'), 'utf8');
    await ctx.route('**/office.js', (r) => r.fulfill({ status: 200, contentType: 'text/javascript', body: fake }));
    // Nothing may leave the machine: any request not to the add-in server fails the test.
    await ctx.route((u) => !u.href.startsWith(addin.url), (r) => { throw new Error(`unexpected external request ${r.request().url()}`); });
    page = await ctx.newPage();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await addin?.close();
    await hub?.stop();
  });

  it('connects, pulls, submits two edits, then shows a second writer\'s change as a conflict', async () => {
    await page.goto(`${addin.url}/taskpane.html`);
    await page.fill('#hub-token', hub.finance);
    await page.click('#connect-btn');
    await waitStatus(/Connected as/);
    expect(await page.locator('#who').innerText()).toMatch(/FINANCE/);
    await shot('01-connected');

    await page.selectOption('#dataset', 'schools');
    await page.fill('#f-communityCode', community);
    await page.click('#insert-btn');
    await waitStatus(/Inserted \d+ rows into HNH_schools/);
    const schools = await sheetTable('HNH_schools');
    expect(schools[0].slice(0, 3)).toEqual(['URN', 'LAESTAB', 'Name']);
    expect(schools.length).toBeGreaterThan(3);
    await shot('02-schools');

    await page.selectOption('#dataset', 'allocations');
    await page.click('#insert-btn');
    await waitStatus(/Inserted 3 rows into HNH_allocations/);
    await shot('03-allocations');

    const pulled = await sheetTable('HNH_allocations');
    // The hub orders allocations its own way: find the seeded rows by amount.
    const rowOf = (amount: number) => pulled.slice(1).findIndex((r) => r[pulled[0].indexOf('Amount')] === amount);
    const [r1, r2, r3] = [rowOf(1000), rowOf(2000), rowOf(3000)];
    expect([r1, r2, r3].sort((a, b) => a - b)).toEqual([0, 1, 2]);
    await page.evaluate(([a, b]) => {
      const wb = (window as any).__fakeExcel.workbook;
      wb.setTableCell('HNH_allocations', a, 'Amount', 1500.25);
      wb.setTableCell('HNH_allocations', b, 'Amount', 2750);
    }, [r1, r2]);
    await page.selectOption('#submit-table', 'HNH_allocations');
    await page.fill('#decision-ref', 'SG-2025-07');
    await page.fill('#reason', 'Sub-Group advice, July meeting');
    await shot('04-edited');
    await page.click('#preview-btn');
    await waitStatus(/Preview ready: 2 change/);
    const previewRows = await page.locator('#preview-rows tbody tr').allInnerTexts();
    expect(previewRows).toHaveLength(2);
    expect(previewRows.join('\n')).toMatch(/1000\.00 PROPOSED\s+1500\.25 PROPOSED\s+would update/);
    expect(previewRows.join('\n')).toMatch(/2000\.00 PROPOSED\s+2750\.00 PROPOSED\s+would update/);
    expect(await page.locator('#preview-totals tbody tr').count()).toBe(1);
    await shot('05-preview');

    await page.click('#confirm-btn');
    await waitStatus(/^Submitted$/);
    const after = await sheetTable('HNH_allocations');
    const col = (h: string) => after[0].indexOf(h);
    expect([after[r1 + 1][col('Result')], after[r2 + 1][col('Result')], after[r3 + 1][col('Result')]]).toEqual(['updated (v2)', 'updated (v2)', '']);
    expect(after[r1 + 1][col('Version')]).toBe(2);
    const onHub = await hub.gql('query($f: AllocationFilter) { allocations(filter: $f, first: 10, offset: 0) { nodes { schoolUrn amount version } } }', { f: { communityCode: community, term } });
    expect(onHub.data.allocations.nodes.map((n: any) => n.amount).sort()).toEqual(['1500.25', '2750.00', '3000.00']);
    await shot('06-submitted');

    // A second writer changes the third row on the hub; this workbook then edits the same row.
    const third = after[r3 + 1];
    const second = await hub.gql('mutation($i: SubmitAllocationsInput!) { submitAllocations(input: $i) { applied } }', {
      i: { idempotencyKey: `other-${Date.now()}`, decisionReference: 'OTHER', reason: 'second writer', dryRun: false, rows: [{ schoolUrn: third[col('School URN')], communityCode: community, term, amount: '3100.00', purpose: 'Inclusion support', status: 'PROPOSED', baseVersion: third[col('Version')] }] },
    });
    expect(second.data.submitAllocations.applied).toBe(true);
    await page.evaluate((r) => (window as any).__fakeExcel.workbook.setTableCell('HNH_allocations', r, 'Amount', 3333), r3);
    await page.click('#preview-btn');
    await waitStatus(/1 row\(s\) would be rejected/);
    const conflict = await page.locator('.conflict').innerText();
    expect(conflict).toMatch(/base: 3000\.00 PROPOSED \(v1\)/);
    expect(conflict).toMatch(/mine: 3333\.00 PROPOSED/);
    expect(conflict).toMatch(/theirs: 3100\.00 PROPOSED \(v2\)/);
    expect(await page.evaluate((r) => (window as any).__fakeExcel.workbook.tableFill('HNH_allocations', r, 'Version'), r3)).toBe('#F4CCCC');
    await shot('07-conflict');

    await page.click('.conflict .resolve-theirs');
    await waitStatus(/took their value/);
    const resolved = await sheetTable('HNH_allocations');
    expect(resolved[r3 + 1][col('Amount')]).toBe(3100);
    expect(resolved[r3 + 1][col('Version')]).toBe(2);
    await shot('08-took-theirs');
    expect(await status()).toMatch(new RegExp(`Row ${r3 + 1}`));
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
    const options = await page.locator('#f-scenario option').evaluateAll((os) => os.map((o) => ({ value: (o as HTMLOptionElement).value, label: o.textContent })));
    expect(options).toContainEqual({ value: scenarioId, label: expect.stringMatching(/^Protection at 60% \(browser test\) · private · v2 · /) });
    expect(await page.locator('#f-year').isVisible()).toBe(false);
    await page.selectOption('#f-scenario', scenarioId);
    await page.selectOption('#f-term', term);
    await page.fill('#f-communityCode', community);
    await page.click('#insert-btn');
    await waitStatus(/Inserted \d+ rows into HNH_scenario/);
    const table = await sheetTable('HNH_scenario');
    const head = table[0] as string[];
    expect(head).toEqual(['URN', 'Community', 'Term', 'Baseline funding', 'Protected', 'Community share', 'Banded top-up', 'Scenario total', 'Record total', 'Difference']);
    const rows = table.slice(1);
    expect(rows.length).toBeGreaterThan(3);
    const col = (h: string) => head.indexOf(h);
    expect(rows.every((r) => r[col('Term')] === term && r[col('Community')] === community)).toBe(true);
    // includeUnchanged: every row has a record total and a difference, and they add up.
    for (const r of rows) {
      expect(typeof r[col('Record total')]).toBe('number');
      expect(Math.round(((r[col('Scenario total')] as number) - (r[col('Record total')] as number)) * 100)).toBe(Math.round((r[col('Difference')] as number) * 100));
    }
    // Protection at 60% instead of the record's rate changes some schools' funding.
    expect(rows.some((r) => r[col('Difference')] !== 0)).toBe(true);
    await shot('09-scenario');
  }, 120_000);

  it('signs in with Microsoft (Office single sign-on) and shows who you are, or says why not and offers the token field', async () => {
    const sso = await ctx.newPage();
    await sso.goto(`${addin.url}/taskpane.html`);
    // The hub says (GET /auth/config, through the add-in server) that it accepts Microsoft sign-in.
    await sso.locator('#sso-btn').waitFor({ state: 'visible', timeout: 30_000 });
    const ssoStatus = (re: RegExp) => sso.waitForFunction((src) => new RegExp(src).test(document.getElementById('status')!.textContent ?? ''), re.source, { timeout: 30_000 });

    // Office's "user aborted" (13002): a clear message, still disconnected, the token field ready.
    await sso.evaluate(() => { (window as any).__fakeExcel.auth.respond = () => Promise.reject({ code: 13002, message: 'User canceled' }); });
    await sso.click('#sso-btn');
    await ssoStatus(/Signing in with Microsoft failed: Sign-in was cancelled/);
    expect(await sso.locator('#connect-reason').innerText()).toMatch(/cancelled.*token/);
    expect(await sso.locator('#main').isHidden()).toBe(true);
    expect(await sso.evaluate(() => document.activeElement?.id)).toBe('hub-token');
    await sso.screenshot({ path: join(out, '10-sso-cancelled.png'), fullPage: true });

    const jwt = await hub.signIn({ name: 'Alex Chair', roles: ['Chair'], community });
    await sso.evaluate((t) => { (window as any).__fakeExcel.auth.respond = () => t; }, jwt);
    await sso.check('#remember');
    await sso.click('#sso-btn');
    await ssoStatus(/Signed in with Microsoft as Alex Chair \(CHAIR, /);
    expect(await sso.locator('#who').innerText()).toBe(`Alex Chair · CHAIR · ${community}`);
    expect(await sso.locator('#main').isVisible()).toBe(true);
    const calls = await sso.evaluate(() => (window as any).__fakeExcel.auth.calls);
    expect(calls[calls.length - 1]).toEqual({ allowSignInPrompt: true, allowConsentPrompt: true, forMSGraphAccess: false });
    // "Remember" keeps the choice, never the Microsoft token; nothing of it reaches the workbook either.
    const stored = await sso.evaluate(() => Object.fromEntries((window as any).__fakeExcel.storage));
    expect(stored['hnh.signin']).toBe('microsoft');
    expect(JSON.stringify(stored)).not.toContain(jwt);
    expect(await sso.evaluate((t) => JSON.stringify((window as any).__fakeExcel.workbook.sheets.map((s: any) => s.grid())).includes(t), jwt)).toBe(false);
    await sso.screenshot({ path: join(out, '11-sso-signed-in.png'), fullPage: true });
    await sso.close();
  }, 120_000);
});
