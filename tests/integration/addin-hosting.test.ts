/**
 * The hub serves the built add-in at /addin/ (same origin as /graphql: no CORS needed), and answers CORS
 * only for the origins in CORS_ORIGINS.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, ConfigError } from '../../server/config';
import { createHub, type Hub } from '../../server/server';
import { createDemoTokens } from '../../server/bootstrap';
import { startTestDatabase, type TestDatabase } from '../helpers/db';

const root = join(__dirname, '../..');
const addinDir = join(root, 'tests/artifacts/addin/dist-hosted');

let db: TestDatabase;
let hub: Hub;
let url: string;
let token: string;

beforeAll(async () => {
  // Built for the hub's public URL, as production would: ADDIN_HOST=https://<hub>/addin.
  execFileSync(process.execPath, [join(root, 'addin/build.mjs'), '--quiet'], {
    env: { ...process.env, ADDIN_HOST: 'https://hub.kent.example/addin', ADDIN_OUT: addinDir },
    stdio: 'pipe',
  });
  db = await startTestDatabase();
  hub = await createHub({
    dataSource: db.dataSource,
    config: { bodyLimitBytes: 5 * 1024 * 1024, oidc: null, addinDir, corsOrigins: ['https://addin.kent.example'] },
    logger: pino({ level: 'silent' }),
  });
  url = await hub.listen(0);
  token = (await createDemoTokens(db.dataSource)).FINANCE;
}, 180_000);

afterAll(async () => {
  await hub?.stop();
  await db?.stop();
});

const me = (headers: Record<string, string> = {}) =>
  fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify({ query: '{ me { role } }' }),
  });

describe('the add-in served by the hub', () => {
  it('serves the pane, its scripts, functions.json and a manifest that points at the hub itself', async () => {
    const pane = await fetch(`${url}/addin/taskpane.html`);
    expect(pane.status).toBe(200);
    expect(pane.headers.get('content-type')).toMatch(/text\/html/);
    expect(await pane.text()).toContain('<script src="office.js"></script>');
    for (const f of ['taskpane.js', 'functions.js', 'functions.json', 'office.js', 'assets/icon-32.png'])
      expect([f, (await fetch(`${url}/addin/${f}`)).status]).toEqual([f, 200]);
    const manifest = await (await fetch(`${url}/addin/manifest.xml`)).text();
    expect(manifest).toContain('<SourceLocation DefaultValue="https://hub.kent.example/addin/taskpane.html"/>');
    expect((await fetch(`${url}/addin/..%2F..%2Fpackage.json`)).status).toBe(404);
  });

  it("needs no CORS for the pane on the hub's own origin, and answers CORS only for an allowed origin", async () => {
    const same = await me();
    expect(same.status).toBe(200);
    expect(same.headers.get('access-control-allow-origin')).toBeNull();

    const pre = await fetch(`${url}/graphql`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://addin.kent.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://addin.kent.example');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const allowed = await me({ origin: 'https://addin.kent.example' });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://addin.kent.example');
    expect((await allowed.json()).data.me.role).toBe('FINANCE');

    // Not on the list: no CORS headers, so a browser refuses the answer.
    const other = await fetch(`${url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect((await me({ origin: 'https://evil.example' })).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('reads CORS_ORIGINS and refuses one that is not an origin', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, http://localhost:3000' }).corsOrigins).toEqual([
      'https://a.example',
      'http://localhost:3000',
    ]);
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://a.example/pane' })).toThrow(ConfigError);
    expect(() => loadConfig({ CORS_ORIGINS: 'addin.example' })).toThrow(
      /CORS_ORIGINS: "addin.example" is not an origin/,
    );
  });
});
