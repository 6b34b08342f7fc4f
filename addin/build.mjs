#!/usr/bin/env node
// Builds the add-in into addin/dist for ADDIN_HOST (default https://localhost:3000).
//   node addin/build.mjs            build; fail if functions.json or the operations module drifted
//   node addin/build.mjs --update   build and rewrite the tracked generated files
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { renderOperationsModule } from './tools/operations.mjs';
import { iconPng } from './tools/png.mjs';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
// ADDIN_OUT lets tests build into their own folder while another test serves addin/dist.
const out = process.env.ADDIN_OUT ? resolve(process.env.ADDIN_OUT) : join(here, 'dist');
const devOut = `${out}-dev`;
const update = process.argv.includes('--update');
const quiet = process.argv.includes('--quiet');
const log = (...a) => quiet || console.log(...a);

export function addinHost() {
  const host = (process.env.ADDIN_HOST || 'https://localhost:3000').replace(/\/+$/, '');
  if (!/^https:\/\/[^/]+(\/.*)?$/.test(host)) {
    throw new Error(`ADDIN_HOST must be an https:// URL (Office refuses add-ins over http), got "${host}"`);
  }
  return host;
}

/**
 * Office single sign-on: with ADDIN_OIDC_CLIENT_ID (the Entra app registration's client id, the same as the
 * hub's OIDC_CLIENT_ID) the manifest gets a <WebApplicationInfo> block, so OfficeRuntime.auth.getAccessToken
 * can ask Entra ID for a token for the hub. Without it the block is left out and the pane offers tokens only.
 */
export function webApplicationInfo(host) {
  const clientId = process.env.ADDIN_OIDC_CLIENT_ID?.trim();
  if (!clientId) return '';
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(clientId)) {
    throw new Error(`ADDIN_OIDC_CLIENT_ID must be the Entra application (client) ID, a GUID; got "${clientId}"`);
  }
  const resource = `api://${new URL(host).host}/${clientId}`;
  return [
    '<WebApplicationInfo>',
    `      <Id>${clientId}</Id>`,
    `      <Resource>${resource}</Resource>`,
    '      <Scopes>',
    '        <Scope>openid</Scope>',
    '        <Scope>profile</Scope>',
    '      </Scopes>',
    '    </WebApplicationInfo>',
  ].join('\n');
}

function checkOrWrite(path, content, regenerate) {
  const current = existsSync(path) ? readFileSync(path, 'utf8') : null;
  if (current === content) return false;
  if (!update) {
    throw new Error(
      `${path.replace(root + '/', '')} is out of date with its source. Run \`${regenerate}\` and commit the result.`,
    );
  }
  writeFileSync(path, content);
  return true;
}

export async function generateFunctionsJson() {
  const { generateCustomFunctionsMetadata } = require('custom-functions-metadata');
  const res = await generateCustomFunctionsMetadata(join(here, 'src/functions/functions.ts'));
  if (res.errors.length) throw new Error(`custom functions metadata:\n${res.errors.join('\n')}`);
  const meta = JSON.parse(res.metadataJson);
  // The generator always sets allowCustomDataForDataTypeAny, which needs CustomFunctionsRuntime 1.4; the
  // functions return plain numbers and text (no data types), so it is dropped and 1.2 suffices.
  delete meta.allowCustomDataForDataTypeAny;
  return JSON.stringify(meta, null, 2) + '\n';
}

const OFFICE_FILES =
  /^(office\.js|excel-(web|win32|mac|ios|android|winrt)-16\.0\d(-core)?\.js|custom-functions-runtime\.js|o15apptofilemappingtable\.js|es6-promise\.js)$/;

async function main() {
  const host = addinHost();
  const t0 = Date.now();

  const opsPath = join(here, 'src/core/operations.generated.ts');
  if (checkOrWrite(opsPath, renderOperationsModule(join(root, 'schema/operations')), 'node addin/build.mjs --update'))
    log('updated', opsPath);
  const functionsJson = await generateFunctionsJson();
  if (checkOrWrite(join(here, 'functions.json'), functionsJson, 'node addin/build.mjs --update'))
    log('updated addin/functions.json');

  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'assets'), { recursive: true });
  mkdirSync(devOut, { recursive: true });

  const common = {
    bundle: true,
    format: 'iife',
    target: 'es2020',
    sourcemap: true,
    logLevel: 'warning',
    legalComments: 'none',
  };
  await Promise.all([
    build({ ...common, entryPoints: [join(here, 'src/taskpane/taskpane.ts')], outfile: join(out, 'taskpane.js') }),
    build({ ...common, entryPoints: [join(here, 'src/functions/entry.ts')], outfile: join(out, 'functions.js') }),
    // The fake Office host is for the browser test and the bench only; it never goes into dist/.
    build({
      ...common,
      sourcemap: false,
      entryPoints: [join(here, 'src/dev/fake-office.ts')],
      outfile: join(devOut, 'fake-office.js'),
    }),
  ]);

  for (const f of ['taskpane.html', 'taskpane.css']) cpSync(join(here, 'src/taskpane', f), join(out, f));
  cpSync(join(here, 'support.html'), join(out, 'support.html'));
  writeFileSync(join(out, 'functions.json'), functionsJson);
  for (const s of [16, 32, 80]) writeFileSync(join(out, `assets/icon-${s}.png`), iconPng(s));

  // office.js from the npm package, never a CDN: it loads its host-specific scripts from next to itself.
  const officeDist = join(dirname(require.resolve('@microsoft/office-js/package.json')), 'dist');
  for (const f of readdirSync(officeDist)) {
    const p = join(officeDist, f);
    if (statSync(p).isFile() && OFFICE_FILES.test(f)) cpSync(p, join(out, f));
    else if (statSync(p).isDirectory() && /^en-(us|gb)$/.test(f)) cpSync(p, join(out, f), { recursive: true });
  }

  const sso = webApplicationInfo(host);
  const manifest = readFileSync(join(here, 'manifest.template.xml'), 'utf8')
    .replaceAll('{{HOST}}', host)
    .replace(/^( *){{WEB_APPLICATION_INFO}}\n/m, sso ? `$1${sso}\n` : '');
  writeFileSync(join(out, 'manifest.xml'), manifest);
  log(
    `addin built for ${host}${sso ? ' with Office single sign-on' : ''} in ${Date.now() - t0} ms → ${out} (manifest: ${join(out, 'manifest.xml')})`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(`addin build failed: ${e.message}`);
    process.exit(1);
  });
}
