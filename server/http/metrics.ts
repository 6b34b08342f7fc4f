import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'hub_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'hub_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['route'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    sqlPerOperation: new Histogram({
      name: 'hub_graphql_sql_statements',
      help: 'SQL statements per GraphQL operation',
      labelNames: ['operation'] as const,
      buckets: [0, 1, 2, 4, 8, 16, 32, 64, 128],
      registers: [registry],
    }),
    executions: new Counter({
      name: 'hub_graphql_executions_total',
      help: 'GraphQL operations executed, by path: compiled (one SQL statement per root field) or resolvers',
      labelNames: ['path'] as const,
      registers: [registry],
    }),
    hotReads: new Counter({
      name: 'hub_graphql_hot_reads_total',
      help: 'Compiled reads answered by the hot read path (a document Apollo accepted before), past Express and Apollo',
      registers: [registry],
    }),
    costEstimates: new Counter({
      name: 'hub_graphql_cost_estimates_total',
      help: 'Query cost estimates: computed (a document or variable values not seen since the data bounds last changed) or cached',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

/**
 * The route label of a request: the template of the ROUTES entry it matched ("/export/:file"), or
 * "unmatched", so random paths cannot add series. Segment by segment, no regular expression.
 */
export function routeLabel(templates: readonly string[], method: string, path: string): string {
  const segs = path.split('/');
  for (const key of templates) {
    const space = key.indexOf(' ');
    const m = key.slice(0, space);
    if (m !== method && !(m === 'GET' && method === 'HEAD')) continue;
    const tpl = key.slice(space + 1);
    const t = tpl.split('/');
    let ok = true;
    for (let i = 0; i < t.length && ok; i++) {
      if (t[i] === '*') return tpl;
      if (i >= segs.length) ok = false;
      else if (t[i].startsWith(':')) ok = segs[i] !== '';
      else ok = t[i] === segs[i];
    }
    if (ok && segs.length === t.length) return tpl;
  }
  return 'unmatched';
}

/** Distinct operation names beyond the add-in's that get their own series; the rest share "other". */
export const MAX_OPERATION_LABELS = 100;

/**
 * Operation names as metric labels: the add-in's operations (schema/operations) always by name, then the
 * first MAX_OPERATION_LABELS other names seen (a developer's own queries), then "other": bounded whatever
 * clients send.
 */
export function operationLabeller(
  known: ReadonlySet<string>,
  extra = MAX_OPERATION_LABELS,
): (name: string | null | undefined) => string {
  const seen = new Set<string>();
  return (name) => {
    if (!name) return 'anonymous';
    if (known.has(name) || seen.has(name)) return name;
    if (seen.size < extra && name.length <= 64) {
      seen.add(name);
      return name;
    }
    return 'other';
  };
}
