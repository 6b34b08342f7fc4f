import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { runCommand } from './cli';
import { fileInput } from './local/commands';
import { BadInput } from '../errors';

const USAGE = `usage: npm run import:gias -- FILE [--links LINKS_FILE] [--la CODE] [--dry-run] [--encoding win1252|utf8]
                                [--allow-mass-close] [--no-follow-community] [--no-follow URN,URN]
  FILE is the GIAS "all establishment data" CSV (edubasealldata<date>.csv); LINKS_FILE its links file
  (links_edubasealldata<date>.csv), imported after it. --la defaults to the hub's own (HUB_LA).
  On a conversion the successor joins its predecessor's community from the conversion date, unless
  --no-follow-community (for all) or --no-follow with the successors' URNs.`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    la: { type: 'string' },
    links: { type: 'string' },
    'no-follow-community': { type: 'boolean', default: false },
    'no-follow': { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    encoding: { type: 'string' },
    'allow-mass-close': { type: 'boolean', default: false },
  },
});

async function run(command: string, label: string, file: string, args: Record<string, string | boolean | undefined>) {
  const input = fileInput(file, USAGE);
  const size = fs.statSync(file).size;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} {bar} {percentage}% | {rows} rows | {mb}/{totalMb} MB`,
      hideCursor: true,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(size, 0, { rows: 0, mb: '0.0', totalMb: (size / 1e6).toFixed(1) });
  try {
    await runCommand(
      command,
      { ...args, fileName: path.basename(file) },
      { input, onProgress: (bytes, rows) => bar.update(bytes, { rows, mb: (bytes / 1e6).toFixed(1) }) },
    );
  } finally {
    bar.stop();
  }
}

async function main() {
  const file = positionals[0];
  const { links, 'no-follow-community': noFollowCommunity, 'no-follow': noFollow, ...gias } = values;
  // A missing links file or a malformed --no-follow is refused before the register is touched.
  if (links) fileInput(links, USAGE);
  const bad = (noFollow ?? '').split(',').find((u) => u.trim() !== '' && !/^\d{6}$/.test(u.trim()));
  if (bad !== undefined)
    throw new BadInput(`--no-follow takes six-digit successor URNs separated by commas; got "${bad.trim()}".`);
  await run('import:gias', 'GIAS', file, gias);
  // The links name schools of the register: they go in only once the register has.
  if (links && !process.exitCode)
    await run('import:gias-links', 'GIAS links', links, {
      'dry-run': gias['dry-run'],
      encoding: gias.encoding,
      'no-follow-community': noFollowCommunity,
      'no-follow': noFollow,
    });
}

main().catch((err) => {
  process.stderr.write(`high-needs-hub: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
