import type { DataSource, EntityManager } from 'typeorm';
import { ConfigError } from '../../config';
import { BadInput } from '../../errors';
import { createToken } from '../../auth/tokens';
import { Role } from '../../auth/roles';
import { localAuthority, type LocalAuthority } from '../../common/local-authority';
import { HubMode } from './hub-instance.entity';

type Db = DataSource | EntityManager;

export interface HubInstanceRow {
  mode: HubMode;
  laCode: number;
  laName: string;
  createdAt: Date;
}

/** How to get an empty database, for the messages that refuse to mix demo and real data. */
export const START_EMPTY =
  'To load real data, start empty: for the embedded database stop the hub and run `npm run db:reset -- --empty` ' +
  '(then `HUB_DEMO=0 npm start`); on PostgreSQL create a fresh database and run `npm run db:migrate` against it.';

export async function readHubInstance(db: Db): Promise<HubInstanceRow | null> {
  const [row] = await db.query(
    `SELECT mode, la_code AS "laCode", la_name AS "laName", created_at AS "createdAt" FROM hub_instance`,
  );
  return row ?? null;
}

/** Records the mode if none is recorded yet; returns the row as it stands afterwards. */
async function claim(db: Db, mode: HubMode, la: LocalAuthority): Promise<HubInstanceRow> {
  await db.query(
    `INSERT INTO hub_instance (id, mode, la_code, la_name) VALUES (true, $1, $2, $3) ON CONFLICT (id) DO NOTHING`,
    [mode, la.code, la.name],
  );
  return (await readHubInstance(db))!;
}

function otherAuthority(row: HubInstanceRow, la: LocalAuthority): string {
  return (
    `This database holds ${row.mode === HubMode.DEMO ? 'demo' : 'real'} data of LA ${row.laCode} (${row.laName}), ` +
    `but the hub is configured for LA ${la.code} (${la.name}): set HUB_LA=${row.laCode}, or point the hub at another database.`
  );
}

/**
 * The one gate every import passes (CLI, HTTP, finance kinds, reference data, GIAS): refused in a demo database,
 * refused for a database of another authority; the first import into an unmarked database marks it REAL.
 */
export async function assertImportAllowed(db: Db, la: LocalAuthority = localAuthority()): Promise<void> {
  const row = (await readHubInstance(db)) ?? (await claim(db, HubMode.REAL, la));
  if (row.mode === HubMode.DEMO) {
    throw new BadInput(
      `This hub's database holds the demo data (generated LA ${row.laCode}, ${row.laName}): imports are refused, ` +
        `so real figures never mix with generated ones. ${START_EMPTY}`,
      'file',
      { reason: 'DEMO_DATABASE' },
    );
  }
  if (row.laCode !== la.code) throw new BadInput(otherAuthority(row, la), 'file', { reason: 'OTHER_AUTHORITY' });
}

/** Start-up: a hub configured for another authority than the database's refuses to start. */
export async function checkHubInstance(db: Db, la: LocalAuthority): Promise<HubInstanceRow | null> {
  const row = await readHubInstance(db);
  if (row && row.laCode !== la.code) throw new ConfigError(otherAuthority(row, la));
  return row;
}

/** The demo seed marks the database DEMO; refused where real data has been recorded. */
export async function markDemo(db: Db, la: LocalAuthority): Promise<void> {
  const row = await readHubInstance(db);
  if (row?.mode === HubMode.REAL) {
    const [{ present }] = await db.query(
      `SELECT EXISTS (SELECT 1 FROM school) OR EXISTS (SELECT 1 FROM district) OR EXISTS (SELECT 1 FROM area)
          OR EXISTS (SELECT 1 FROM financial_year) OR EXISTS (SELECT 1 FROM community) AS present`,
    );
    if (present)
      throw new BadInput(
        `This database holds real data of LA ${row.laCode} (${row.laName}): the demo data is never loaded into it.`,
      );
    await db.query(`UPDATE hub_instance SET mode = 'DEMO', la_code = $1, la_name = $2`, [la.code, la.name]);
    return;
  }
  await claim(db, HubMode.DEMO, la);
}

export interface Bootstrap {
  /** The Finance token, shown once; null when the hub already has one (or holds demo data). */
  token: string | null;
  instance: HubInstanceRow | null;
}

/**
 * An empty hub on purpose: the first start (embedded) or `db:migrate` (PostgreSQL) of a database with no demo
 * data marks it REAL and, when no Finance token is active, creates one bootstrap Finance token, printed once.
 */
export async function bootstrapRealHub(ds: DataSource, la: LocalAuthority): Promise<Bootstrap> {
  return ds.transaction(async (tx) => {
    // Two starters at once make one token: the second waits here and then sees the first's.
    await tx.query(`LOCK TABLE hub_instance IN SHARE ROW EXCLUSIVE MODE`);
    const existing = await checkHubInstance(tx, la);
    if (existing?.mode === HubMode.DEMO) return { token: null, instance: existing };
    const instance = existing ?? (await claim(tx, HubMode.REAL, la));
    const [{ present }] = await tx.query(
      `SELECT EXISTS (SELECT 1 FROM api_token WHERE role = 'FINANCE' AND revoked_at IS NULL) AS present`,
    );
    if (present) return { token: null, instance };
    const t = await createToken(tx, { role: Role.FINANCE, name: `Bootstrap finance officer (${la.name})` });
    return { token: t.token, instance };
  });
}

/** The lines that show a bootstrap token, the token on a line of its own. */
export function bootstrapLines(token: string): string[] {
  return [
    '  Finance bootstrap token (shown once, store it now; it is not printed again):',
    token,
    '  Make more tokens with: npm run token:create -- --role FINANCE|SUBGROUP|CHAIR|ANALYST --name LABEL [--community CODE]',
  ];
}
