import 'reflect-metadata';
import { runCommand } from './cli';

const USAGE = `usage: npm run periods -- FIRST LAST   e.g. npm run periods -- 2024-25 2027-28
  Generates the financial years FIRST to LAST, their academic years and funding terms (Summer 5/12, Autumn 4/12,
  Spring 3/12). Periods already held are kept. School term dates come from: npm run import -- school-terms FILE`;

const [first, last] = process.argv.slice(2);
if (!first || !last) {
  process.stderr.write(`${USAGE}\n`);
  process.exitCode = 1;
} else void runCommand('periods', { first, last });
