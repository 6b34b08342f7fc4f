import type { DataSource, QueryRunner } from 'typeorm';
import { startTestDatabase, TestDatabase } from '../helpers/db';
import { Role, Viewer } from '../../server/auth/roles';
import { submitAllocations } from '../../server/modules/allocation/allocation.service';
import { AllocationStatus } from '../../server/modules/allocation/allocation.entity';
import { loadFundingInputs } from '../../server/modules/funding/funding-inputs';
import { loadRecordContext } from '../../server/modules/funding/compute';
import { dataStatus, resolveScope } from '../../server/modules/data-status/data-status.resolver';
import { derivedReports } from '../../server/modules/safety-valve/safety-valve.report';
import { readAll } from '../../server/common/statements';

/*
 * A transaction holds one connection: statements sent on it together only queue in the driver (pg 8 deprecates
 * it, pg 9 refuses it) and a failing one leaves the others running into an aborted transaction. Every reader that
 * may be handed a transaction sends its statements one at a time there.
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await startTestDatabase();
});
afterAll(() => db?.stop());

/** Counts, across every query runner the data source makes, the most statements one runner had in flight at once. */
function watchRunners(ds: DataSource) {
  const original = ds.createQueryRunner;
  let most = 0;
  ds.createQueryRunner = function (this: DataSource, ...args: Parameters<DataSource['createQueryRunner']>) {
    const qr = original.apply(this, args);
    const query = qr.query.bind(qr);
    let inFlight = 0;
    qr.query = (async (...q: Parameters<QueryRunner['query']>) => {
      most = Math.max(most, ++inFlight);
      try {
        return await query(...q);
      } finally {
        inFlight--;
      }
    }) as QueryRunner['query'];
    return qr;
  };
  return {
    most: () => most,
    restore: () => {
      ds.createQueryRunner = original;
    },
  };
}

async function mostInFlight(work: (ds: DataSource) => Promise<unknown>): Promise<number> {
  const w = watchRunners(db.dataSource);
  try {
    await work(db.dataSource);
  } finally {
    w.restore();
  }
  return w.most();
}

describe('statements on a transaction are sent one at a time', () => {
  it('reads the funding inputs one statement after another in a transaction', async () => {
    let schools = 0;
    const most = await mostInFlight((ds) =>
      ds.transaction(async (tx) => {
        schools = (await loadFundingInputs(tx)).schools.length;
      }),
    );
    expect(schools).toBeGreaterThan(100);
    expect(most).toBe(1);
  });

  it('reads the figures of record a scenario is set against one statement after another in a transaction', async () => {
    let lines = 0;
    const most = await mostInFlight((ds) =>
      ds.transaction(async (tx) => {
        lines = (await loadRecordContext(tx)).stored.length;
      }),
    );
    expect(lines).toBeGreaterThan(0);
    expect(most).toBe(1);
  });

  it('checks an allocation batch against its schools and communities one statement after another', async () => {
    const [m] = await db.dataSource.query(
      `SELECT m.school_urn AS urn, m.community_code AS code FROM community_membership m
         JOIN funding_term t ON t.code = 'AUTUMN-2026' AND m.effective_from <= t.start_date
          AND (m.effective_to IS NULL OR m.effective_to >= t.start_date) ORDER BY m.school_urn LIMIT 1`,
    );
    const viewer: Viewer = {
      subject: 'finance-test',
      name: 'Finance Test',
      role: Role.FINANCE,
      communityCode: null,
      via: 'token',
    };
    let created = 0;
    const most = await mostInFlight(async (ds) => {
      const r = await submitAllocations(
        ds,
        viewer,
        {
          idempotencyKey: 'transaction-statements-dry-run',
          dryRun: true,
          rows: [
            {
              schoolUrn: m.urn,
              communityCode: m.code,
              term: 'AUTUMN-2026',
              amount: '100.00',
              purpose: 'One at a time',
              status: AllocationStatus.PROPOSED,
            },
          ],
        },
        { source: 'API' },
      );
      created = r.summary.created;
    });
    expect(created).toBe(1);
    expect(most).toBe(1);
  });

  it("reports a term's data status one statement after another in a transaction", async () => {
    let keys: string[] = [];
    const most = await mostInFlight((ds) =>
      ds.transaction(async (tx) => {
        const scope = await resolveScope(tx, null, '2026-27', null);
        keys = (await dataStatus(tx, scope)).datasets.map((d) => d.key);
      }),
    );
    expect(keys).toContain('baselines');
    expect(most).toBe(1);
  });

  it('derives the Safety Valve reports one statement after another in a transaction', async () => {
    let reports = 0;
    const most = await mostInFlight((ds) =>
      ds.transaction(async (tx) => {
        reports = (await derivedReports(tx)).reports.length;
      }),
    );
    expect(reports).toBeGreaterThan(0);
    expect(most).toBe(1);
  });

  it('still sends independent reads side by side on the pool, and one after another in a transaction', async () => {
    const overlap = (db: Parameters<typeof readAll>[0]) => {
      let started = 0;
      const read = async () => {
        started++;
        await new Promise((r) => setTimeout(r, 10));
        return started;
      };
      return readAll(db, [read, read] as const);
    };
    expect(await overlap(db.dataSource.manager)).toEqual([2, 2]);
    expect(await db.dataSource.transaction((tx) => overlap(tx))).toEqual([1, 2]);
  });
});
