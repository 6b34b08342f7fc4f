import { startTestHub, TestHub } from '../helpers/hub';
import { usingPostgres } from '../helpers/db';
import { prepared } from '../../server/db/prepared';
import type { DataSource } from 'typeorm';

/*
 * The compiled reads send a few long statements with new parameters on every request. On PostgreSQL each connection
 * prepares them once (server/db/prepared.ts); on embedded PGlite, whose connections share one session, never.
 */
let a: TestHub;
let single: DataSource;
let hub: TestHub;
beforeAll(async () => {
  a = await startTestHub();
  // A hub on a pool of one connection, so the test can look at that connection's prepared statements.
  single = await a.db.connectAnother(1);
  hub = await startTestHub({ db: { ...a.db, dataSource: single } });
});
afterAll(async () => {
  await hub?.hub.stop();
  await a?.stop();
});

const Q = `query One($urn: Int!) { school(urn: $urn) { urn name funding(term: "AUTUMN-2025") { total } } }`;

describe('prepared statements for the compiled reads', () => {
  it('answers every URN asked with its own school, on one connection reusing its statement as on the main pool', async () => {
    const urns: number[] = (await a.db.dataSource.query(`SELECT urn FROM school ORDER BY urn LIMIT 5`)).map(
      (r: { urn: number }) => r.urn,
    );
    for (const urn of urns) {
      const viaHub = (await hub.gql(Q, { urn })).body;
      expect(viaHub.errors).toBeUndefined();
      expect(viaHub.data.school.urn).toBe(urn);
      expect(viaHub).toEqual((await a.gql(Q, { urn })).body);
    }
  });

  (usingPostgres() ? it : it.skip)('prepares a read once on a PostgreSQL connection and reuses it', async () => {
    const [{ urn }] = await single.query(`SELECT urn FROM school ORDER BY urn LIMIT 1`);
    await hub.gql(Q, { urn });
    const count = async () =>
      Number(
        (await single.query(`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'hnh\\_%'`))[0].n,
      );
    const after1 = await count();
    expect(after1).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 5; i++) expect((await hub.gql(Q, { urn: urn + i })).body.errors).toBeUndefined();
    expect(await count()).toBe(after1);
  });

  (usingPostgres() ? it.skip : it)('sends the text on PGlite, whose connections share one session', () => {
    const sql = 'SELECT 1 AS one';
    expect(prepared(a.db.dataSource, sql)).toBe(sql);
  });

  (usingPostgres() ? it : it.skip)('gives TypeORM and the logger a statement that reads as its own SQL', () => {
    const sql = `SELECT ${Date.now()} AS n`;
    const p = prepared(a.db.dataSource, sql);
    expect(p).not.toBe(sql);
    expect(String(p)).toBe(sql);
    expect(`${p}`).toBe(sql);
    expect(p.slice(0, 6)).toBe('SELECT');
    expect((p as unknown as { name: string }).name).toMatch(/^hnh_[0-9a-f]{32}$/);
    expect(prepared(a.db.dataSource, sql)).toBe(p);
  });
});
