import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBenchHub } from './setup';
import { importGias, GiasSchool } from '../server/modules/imports/gias';
import { giasRowOf, writeGiasSample } from '../server/modules/imports/gias-sample';
import { SCHOOL_COLUMNS } from '../server/modules/school/school.sql';
import { Role } from '../server/auth/roles';

/** Samples the process's memory while `task` runs: the peak above the level it started from. */
async function withPeakMemory<T>(
  task: () => Promise<T>,
): Promise<{ result: T; ms: number; peakRssMb: number; peakHeapMb: number }> {
  global.gc?.();
  const base = process.memoryUsage();
  let rss = base.rss;
  let heap = base.heapUsed;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  }, 20);
  const started = process.hrtime.bigint();
  try {
    const result = await task();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    return {
      result,
      ms,
      peakRssMb: +((rss - base.rss) / 1e6).toFixed(1),
      peakHeapMb: +((heap - base.heapUsed) / 1e6).toFixed(1),
    };
  } finally {
    clearInterval(timer);
  }
}

/**
 * The 50,000-row GIAS import (rows/s and peak memory, against a 150,000-row file to show memory does not
 * grow with the file) and the XLSX export of every school's funding for a term. BENCH_DATABASE_URL, when
 * set, runs on PostgreSQL instead of PGlite.
 */
export async function benchImports(
  adminUrl: string | null = process.env.BENCH_DATABASE_URL ?? null,
): Promise<Record<string, unknown>> {
  const hub = await startBenchHub(adminUrl);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hnh-bench-gias-'));
  const out: Record<string, unknown> = { engine: hub.engine };
  try {
    const schools: GiasSchool[] = await hub.dataSource.query(`SELECT ${SCHOOL_COLUMNS} FROM school s ORDER BY urn`);
    const rows = schools.map((s, i) => giasRowOf(i % 50 === 0 ? { ...s, pupilsOnRoll: (s.pupilsOnRoll ?? 0) + 1 } : s));
    const viewer = { subject: 'bench', name: 'Bench', role: Role.FINANCE, communityCode: null, via: 'token' as const };
    for (const total of [50_000, 150_000]) {
      const file = path.join(dir, `edubasealldata-${total}.csv`);
      const { bytes } = await writeGiasSample(file, { laRows: rows, totalRows: total });
      const run = () =>
        importGias(hub.dataSource, fs.createReadStream(file, { highWaterMark: 1 << 20 }), {
          la: 886,
          viewer,
          source: 'IMPORT',
          fileName: path.basename(file),
        });
      const first = await withPeakMemory(run);
      const again = await withPeakMemory(run);
      const key = `gias ${total / 1000}k rows`;
      out[key] = {
        fileMb: +(bytes / 1e6).toFixed(1),
        'first run ms': Math.round(first.ms),
        'rows/s': Math.round(total / (first.ms / 1000)),
        'peak rss +MB': first.peakRssMb,
        'peak heap +MB': first.peakHeapMb,
        changed: first.result.updated + first.result.added + first.result.closed,
        're-run ms': Math.round(again.ms),
        're-run changed': again.result.updated + again.result.added + again.result.closed,
      };
    }
    const headers = { authorization: `Bearer ${hub.tokens.FINANCE}` };
    for (const format of ['xlsx', 'csv']) {
      await fetch(`${hub.url}/export/school-funding.${format}?term=AUTUMN-2025`, { headers }).then((r) =>
        r.arrayBuffer(),
      ); // warm
      const r = await withPeakMemory(async () => {
        const res = await fetch(`${hub.url}/export/school-funding.${format}?term=AUTUMN-2025`, { headers });
        if (res.status !== 200) throw new Error(`export failed: ${res.status} ${await res.text()}`);
        return Buffer.from(await res.arrayBuffer());
      });
      out[`export school-funding AUTUMN-2025 .${format}`] = {
        ms: Math.round(r.ms),
        kb: Math.round(r.result.length / 1024),
      };
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await hub.stop();
  }
  console.log('Imports and exports (' + out.engine + ')');
  console.table(Object.fromEntries(Object.entries(out).filter(([k]) => k !== 'engine')));
  return out;
}

if (require.main === module) void benchImports().catch((err) => ((process.exitCode = 1), console.error(err)));
