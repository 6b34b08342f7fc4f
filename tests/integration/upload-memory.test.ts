import { spawn, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nearSizeCsv, nearSizeWorkbook } from '../../bench/big-xlsx';
import { UPLOAD_LIMITS } from '../../server/modules/imports/upload';
import { MAX_REPORTED_ERRORS } from '../../server/modules/imports/report';
import { startEmbedded } from '../../server/db/embedded';
import { createDataSource } from '../../server/db/datasource';
import { createDemoTokens, seedDemo } from '../../server/bootstrap';
import { precomputePatterns } from '../../server/modules/caseload/disclosure.store';

// Peak RSS depends on when V8 collects, which a loaded machine shifts: a run above the bound is measured again
// (at most twice more); a real regression is above it every time.
jest.retryTimes(2, { logErrorsBeforeRetry: true });

/*
 * Issue 10, item 7: a 20 MB file raises the hub's RSS by under 200 MB and other requests keep answering. Measured on
 * a hub in a process of its own (the built hub on an embedded folder, as `npm start` runs it; build first), so the
 * figure is the hub's alone: the kernel's peak (VmHWM, reset before the upload) and a sample every 20 ms.
 *
 * The folder holds the demo data marked REAL (a demo database refuses imports), as the import tests and the bench
 * load it. Every row of each file is rejected (a school not in the register, or the same school and term again), so
 * the whole file is read, every row validated and counted, and the report holds the first MAX_REPORTED_ERRORS
 * problems with the exact count of all of them.
 *
 * Before the compact table (TableRows: only the template's columns, one flat array of values, no object per row or
 * cell), a 19.97 MB XLSX raised the hub's RSS by 269 to 550 MB: the parsed table alone was 134 MB retained.
 */
const MAIN = path.resolve(__dirname, '../../dist/server/main.js');
const LIMIT_MB = 200;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hnh-upload-mem-'));
let child: ChildProcess;
let url: string;
let finance: string;
let knownUrn: number;

beforeAll(async () => {
  // The data folder, made before the hub starts on it: migrated, the demo data as REAL, one token per role.
  const embedded = await startEmbedded(dir);
  const ds = createDataSource({ url: embedded.url, poolSize: 1 });
  try {
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    await seedDemo(ds, { asRealData: true });
    finance = (await createDemoTokens(ds)).FINANCE;
    // Every disclosure pattern computed, as on a hub that has run a while: otherwise each new hub computes them in
    // the background (DISCLOSURE_PRECOMPUTE_MS) while the file is read, and the peak measures both.
    expect(await precomputePatterns(ds.manager)).toBeGreaterThan(0);
    expect(await precomputePatterns(ds.manager)).toBe(0);
    [{ urn: knownUrn }] = await ds.query(`SELECT urn FROM school ORDER BY urn LIMIT 1`);
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await embedded.stop();
  }
}, 600_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// A hub process of its own for each file, so one import's heap is not the next one's baseline.
beforeEach(async () => {
  child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, HUB_DATA_DIR: dir, PORT: '0', METRICS_PORT: '0', DATABASE_URL: '', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /GraphQL and explorer: (http:\/\/localhost:\d+)\/graphql/.exec(out);
      if (m) resolve(m[1].replace('localhost', '127.0.0.1'));
    });
    child.stderr!.on('data', (d) => (err += d));
    child.on('exit', (code) => reject(new Error(`hub exited ${code}: ${err}`)));
  });
}, 120_000);
afterEach(async () => {
  if (child && child.exitCode === null) {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  }
});

