import fs from 'node:fs';
import path from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import { renderSchema, SCHEMA_FILE } from '../../server/scripts/schema-emit';
import { startTestDatabase, TestDatabase } from '../helpers/db';

describe('the tracked schema', () => {
  it('matches what the resolvers produce (run `npm run schema:emit` when this fails)', async () => {
    const tracked = fs.readFileSync(SCHEMA_FILE, 'utf8');
    const current = await renderSchema();
    if (tracked !== current) {
      throw new Error('schema/schema.graphql is stale: run `npm run schema:emit` and commit the result.');
    }
  });

  it('describes every type and field', async () => {
    const schema = buildSchema(fs.readFileSync(SCHEMA_FILE, 'utf8'));
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__')) continue;
      if (!type.description && !['Boolean', 'String', 'Int', 'Float', 'ID', 'Query', 'Mutation'].includes(type.name))
        missing.push(type.name);
      if ('getFields' in type) {
        for (const f of Object.values((type as any).getFields()) as any[])
          if (!f.description) missing.push(`${type.name}.${f.name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('accepts every operation the add-in sends', () => {
    const schema = buildSchema(fs.readFileSync(SCHEMA_FILE, 'utf8'));
    const dir = path.join(path.dirname(SCHEMA_FILE), 'operations');
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.graphql')) : [];
    const problems = files.flatMap((f) =>
      validate(schema, parse(fs.readFileSync(path.join(dir, f), 'utf8'))).map((e) => `${f}: ${e.message}`),
    );
    expect(problems).toEqual([]);
  });
});

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await startTestDatabase({ seed: false });
  });
  afterAll(() => db?.stop());

  it('agree with the entities (run `npm run migration:generate -- Name` when this fails)', async () => {
    const pending = await db.dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('leave nothing pending after a run', async () => {
    expect(await db.dataSource.showMigrations()).toBe(false);
  });

  it('make the database refuse values outside the GraphQL enums', async () => {
    await db.dataSource.query(`INSERT INTO area (code, name) VALUES ('T', 'Test area')`);
    await db.dataSource.query(
      `INSERT INTO district (ons_code, name, area_code) VALUES ('E0TEST', 'Test district', 'T')`,
    );
    const school = (phase: string, type = 'ACADEMY', status = 'OPEN') =>
      db.dataSource.query(
        `INSERT INTO school (urn, laestab, name, phase, type, status, district_code) VALUES (900001, 8869999, 'Test School', $1, $2, $3, 'E0TEST')`,
        [phase, type, status],
      );
    await expect(school('INFANT')).rejects.toThrow(/check constraint/);
    await expect(school('PRIMARY', 'Academy')).rejects.toThrow(/check constraint/);
    await expect(school('PRIMARY', 'ACADEMY', 'open')).rejects.toThrow(/check constraint/);
    await school('PRIMARY');
    const [{ n }] = await db.dataSource.query(`SELECT count(*)::int AS n FROM school`);
    expect(n).toBe(1);
  });
});
