import 'reflect-metadata';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runCommand } from './cli';
import { IMPORT_KINDS } from '../modules/imports/registry';
import { fileInput } from './local/commands';

/** Each kind's options as flags: financialYear is --financial-year. */
const flag = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const OPTION_FLAGS = [...new Set(IMPORT_KINDS.flatMap((k) => (k.options ?? []).map((o) => o.name)))];

const USAGE = `usage: npm run import -- KIND FILE [--dry-run] ${OPTION_FLAGS.map((o) => `[--${flag(o)} VALUE]`).join(' ')}
  KIND is one of: ${IMPORT_KINDS.map((k) => k.kind).join(', ')}
  FILE is a CSV or XLSX made from the hub's template (GET /import/templates/KIND.xlsx), or for apt-budgets, s251
  and place-numbers the DfE's published file as it comes.
  For the GIAS school register use: npm run import:gias -- FILE (the LA is HUB_LA)`;

try {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'dry-run': { type: 'boolean', default: false },
      ...Object.fromEntries(OPTION_FLAGS.map((o) => [flag(o), { type: 'string' as const }])),
    },
  });
  const given = values as Record<string, string | boolean | undefined>;
  const options = Object.fromEntries(
    OPTION_FLAGS.filter((o) => given[flag(o)] !== undefined).map((o) => [o, String(given[flag(o)])]),
  );
  const [kind, file] = positionals;
  if (!kind) throw new Error(USAGE);
  const input = fileInput(file, USAGE);
  void runCommand(
    'import',
    { kind, fileName: path.basename(file), 'dry-run': values['dry-run'], options: JSON.stringify(options) },
    { input },
  );
} catch (err) {
  process.stderr.write(`high-needs-hub: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
