import { METRICS_AUTH } from './hub';

/**
 * One series of the hub's own Prometheus metrics. A series that has not been observed yet reads 0, but a scrape
 * without the metric family at all (renamed, not registered) fails, as does `mustExist` on a missing series, so a
 * count can never pass by reading nothing.
 */
export async function metricValue(
  baseUrl: string,
  family: { name: string; type: 'counter' | 'histogram' },
  series: string,
  opts: { mustExist?: boolean } = {},
): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`, METRICS_AUTH)).text();
  const lines = text.split('\n');
  if (!lines.includes(`# TYPE ${family.name} ${family.type}`)) {
    throw new Error(`The hub no longer exports the ${family.type} ${family.name}: the test cannot read it.`);
  }
  const line = lines.find((l) => l.startsWith(series + ' '));
  if (!line) {
    if (opts.mustExist) throw new Error(`The hub has recorded nothing for ${series}.`);
    return 0;
  }
  const n = Number(line.slice(series.length + 1));
  if (!Number.isFinite(n)) throw new Error(`Unreadable metric line: ${line}`);
  return n;
}

/** SQL statements the hub recorded for one operation name (the sum of hub_graphql_sql_statements). */
export function sqlStatements(
  baseUrl: string,
  operation = 'anonymous',
  opts: { mustHaveRun?: boolean } = {},
): Promise<number> {
  return metricValue(
    baseUrl,
    { name: 'hub_graphql_sql_statements', type: 'histogram' },
    `hub_graphql_sql_statements_sum{operation="${operation}"}`,
    {
      mustExist: opts.mustHaveRun,
    },
  );
}
