// npm run lint (and lint:fix): ESLint and Prettier side by side, since each is single-threaded; fails when either does.
import { spawn } from 'node:child_process';

const fix = process.argv.includes('--fix');
const cache = ['--cache', '--cache-location', 'node_modules/.cache/eslint/'];
const run = (bin, args) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: 'inherit' });
    child.on('close', (code) => resolve(code ?? 1));
  });
const codes = await Promise.all([
  run('node_modules/eslint/bin/eslint.js', [...cache, ...(fix ? ['--fix'] : []), '.']),
  run('node_modules/prettier/bin/prettier.cjs', [fix ? '--write' : '--check', '--cache', '--log-level', 'warn', '.']),
]);
process.exit(codes.some((c) => c !== 0) ? 1 : 0);
