import 'reflect-metadata';
import { withDatabase } from './cli';

void withDatabase(async ({ dataSource }) => {
  const ran = await dataSource.runMigrations({ transaction: 'each' });
  console.log(ran.length ? `Applied ${ran.length} migration(s): ${ran.map((m) => m.name).join(', ')}` : 'Database is up to date.');
});
