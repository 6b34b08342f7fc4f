import 'reflect-metadata';
import { withDatabase } from './cli';
import { createDemoTokens, hasData, seedDemo } from '../bootstrap';

/** Loads the Kent demo data into an empty, migrated database and prints one token per role. */
void withDatabase(async ({ dataSource }) => {
  if (await dataSource.showMigrations()) throw new Error('The database has pending migrations: run `npm run db:migrate` first.');
  if (await hasData(dataSource)) {
    console.log('The database already has schools: demo data not loaded (it only goes into an empty database).');
    return;
  }
  const { schools, ms } = await seedDemo(dataSource);
  const tokens = await createDemoTokens(dataSource);
  console.log(`Loaded demo data (${schools} schools) in ${ms} ms. Demo tokens:`);
  for (const role of ['FINANCE', 'SUBGROUP', 'CHAIR', 'ANALYST'] as const) console.log(`  ${role.padEnd(8)} ${tokens[role]}`);
});
