/**
 * The hub's own Prometheus tally of SQL statements for one operation name (the sum of the
 * hub_graphql_sql_statements histogram). An operation that has not run yet has no series and counts 0, but a
 * scrape without the metric family at all (renamed, not registered) fails, so a count can never pass by
 * reading nothing.
 */
export async function sqlStatements(baseUrl: string, operation = 'anonymous', opts: { mustHaveRun?: boolean } = {}): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const lines = text.split('\n');
  if (!lines.includes('# TYPE hub_graphql_sql_statements histogram')) {
    throw new Error('The hub no longer exports hub_graphql_sql_statements: the SQL statement counts cannot be read.');
  }
  const prefix = `hub_graphql_sql_statements_sum{operation="${operation}"} `;
  const line = lines.find((l) => l.startsWith(prefix));
  if (!line) {
    if (opts.mustHaveRun) throw new Error(`No SQL statements were recorded for operation "${operation}".`);
    return 0;
  }
  const n = Number(line.slice(prefix.length));
  if (!Number.isFinite(n)) throw new Error(`Unreadable metric line: ${line}`);
  return n;
}
