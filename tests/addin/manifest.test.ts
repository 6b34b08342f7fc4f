import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import { composeQuery, parseOperation } from '../../addin/src/core/compose';
import { OPERATIONS } from '../../addin/src/core/operations.generated';
import { declaredSets, officeApiUses, sourceFiles, versionAtLeast, type ApiUse } from './office-api';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';

const root = join(__dirname, '../..');
const dist = join(root, 'tests/artifacts/addin/dist-manifest');
const HOST = 'https://addin.example.test:8443';

beforeAll(() => {
  // Fails (and names the fix) if functions.json or the operations module drifted from their sources.
  execFileSync(process.execPath, [join(root, 'addin/build.mjs'), '--quiet'], {
    env: { ...process.env, ADDIN_HOST: HOST, ADDIN_OUT: dist },
    stdio: 'pipe',
  });
}, 120_000);

const xml = () => readFileSync(join(dist, 'manifest.xml'), 'utf8');

describe('add-in manifest (offline)', () => {
  it('is read by office-addin-manifest as an Excel task pane add-in for the configured host', () => {
    // office-addin-manifest pulls in ES-only modules that jest's CommonJS runtime cannot load; plain Node can.
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        `require('office-addin-manifest').OfficeAddinManifest.readManifestFile(${JSON.stringify(join(dist, 'manifest.xml'))}).then((i) => console.log(JSON.stringify(i)))`,
      ],
      { cwd: root },
    );
    const info = JSON.parse(String(out));
    expect(info).toMatchObject({
      id: '6f1c2a57-8e44-4b7e-9d0a-3c5b8f2e1a86',
      officeAppType: 'TaskPaneApp',
      hosts: ['Workbook'],
      displayName: 'High Needs Hub',
      defaultSettings: { sourceLocation: `${HOST}/taskpane.html` },
    });
  });

  it("bundles the server's small-count threshold without the server's solver (glpk)", () => {
    for (const bundle of ['taskpane.js', 'functions.js']) {
      const js = readFileSync(join(dist, bundle), 'utf8');
      expect(js).not.toMatch(/glpk/i);
    }
    expect(readFileSync(join(dist, 'taskpane.js'), 'utf8')).toContain('caseload/small-counts.ts');
  });

  it('uses only https URLs on the host, each resolving to a built file', () => {
    const urls = [...xml().matchAll(/(?:DefaultValue|<AppDomain>)="?(https?:\/\/[^"<]+)/g)].map((m) => m[1]);
    expect(urls.length).toBeGreaterThan(8);
    for (const u of urls) {
      expect(u.startsWith(`${HOST}`)).toBe(true);
      const path = u.slice(HOST.length);
      if (path) expect(existsSync(join(dist, path))).toBe(true);
    }
  });

  it('defines every resource id it references, and references every one it defines', () => {
    const x = xml();
    const used = new Set([...x.matchAll(/resid="([^"]+)"/g)].map((m) => m[1]));
    const defined = [...x.matchAll(/<bt:(?:Image|Url|String) id="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(defined).size).toBe(defined.length);
    expect([...used].filter((u) => !defined.includes(u))).toEqual([]);
    expect(defined.filter((d) => !used.has(d))).toEqual([]);
    expect(x).toMatch(/<Runtime resid="Taskpane.Url" lifetime="long"\/>/);
    expect(x).toMatch(/<bt:String id="Functions.Namespace" DefaultValue="HNH"\/>/);
  });

  it('refuses a non-https host at build time', () => {
    expect(() =>
      execFileSync(process.execPath, [join(root, 'addin/build.mjs'), '--quiet'], {
        env: { ...process.env, ADDIN_HOST: 'http://localhost:3000', ADDIN_OUT: dist },
        stdio: 'pipe',
      }),
    ).toThrow(/must be an https/);
    execFileSync(process.execPath, [join(root, 'addin/build.mjs'), '--quiet'], {
      env: { ...process.env, ADDIN_HOST: HOST, ADDIN_OUT: dist },
      stdio: 'pipe',
    });
  });
});

describe("the shared runtime, as Office's own converter reads the manifest", () => {
  const convert = (manifest: string, outDir: string) => {
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    // Offline (imageDownload false); like office-addin-manifest it needs plain Node for its ES-only dependencies.
    execFileSync(
      process.execPath,
      [
        '-e',
        `require('office-addin-manifest-converter').convert(${JSON.stringify(manifest)}, ${JSON.stringify(outDir)}, false, undefined, undefined, false).catch((e) => { console.error(e); process.exit(1); })`,
      ],
      { cwd: root, stdio: 'pipe' },
    );
    return JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8'));
  };

  it('has one long-lived runtime with the functions and the pane, and the ribbon button opens that page with no pane id of its own', () => {
    const m = convert(join(dist, 'manifest.xml'), join(root, 'tests/artifacts/addin/converted'));
    const ext = m.extensions[0];
    const long = ext.runtimes.filter((r: any) => r.lifetime === 'long');
    expect(long).toHaveLength(1);
    expect(long[0].code.page).toBe(`${HOST}/taskpane.html`);
    const button = ext.ribbons[0].tabs[0].groups[0].controls[0];
    const action = ext.runtimes
      .flatMap((r: any) => (r.actions ?? []).map((a: any) => ({ ...a, page: r.code.page })))
      .find((a: any) => a.id === button.actionId);
    expect(action).toMatchObject({ type: 'openPage', page: long[0].code.page });
    // The converter (0.4.x) looks every control's action up under a runtime record of lifetime "short"
    // (converter.js, _generateRuntimeLookupKey(..., RuntimesLifetime.Short, ...)), whatever the manifest says,
    // so it always adds one. That record carries nothing of its own: the same page as the long-lived runtime,
    // and only the button's action; no other page, no script, no second pane.
    const short = ext.runtimes.filter((r: any) => r.lifetime !== 'long');
    expect(short).toHaveLength(1);
    expect(short[0].code).toEqual({ page: long[0].code.page });
    expect(short[0].actions.map((a: any) => a.id)).toEqual([button.actionId]);
    expect(long[0].actions ?? []).toEqual([]);
    expect(new Set(ext.runtimes.map((r: any) => r.code.page))).toEqual(new Set([`${HOST}/taskpane.html`]));
    // A TaskpaneId names a separate pane: the converter then reports it as the action's view. Without one the
    // button shows the pane of the shared runtime (Microsoft's shared-runtime guide).
    expect(action.view).not.toBe('HNH.Taskpane');
    expect(xml()).not.toContain('<TaskpaneId>');
    expect(ext.requirements.capabilities).toEqual(
      expect.arrayContaining([
        { name: 'SharedRuntime', minVersion: '1.1' },
        { name: 'CustomFunctionsRuntime', minVersion: '1.3' },
        { name: 'ExcelApi', minVersion: '1.7' },
      ]),
    );
  });
});

describe('requirement sets of every Office.js API the add-in calls', () => {
  const files = sourceFiles(join(root, 'addin/src'), (p) => p.includes('/dev/'));
  let uses: ApiUse[] = [];
  beforeAll(() => {
    uses = officeApiUses(files, root);
    // The list, for people: every API with its set, and whether it is checked where used.
    mkdirSync(join(root, 'tests/artifacts/addin'), { recursive: true });
    const seen = new Map<string, string>();
    for (const u of uses)
      seen.set(`${u.api}`, `${u.set} ${u.version}${u.guarded ? ' (checked with isSetSupported)' : ''}`);
    writeFileSync(
      join(root, 'tests/artifacts/addin/office-apis.txt'),
      [...seen]
        .sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0))
        .map(([a, s]) => `${a}\t${s}`)
        .join('\n') + '\n',
    );
  }, 120_000);

  it('finds the APIs the code calls, with their sets from the Office.js declarations', () => {
    const by = new Map(uses.map((u) => [u.api, u]));
    expect(by.get('Excel.Table.resize')).toMatchObject({ set: 'ExcelApi', version: '1.13', guarded: true });
    expect(by.get('Excel.Worksheet.getRangeByIndexes')).toMatchObject({ set: 'ExcelApi', version: '1.7' });
    expect(by.get('Excel.Range.calculate')).toMatchObject({ set: 'ExcelApi', version: '1.6' });
    expect(by.get('CustomFunctions.Error')).toMatchObject({ set: 'CustomFunctionsRuntime', version: '1.2' });
    expect(new Set(uses.map((u) => u.api)).size).toBeGreaterThan(40);
  });

  it('calls nothing above what the manifest declares unless it is checked with isSetSupported where used', () => {
    const declared = declaredSets(xml());
    const over = uses.filter((u) => !u.guarded && !(declared[u.set] && versionAtLeast(declared[u.set], u.version)));
    expect(over.map((u) => `${u.api} needs ${u.set} ${u.version} (${u.file}:${u.line})`)).toEqual([]);
    // functions.json: allowCustomDataForDataTypeAny needs CustomFunctionsRuntime 1.4.
    const meta = JSON.parse(readFileSync(join(root, 'addin/functions.json'), 'utf8'));
    if (meta.allowCustomDataForDataTypeAny)
      expect(versionAtLeast(declared.CustomFunctionsRuntime ?? '1.1', '1.4')).toBe(true);
  });

  it('would fail on an unguarded call above the declared set, and passes the same call inside a check', () => {
    const bad = join(root, 'addin/src/__probe_unguarded.ts');
    const ok = join(root, 'addin/src/__probe_guarded.ts');
    const src = (guard: boolean) =>
      `export function f(t: Excel.Table, r: Excel.Range) { ${guard ? "if (Office.context.requirements.isSetSupported('ExcelApi', '1.13')) " : ''}t.resize(r); }\n`;
    const found = officeApiUses([bad, ok], root, { [bad]: src(false), [ok]: src(true) }).filter(
      (u) => u.api === 'Excel.Table.resize',
    );
    expect(found.map((u) => [u.file.replace(/.*\//, ''), u.guarded])).toEqual([
      ['__probe_unguarded.ts', false],
      ['__probe_guarded.ts', true],
    ]);
  }, 60_000);
});

describe('Office single sign-on in the manifest', () => {
  const ssoDist = join(root, 'tests/artifacts/addin/dist-manifest-sso');
  const CLIENT_ID = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
  const buildWith = (env: Record<string, string>, outDir: string) =>
    execFileSync(process.execPath, [join(root, 'addin/build.mjs'), '--quiet'], {
      env: { ...process.env, ADDIN_HOST: HOST, ADDIN_OUT: outDir, ...env },
      stdio: 'pipe',
    });

  it('has no <WebApplicationInfo> unless ADDIN_OIDC_CLIENT_ID is set', () => {
    const x = readFileSync(join(dist, 'manifest.xml'), 'utf8');
    expect(x).not.toMatch(/WebApplicationInfo|WEB_APPLICATION_INFO\}\}\n/);
    expect(x).toMatch(/<\/Resources>\n  <\/VersionOverrides>/);
  });

  it('renders the block after <Resources> with the client id, api://<host>/<client id> and openid/profile', () => {
    buildWith({ ADDIN_OIDC_CLIENT_ID: CLIENT_ID }, ssoDist);
    const file = join(ssoDist, 'manifest.xml');
    const x = readFileSync(file, 'utf8');
    expect(x).toContain(
      `    </Resources>\n    <WebApplicationInfo>\n      <Id>${CLIENT_ID}</Id>\n      <Resource>api://addin.example.test:8443/${CLIENT_ID}</Resource>\n` +
        '      <Scopes>\n        <Scope>openid</Scope>\n        <Scope>profile</Scope>\n      </Scopes>\n    </WebApplicationInfo>\n  </VersionOverrides>',
    );
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        `require('office-addin-manifest').OfficeAddinManifest.readManifestFile(${JSON.stringify(file)}).then((i) => console.log(JSON.stringify(i)))`,
      ],
      { cwd: root },
    );
    expect(JSON.parse(String(out))).toMatchObject({
      id: '6f1c2a57-8e44-4b7e-9d0a-3c5b8f2e1a86',
      officeAppType: 'TaskPaneApp',
      hosts: ['Workbook'],
    });
  });

  it('refuses a client id that is not a GUID', () => {
    expect(() => buildWith({ ADDIN_OIDC_CLIENT_ID: 'api://hub' }, ssoDist)).toThrow(
      /ADDIN_OIDC_CLIENT_ID must be the Entra application \(client\) ID/,
    );
  });
});

