import type { DataSource } from 'typeorm';

/** PostgreSQL 13 added what the hub's SQL uses: trim_scale() in the compiled reads, gen_random_uuid() in core. */
export const MIN_SERVER_VERSION_NUM = 130000;

/** Why this server is too old for the hub, or null when it will do. */
export function postgresVersionProblem(versionNum: number, version: string): string | null {
  if (Number.isInteger(versionNum) && versionNum >= MIN_SERVER_VERSION_NUM) return null;
  return `The database at DATABASE_URL runs PostgreSQL ${version}; the hub needs PostgreSQL 13 or later (it is tested on 15).`;
}

export async function serverVersionProblem(ds: DataSource): Promise<string | null> {
  const [num] = await ds.query(
    `SELECT current_setting('server_version_num')::int AS n, current_setting('server_version') AS v`,
  );
  return postgresVersionProblem(num.n, num.v);
}
