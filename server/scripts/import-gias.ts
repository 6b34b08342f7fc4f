import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { runCommand } from './cli';
import { fileInput } from './local/commands';

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

async function main() {
  const file = positionals[0];
  const input = fileInput(file, USAGE);
  const size = fs.statSync(file).size;
  const bar = new cliProgress.SingleBar(
    { format: 'GIAS {bar} {percentage}% | {rows} rows | {mb}/{totalMb} MB', hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(size, 0, { rows: 0, mb: '0.0', totalMb: (size / 1e6).toFixed(1) });
  try {
    await runCommand(
      'import:gias',
      { ...values, fileName: path.basename(file) },
      { input, onProgress: (bytes, rows) => bar.update(bytes, { rows, mb: (bytes / 1e6).toFixed(1) }) },
    );
  } finally {
    bar.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`high-needs-hub: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