describe('custom functions metadata', () => {
  it('matches the tracked functions.json, with the five HNH functions and none volatile', () => {
    const built = JSON.parse(readFileSync(join(dist, 'functions.json'), 'utf8'));
    expect(built).toEqual(JSON.parse(readFileSync(join(root, 'addin/functions.json'), 'utf8')));
    expect(built.functions.map((f: any) => f.id)).toEqual(['FUNDING', 'POT', 'NOTIONALSEN', 'SCHOOL', 'CASELOAD']);
    expect(built.functions.some((f: any) => f.options?.volatile)).toBe(false);
  });
});

describe('operations against schema/schema.graphql', () => {
  const schema = buildSchema(readFileSync(join(root, 'schema/schema.graphql'), 'utf8'));
  const files = readdirSync(join(root, 'schema/operations')).filter((f) => f.endsWith('.graphql'));

  it.each(files)('%s is valid', (f) => {
    const errors = validate(schema, parse(readFileSync(join(root, 'schema/operations', f), 'utf8')));
    expect(errors.map((e) => e.message)).toEqual([]);
  });

  it('every operation the add-in sends validates, scenarios included, and the module matches the files', () => {
    expect(Object.keys(OPERATIONS).sort()).toEqual(files.map((f) => f.replace('.graphql', '')).sort());
    expect(Object.keys(OPERATIONS)).toEqual(expect.arrayContaining(['Scenario', 'Scenarios', 'FnScenarioSchools']));
    for (const [name, source] of Object.entries(OPERATIONS)) {
      expect([name, validate(schema, parse(source)).map((e) => e.message)]).toEqual([name, []]);
    }
    // Every school row of the scenario table has its record total: the comparison lists unchanged ones too.
    expect(OPERATIONS.Scenario).toMatch(/comparison\([^)]*includeUnchanged: true[^)]*\)/);
  });

  it('a composed custom-function batch is valid', () => {
    const ops = ['FnSchools', 'FnFunding', 'FnNotionalSen', 'FnPot', 'FnCaseloads', 'FnScenarioSchools'] as const;
    const { query } = composeQuery(
      'HnhFunctions',
      ops.map((o, i) => ({ alias: `f${i}`, op: parseOperation(OPERATIONS[o]), variables: {} })),
    );
    expect(validate(schema, parse(query)).map((e) => e.message)).toEqual([]);
  });
});
