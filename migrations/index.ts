import fs from 'node:fs';
import path from 'node:path';
import type { MigrationInterface } from 'typeorm';

/**
 * Every migration in this folder, in timestamp order. Discovered at run time so that compiled (.js) and
 * test-time (.ts) code see the same list and a new migration is never forgotten in a registry.
 */
export function allMigrations(): (new () => MigrationInterface)[] {
  return fs
    .readdirSync(__dirname)
    .filter((f) => /^\d+-[A-Za-z0-9]+\.(js|ts)$/.test(f) && !f.endsWith('.d.ts'))
    .sort()
    .flatMap((f) => Object.values(require(path.join(__dirname, f))) as (new () => MigrationInterface)[]);
}
