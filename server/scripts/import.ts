import 'reflect-metadata';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runCommand } from './cli';
import { IMPORT_KINDS } from '../modules/imports/finance';
import { fileInput } from './local/commands';

const USAGE = `usage: npm run import -- KIND FILE [--dry-run]
  KIND is one of: ${IMPORT_KINDS.map((k) => k.kind).join(', ')}
  FILE is a CSV or XLSX made from the hub's template (GET /import/templates/KIND.xlsx).
  For the GIAS school register use: npm run import:gias -- FILE (the LA is HUB_LA)`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'dry-run': { type: 'boolean', default: false } },
});
const [kind, file] = positionals;
try {
  if (!kind) throw new Error(USAGE);
  const input = fileInput(file, USAGE);
  void runCommand('import', { kind, fileName: path.basename(file), 'dry-run': values['dry-run'] }, { input });
} catch (err) {
  process.stderr.write(`high-needs-hub: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
