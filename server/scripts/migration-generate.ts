import fs from 'node:fs';
import path from 'node:path';
import { startEmbedded } from '../db/embedded';
import { createDataSource } from '../db/datasource';
import { projectRoot } from '../common/paths';

/**
 * Generates a migration from the difference between the entities and a database migrated to the
 * latest committed migration (a throw-away in-memory PGlite). Usage: npm run migration:generate -- Name
 */
async function main() {
  const name = process.argv[2];
  if (!name || !/^[A-Z][A-Za-z0-9]+$/.test(name)) {
    console.error('usage: npm run migration:generate -- MigrationName   (PascalCase)');
    process.exit(2);
  }
  const embedded = await startEmbedded(null);
  const ds = createDataSource({ url: embedded.url, poolSize: 1 });
  await ds.initialize();
  await ds.runMigrations();
  const sql = await ds.driver.createSchemaBuilder().log();
  await ds.destroy();
  await embedded.stop();
  if (sql.upQueries.length === 0) {
    console.log('Entities and migrations agree: nothing to generate.');
    return;
  }
  const ts = Date.now();
  const cls = `${name}${ts}`;
  const q = (s: string) => '`' + s.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${') + '`';
  const body = `import { MigrationInterface, QueryRunner } from 'typeorm';

export class ${cls} implements MigrationInterface {
  name = '${cls}';

  public async up(queryRunner: QueryRunner): Promise<void> {
${sql.upQueries.map((u) => `    await queryRunner.query(${q(u.query)});`).join('\n')}
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
${sql.downQueries
  .reverse()
  .map((d) => `    await queryRunner.query(${q(d.query)});`)
  .join('\n')}
  }
}
`;
  const file = path.join(projectRoot(), 'migrations', `${ts}-${name}.ts`);
  fs.writeFileSync(file, body);
  console.log(
    `Wrote ${path.relative(process.cwd(), file)} (${sql.upQueries.length} statements). Review it before committing.`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
