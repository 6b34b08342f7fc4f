import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { withDatabase } from './cli';
import { BadInput } from '../errors';
import { importGias } from '../modules/imports/gias';
import { FileRejected, formatRowError } from '../modules/imports/report';
import { cliViewer, printGiasReport } from '../modules/imports/cli';

const USAGE = `usage: npm run import:gias -- FILE [--la 886] [--dry-run] [--encoding win1252|utf8] [--allow-mass-close]
  FILE is the GIAS "all establishment data" CSV (edubasealldata<date>.csv).`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    la: { type: 'string', default: '886' },
    'dry-run': { type: 'boolean', default: false },
    encoding: { type: 'string' },
    'allow-mass-close': { type: 'boolean', default: false },
  },
});

void withDatabase(async ({ dataSource }) => {
  const file = positionals[0];
  if (!file) throw new BadInput(USAGE);
  if (!fs.existsSync(file)) throw new BadInput(`No such file: ${file}`);
  const la = Number(values.la);
  if (!Number.isInteger(la) || la < 100 || la > 999) throw new BadInput(`--la must be a 3-digit DfE LA code (Kent is 886); got ${values.la}.`);
  if (values.encoding && values.encoding !== 'win1252' && values.encoding !== 'utf8') throw new BadInput(`--encoding is win1252 or utf8.\n${USAGE}`);
  const size = fs.statSync(file).size;
  const bar = new cliProgress.SingleBar(
    { format: 'GIAS {bar} {percentage}% | {rows} rows | {mb}/{totalMb} MB', hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(size, 0, { rows: 0, mb: '0.0', totalMb: (size / 1e6).toFixed(1) });
  try {
    const report = await importGias(dataSource, fs.createReadStream(file, { highWaterMark: 1 << 20 }), {
      la,
      viewer: cliViewer(),
      source: 'IMPORT',
      fileName: path.basename(file),
      dryRun: values['dry-run'],
      encoding: values.encoding as 'win1252' | 'utf8' | undefined,
      maxCloseShare: values['allow-mass-close'] ? 1 : undefined,
      onProgress: (bytes, rows) => bar.update(bytes, { rows, mb: (bytes / 1e6).toFixed(1) }),
    });
    bar.stop();
    printGiasReport(report);
    if (report.errorCount > 0) process.exitCode = 1;
  } catch (err) {
    bar.stop();
    if (err instanceof FileRejected) {
      process.exitCode = 1;
      console.error(`Nothing imported. ${err.message}`);
      for (const e of err.errors) console.error(`  ${formatRowError(e)}`);
      return;
    }
    throw err;
  }
});
