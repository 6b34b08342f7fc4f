import { Client } from 'pg';
import { startTestHub, TestHub } from '../helpers/hub';
import { sqlStatements } from '../helpers/metrics';
import { usingPostgres } from '../helpers/db';
import { notificationsOf } from '../../server/db/datasource';
import type { DataSource } from 'typeorm';

// Two hub processes on one database: `a` on the test database's DataSource, `b` on another DataSource of
// its own (its own pool and listener), as a second process would have.
let a: TestHub;
let b: TestHub;
let bData: DataSource;
beforeAll(async () => {
  a = await startTestHub();
  bData = await a.db.connectAnother();
  b = await startTestHub({ db: { ...a.db, dataSource: bData } });
});
afterAll(async () => {
  await b?.hub.stop();
  await a?.stop();
});

const SINGLE = `query Single($urn: Int!, $term: String!) {
  school(urn: $urn) {
    urn name district { name area { name } }
    community(asOf: "2025-10-01") { code pot(term: $term) { amount } }
    notionalSenBudget(financialYear: "2025-26") { total }
    funding(term: $term) { baseline total }
    caseloads(period: "2025/26-T2") { kind count suppressed }
  }
}`;

let urn: number;
beforeAll(async () => {
  [{ urn }] = await a.db.dataSource.query(
    `SELECT urn FROM school WHERE status = 'OPEN' AND phase = 'PRIMARY' ORDER BY urn LIMIT 1`,
  );
});

async function single(hub: TestHub, term = 'AUTUMN-2025') {
  const before = await sqlStatements(hub.url, 'Single');
  const res = await hub.gql(SINGLE, { urn, term });
  return { body: res.body, statements: (await sqlStatements(hub.url, 'Single', { mustHaveRun: true })) - before };
}

/** A funding term that is not in the demo data, added as an import or a person at psql would add it. */
const NEW_TERM = 'SUMMER-2031';
const addTerm = (db: { query(sql: string): Promise<unknown> }) =>
  db.query(`INSERT INTO funding_term (code, name, season, start_date, end_date, financial_year_code, academic_year_code, months, closed)
            SELECT '${NEW_TERM}', 'Summer 2031', season, start_date + interval '5 years', end_date + interval '5 years',
                   financial_year_code, academic_year_code, months, false
              FROM funding_term WHERE code = 'SUMMER-2026'`);
const dropTerm = (db: { query(sql: string): Promise<unknown> }) =>
  db.query(`DELETE FROM funding_term WHERE code = '${NEW_TERM}'`);

describe('reference data cached per process', () => {
  it('makes a warm single-school read one SQL statement, with the same answer as a cold one', async () => {
    const cold = await single(a);
    expect(cold.body.errors).toBeUndefined();
    const warm = await single(a);
    expect(warm.statements).toBe(1);
    expect(warm.body).toEqual(cold.body);
    expect(warm.body.data.school.urn).toBe(urn);
  });

  it('hears a new funding term added through another hub process, in this process and that one', async () => {
    for (const hub of [a, b]) {
      const unknown = await single(hub, NEW_TERM);
      expect(unknown.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'term' });
      expect(unknown.body.errors[0].extensions.validValues).not.toContain(NEW_TERM);
    }
    await addTerm(bData);
    try {
      // b made the change: it knows the term at once; a hears of it through its listener.
      for (const hub of [b, a]) {
        if (hub === a) await waitFor(async () => (await single(a, NEW_TERM)).body.errors === undefined);
        const known = await single(hub, NEW_TERM);
        expect(known.body.errors).toBeUndefined();
        expect(known.body.data.school.funding).toBeNull();
      }
    } finally {
      await dropTerm(bData);
    }
    expect((await single(b, NEW_TERM)).body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    await waitFor(async () => (await single(a, NEW_TERM)).body.errors !== undefined);
    expect((await single(a, NEW_TERM)).body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('hears a renamed district at once in the process that renamed it, and in another within moments, on every read path', async () => {
    const [{ code, name }] = await a.db.dataSource.query(
      `SELECT d.ons_code AS code, d.name FROM school s JOIN district d ON d.ons_code = s.district_code WHERE s.urn = $1`,
      [urn],
    );
    const q = `{ school(urn: ${urn}) { district { name } } districts { onsCode name } }`;
    const names = async (hub: TestHub) => {
      const data = (await hub.gql(q)).body.data;
      return [data.school.district.name, data.districts.find((d: { onsCode: string }) => d.onsCode === code).name];
    };
    for (const hub of [a, b]) expect(await names(hub)).toEqual([name, name]);
    let heard = 0;
    const unsubscribe = notificationsOf(bData)!.subscribe((event) => {
      if (event !== 'reset') heard++;
    });
    await bData.query(`UPDATE district SET name = name || ' (renamed)' WHERE ons_code = $1`, [code]);
    unsubscribe();
    expect(heard).toBeGreaterThan(0);
    try {
      // The process whose connection made the change has heard it before the UPDATE returned: no wait.
      expect(await names(b)).toEqual([`${name} (renamed)`, `${name} (renamed)`]);
      // Another process hears it through its listener, a notification's journey away.
      await waitFor(async () => (await names(a))[0] === `${name} (renamed)`);
      expect(await names(a)).toEqual([`${name} (renamed)`, `${name} (renamed)`]);
    } finally {
      await bData.query(`UPDATE district SET name = $2 WHERE ons_code = $1`, [code, name]);
    }
    expect(await names(b)).toEqual([name, name]);
    await waitFor(async () => (await names(a))[0] === name);
  });

  (usingPostgres() ? it : it.skip)(
    'hears a change made outside any hub (psql), through PostgreSQL LISTEN/NOTIFY',
    async () => {
      await single(a);
      const psql = new Client({ connectionString: a.db.url });
      await psql.connect();
      try {
        await addTerm(psql);
        await waitFor(async () => (await single(a, NEW_TERM)).body.errors === undefined);
      } finally {
        await dropTerm(psql);
        await psql.end();
      }
    },
  );

  (usingPostgres() ? it : it.skip)(
    'reads afresh while its listener is lost, and caches again once it has reconnected',
    async () => {
      const notifications = notificationsOf(a.db.dataSource)!;
      await single(a);
      expect((await single(a)).statements).toBe(1);
      const psql = new Client({ connectionString: a.db.url });
      await psql.connect();
      try {
        await psql.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'high-needs-hub notifications' AND datname = current_database()`,
        );
        await waitFor(async () => !notifications.live);
        // A change nobody hears: the listener is down.
        await addTerm(psql);
        const meanwhile = await single(a, NEW_TERM);
        expect(meanwhile.body.errors).toBeUndefined();
        expect(meanwhile.statements).toBe(2);
        await waitFor(async () => notifications.live);
        await single(a);
        expect((await single(a)).statements).toBe(1);
      } finally {
        await dropTerm(psql);
        await psql.end();
      }
      await waitFor(async () => (await single(a, NEW_TERM)).body.errors !== undefined);
    },
  );
});

async function waitFor(check: () => Promise<boolean>, ms = 10000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
