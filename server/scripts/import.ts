import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { withDatabase } from './cli';
import { BadInput } from '../errors';
import { importFinance, IMPORT_KINDS } from '../modules/imports/finance';
import { FileRejected, formatRowError } from '../modules/imports/report';
import { cliViewer } from '../modules/imports/cli';

const USAGE = `usage: npm run import -- KIND FILE [--dry-run]
  KIND is one of: ${IMPORT_KINDS.map((k) => k.kind).join(', ')}
  FILE is a CSV or XLSX made from the hub's template (GET /import/templates/KIND.xlsx).
  For the GIAS school register use: npm run import:gias -- FILE [--la 886]`;

const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'dry-run': { type: 'boolean', default: false } } });

void withDatabase(async ({ dataSource }) => {
  const [kind, file] = positionals;
  if (!kind || !file) throw new BadInput(USAGE);
  if (!fs.existsSync(file)) throw new BadInput(`No such file: ${file}`);
  try {
    const r = await importFinance(dataSource, kind, fs.readFileSync(file), { viewer: cliViewer(), source: 'IMPORT', fileName: path.basename(file), dryRun: values['dry-run'] });
    console.log(r.message);
    console.log(`  ${r.rows} rows (${r.format}): created ${r.created}, updated ${r.updated}, unchanged ${r.unchanged}, rejected ${r.rejected}`);
    if (r.ignoredColumns.length) console.log(`  columns ignored (not in the template): ${r.ignoredColumns.join(', ')}`);
    for (const e of r.errors) console.log(`  ${formatRowError(e)}`);
    if (r.errorCount > r.errors.length) console.log(`  … and ${r.errorCount - r.errors.length} more problems`);
    if (r.errorCount > 0) process.exitCode = 1;
  } catch (err) {
    if (err instanceof FileRejected) {
      process.exitCode = 1;
      console.error(`Nothing imported. ${err.message}`);
      for (const e of err.errors) console.error(`  ${formatRowError(e)}`);
      return;
    }
    throw err;
  }
});
