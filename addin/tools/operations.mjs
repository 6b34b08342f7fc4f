// Renders schema/operations/*.graphql into addin/src/core/operations.generated.ts, so the bundle and the
// jest tests use exactly the files the schema test validates.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function renderOperationsModule(dir) {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort();
  const lines = [
    '// DO NOT EDIT: generated from schema/operations/*.graphql by `node addin/build.mjs --update`.',
    'export const OPERATIONS = {',
  ];
  for (const f of files) {
    const name = f.replace(/\.graphql$/, '');
    lines.push(`  ${name}: ${JSON.stringify(readFileSync(join(dir, f), 'utf8'))},`);
  }
  lines.push('} as const;', '', 'export type OperationName = keyof typeof OPERATIONS;', '');
  return lines.join('\n');
}