const status = (pid: number) => fs.readFileSync(`/proc/${pid}/status`, 'utf8');
const kb = (text: string, field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? NaN) * 1024;
const gql = (query: string) =>
  fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${finance}` },
    body: JSON.stringify({ query }),
  });

/** Imports `body` as a baseline-funding dry run with probe queries meanwhile; the hub's RSS before and at its peak. */
async function importMeasured(body: Buffer) {
  expect((await gql('{ me { role } }')).status).toBe(200); // warm
  const pid = child.pid!;
  const before = kb(status(pid), 'VmRSS');
  // Reset the kernel's peak to the current RSS (clear_refs 5); where that is refused, the samples alone count.
  let hwmReset = true;
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    hwmReset = false;
  }
  let sampled = before;
  const sampler = setInterval(() => {
    try {
      sampled = Math.max(sampled, kb(status(pid), 'VmRSS'));
    } catch {
      // the process is gone: the test fails on the upload below
    }
  }, 20);
  let importing = true;
  const probes: number[] = [];
  const probing = (async () => {
    while (importing) {
      const t0 = Date.now();
      const r = await gql('{ me { role } }');
      expect(r.status).toBe(200);
      await r.arrayBuffer();
      probes.push(Date.now() - t0);
      await new Promise((res) => setTimeout(res, 50));
    }
  })();
  const started = Date.now();
  const res = await fetch(`${url}/import/baseline-funding?dryRun=TRUE`, {
    method: 'POST',
    headers: { authorization: `Bearer ${finance}`, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(body),
  });
  const answer: any = await res.json();
  const ms = Date.now() - started;
  importing = false;
  await probing;
  clearInterval(sampler);
  const peak = Math.max(sampled, hwmReset ? kb(status(pid), 'VmHWM') : 0);
  probes.sort((a, b) => a - b);
  return {
    status: res.status,
    report: answer.report,
    ms,
    before,
    raised: peak - before,
    hwm: hwmReset ? 'reset' : 'not resettable',
    probes,
    p95: probes[Math.min(probes.length - 1, Math.floor(probes.length * 0.95))],
  };
}

function print(what: string, bytes: number, rows: number, m: Awaited<ReturnType<typeof importMeasured>>) {
  process.stdout.write(
    `upload-memory ${what}: ${(bytes / 1048576).toFixed(2)} MB, ${rows} rows, dry run ${m.ms} ms, hub RSS ${Math.round(m.before / 1048576)} MB before, ` +
      `+${Math.round(m.raised / 1048576)} MB at peak (VmHWM ${m.hwm}), ${m.probes.length} probes answered, p95 ${m.p95} ms\n`,
  );
}

const onLinux = process.platform === 'linux' ? it : it.skip;

onLinux(
  `an XLSX just under the 20 MB limit, every row rejected: the hub's RSS rises by under ${LIMIT_MB} MB, every row is counted, the report holds the first ${MAX_REPORTED_ERRORS}, and a probe query keeps answering`,
  async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'hnh-upload-xlsx-'));
    try {
      const file = path.join(work, 'big.xlsx');
      // School 100000 is not in the register: each row is reported, so each was read and validated.
      const { bytes, rows } = await nearSizeWorkbook(file, 100000, UPLOAD_LIMITS.financeBytes);
      expect(bytes).toBeGreaterThan(19.5 * 1024 * 1024);
      expect(bytes).toBeLessThanOrEqual(UPLOAD_LIMITS.financeBytes);
      const m = await importMeasured(fs.readFileSync(file));
      print('XLSX', bytes, rows, m);
      expect(m.status).toBe(400);
      expect(m.report).toMatchObject({ format: 'xlsx', rows, errorCount: rows, rejected: rows, applied: false });
      expect(m.report.errors).toHaveLength(MAX_REPORTED_ERRORS);
      expect(m.report.errors[0]).toEqual({
        line: 2,
        column: 'schoolUrn',
        value: '100000',
        reason: 'is not a school in the hub',
      });
      expect(m.report.errors[MAX_REPORTED_ERRORS - 1].line).toBe(MAX_REPORTED_ERRORS + 1);
      // The notes column is not the template's: named as ignored, its cells never kept.
      expect(m.report.ignoredColumns).toEqual(['notes']);
      expect(m.probes.length).toBeGreaterThan(0);
      expect(m.raised).toBeLessThan(LIMIT_MB * 1024 * 1024);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  },
  600_000,
);

onLinux(
  `a CSV just under the 20 MB limit, one school and term on every row: the first is accepted, every other reported as a duplicate, and the hub's RSS rises by under ${LIMIT_MB} MB`,
  async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'hnh-upload-csv-'));
    try {
      const file = path.join(work, 'big.csv');
      const { bytes, rows } = nearSizeCsv(file, knownUrn, UPLOAD_LIMITS.financeBytes);
      expect(bytes).toBeGreaterThan(19.5 * 1024 * 1024);
      expect(bytes).toBeLessThanOrEqual(UPLOAD_LIMITS.financeBytes);
      const m = await importMeasured(fs.readFileSync(file));
      print('CSV', bytes, rows, m);
      expect(m.status).toBe(400);
      // Every line from the third repeats the second's school and term: all of them rejected, the second with them.
      expect(m.report).toMatchObject({ format: 'csv', rows, errorCount: rows - 1, rejected: rows, applied: false });
      expect(m.report.errors).toHaveLength(MAX_REPORTED_ERRORS);
      expect(m.report.errors[0]).toEqual({
        line: 3,
        column: 'schoolUrn, term',
        value: `${knownUrn}|AUTUMN-2025`,
        reason: 'the same schoolUrn + term appears twice, on lines 2 and 3: keep one',
      });
      expect(m.probes.length).toBeGreaterThan(0);
      expect(m.raised).toBeLessThan(LIMIT_MB * 1024 * 1024);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  },
  600_000,
);
