import { migrationsPending } from '../../server/db/migrations';
import { startTestDatabase, TestDatabase } from '../helpers/db';

// The start-up check behind `npm start` (PGlite: migrate only when needed) and the PostgreSQL start's refusal.
let db: TestDatabase;
beforeAll(async () => {
  db = await startTestDatabase({ seed: false });
}, 120_000);
afterAll(() => db?.stop());

const table = () => db.dataSource.options.migrationsTableName!;

describe('migrations pending at start-up', () => {
  it('are none once every migration has run, as TypeORM itself says', async () => {
    expect(db.dataSource.migrations.length).toBeGreaterThan(5);
    expect(await migrationsPending(db.dataSource)).toBe(false);
    expect(await db.dataSource.showMigrations()).toBe(false);
  });

  it('are found when the newest migration is not recorded, and no longer once it is again', async () => {
    const [last] = await db.dataSource.query(
      `SELECT id, timestamp, name FROM ${table()} ORDER BY timestamp DESC LIMIT 1`,
    );
    await db.dataSource.query(`DELETE FROM ${table()} WHERE id = $1`, [last.id]);
    try {
      expect(await migrationsPending(db.dataSource)).toBe(true);
      expect(await db.dataSource.showMigrations()).toBe(true);
    } finally {
      await db.dataSource.query(`INSERT INTO ${table()} (timestamp, name) VALUES ($1, $2)`, [
        last.timestamp,
        last.name,
      ]);
    }
    expect(await migrationsPending(db.dataSource)).toBe(false);
  });

  it('are all of them in a database without the migrations table (a new one)', async () => {
    await db.dataSource.query(`ALTER TABLE ${table()} RENAME TO hnh_migrations_aside`);
    try {
      expect(await migrationsPending(db.dataSource)).toBe(true);
    } finally {
      await db.dataSource.query(`ALTER TABLE hnh_migrations_aside RENAME TO ${table()}`);
    }
    expect(await migrationsPending(db.dataSource)).toBe(false);
  });

  it('ignore a row the hub does not know (a migration from a newer hub)', async () => {
    await db.dataSource.query(
      `INSERT INTO ${table()} (timestamp, name) VALUES (9999999999999, 'FromANewerHub9999999999999')`,
    );
    try {
      expect(await migrationsPending(db.dataSource)).toBe(false);
    } finally {
      await db.dataSource.query(`DELETE FROM ${table()} WHERE name = 'FromANewerHub9999999999999'`);
    }
  });
});
