/**
 * Collects custom-function calls made in one recalculation, de-duplicates them and sends them as few
 * GraphQL requests as possible (≤ maxOps distinct operations each, composed from schema/operations by
 * aliasing). Every call settles: success, a per-call failure, or a timeout, never a pending promise.
 */
import { composeQuery, parseOperation, type AliasedCall, type ParsedOperation } from '../core/compose';
import type { GraphQLErrorLike, GraphQLResponse } from '../core/graphql';
import { OPERATIONS } from '../core/operations.generated';

export type FailureCode = 'VALUE' | 'NA';
export class FunctionFailure extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
  ) {
    super(message);
  }
}

/** A unit is what the hub is asked for; many cells can share one (SCHOOL(u,"name") and SCHOOL(u,"phase")). */
export type Unit =
  | { type: 'school'; urn: number }
  | { type: 'funding'; urn: number; term: string }
  | { type: 'nsen'; urn: number; year: string }
  | { type: 'pot'; community: string; term: string }
  | { type: 'caseload'; kind: string; groupBy: string; period: string | null }
  | { type: 'scenario'; id: string };

export function unitKey(u: Unit): string {
  switch (u.type) {
    case 'school':
      return `school|${u.urn}`;
    case 'funding':
      return `funding|${u.term}|${u.urn}`;
    case 'nsen':
      return `nsen|${u.year}|${u.urn}`;
    case 'pot':
      return `pot|${u.community}|${u.term}`;
    case 'caseload':
      return `caseload|${u.kind}|${u.groupBy}|${u.period ?? ''}`;
    case 'scenario':
      return `scenario|${u.id}`;
  }
}

/** A scenario's results, indexed once per answer: schools by "urn|term", communities by "code|term". */
export interface ScenarioAnswer {
  id: string;
  version: number;
  schools: Map<string, Record<string, unknown>>;
  communities: Map<string, Record<string, unknown>>;
}

function indexScenario(d: any): ScenarioAnswer | undefined {
  if (!d) return undefined;
  const schools = new Map<string, Record<string, unknown>>();
  const communities = new Map<string, Record<string, unknown>>();
  for (const s of d.results?.schools ?? []) schools.set(`${s.schoolUrn}|${s.term}`, s);
  for (const c of d.results?.communities ?? []) communities.set(`${c.communityCode}|${c.term}`, c);
  return { id: d.id, version: d.version, schools, communities };
}

export type Execute = (
  query: string,
  variables: Record<string, unknown>,
) => Promise<GraphQLResponse<Record<string, unknown>>>;

export interface BatcherOptions {
  execute: () => Execute | null;
  windowMs?: number;
  maxOps?: number;
  timeoutMs?: number;
}

interface Pending {
  unit: Unit;
  resolve: (v: unknown) => void;
  reject: (e: FunctionFailure) => void;
}

const OPS = {
  FnSchools: parseOperation(OPERATIONS.FnSchools),
  FnFunding: parseOperation(OPERATIONS.FnFunding),
  FnNotionalSen: parseOperation(OPERATIONS.FnNotionalSen),
  FnPot: parseOperation(OPERATIONS.FnPot),
  FnCaseloads: parseOperation(OPERATIONS.FnCaseloads),
  FnScenarioSchools: parseOperation(OPERATIONS.FnScenarioSchools),
};

interface Field {
  call: AliasedCall;
  units: Pending[];
  /** Picks each unit's answer out of this field's data; undefined means "not found". */
  pick: (data: any, unit: Unit) => unknown;
}

function planFields(chunk: Pending[]): Field[] {
  const fields: Field[] = [];
  const grouped = new Map<string, Field>();
  const group = (key: string, make: () => Field, p: Pending) => {
    let f = grouped.get(key);
    if (!f) grouped.set(key, (f = make()));
    f.units.push(p);
  };
  const byUrn = (data: any, u: Unit, sel: (s: any) => unknown) => {
    // schoolsByUrn answers null in place of an unknown URN.
    const s = (data as any[] | null)?.find((x) => x?.urn === (u as { urn: number }).urn);
    return s === undefined ? undefined : sel(s);
  };
  for (const p of chunk) {
    const u = p.unit;
    const alias = () => `f${grouped.size}`;
    switch (u.type) {
      case 'school':
        group(
          'school',
          () => ({
            call: { alias: alias(), op: OPS.FnSchools, variables: {} },
            units: [],
            pick: (d, x) => byUrn(d, x, (s) => s),
          }),
          p,
        );
        break;
      case 'funding':
        group(
          `funding|${u.term}`,
          () => ({
            call: { alias: alias(), op: OPS.FnFunding, variables: { term: u.term } },
            units: [],
            pick: (d, x) => byUrn(d, x, (s) => s.funding ?? null),
          }),
          p,
        );
        break;
      case 'nsen':
        group(
          `nsen|${u.year}`,
          () => ({
            call: { alias: alias(), op: OPS.FnNotionalSen, variables: { year: u.year } },
            units: [],
            pick: (d, x) => byUrn(d, x, (s) => s.notionalSenBudget ?? null),
          }),
          p,
        );
        break;
      case 'pot':
        group(
          unitKey(u),
          () => ({
            call: { alias: alias(), op: OPS.FnPot, variables: { code: u.community, term: u.term } },
            units: [],
            pick: (d) => d ?? undefined,
          }),
          p,
        );
        break;
      case 'caseload':
        group(
          unitKey(u),
          () => ({
            call: {
              alias: alias(),
              op: OPS.FnCaseloads,
              variables: { kind: u.kind, groupBy: u.groupBy, period: u.period },
            },
            units: [],
            pick: (d) => d?.rows ?? undefined,
          }),
          p,
        );
        break;
      case 'scenario':
        group(
          unitKey(u),
          () => ({
            call: { alias: alias(), op: OPS.FnScenarioSchools, variables: { id: u.id } },
            units: [],
            pick: indexScenario,
          }),
          p,
        );
        break;
    }
  }
  for (const f of grouped.values()) {
    const urnOps: ParsedOperation[] = [OPS.FnSchools, OPS.FnFunding, OPS.FnNotionalSen];
    if (urnOps.includes(f.call.op)) f.call.variables.urns = f.units.map((p) => (p.unit as { urn: number }).urn);
    fields.push(f);
  }
  return fields;
}

function failureFromError(e: GraphQLErrorLike): FunctionFailure {
  const code = e.extensions?.code;
  return new FunctionFailure(code === 'BAD_USER_INPUT' ? 'VALUE' : 'NA', code ? `${code}: ${e.message}` : e.message);
}

export class Batcher {
  private readonly cache = new Map<string, Promise<unknown>>();
  private queue: Pending[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly windowMs: number;
  private readonly maxOps: number;
  readonly timeoutMs: number;
  /** Requests sent and operations asked for; read by tests and the bench. */
  stats = { requests: 0, operations: 0 };

  constructor(private readonly opts: BatcherOptions) {
    this.windowMs = opts.windowMs ?? 100;
    this.maxOps = opts.maxOps ?? 500;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** Which cells asked for which unit (cell address → unit), so only the affected cells are recalculated. */
  private readonly cells = new Map<string, Unit>();

  /** Refresh all: forget every answer so the next recalculation asks the hub again. */
  clear(): void {
    this.cache.clear();
  }

  /** Forgets the answers a predicate picks and returns the cells that showed them. */
  invalidate(pick: (u: Unit) => boolean): string[] {
    const out: string[] = [];
    for (const [address, u] of this.cells) if (pick(u)) out.push(address);
    for (const [key] of this.cache) {
      const u = this.units.get(key);
      if (u && pick(u)) this.cache.delete(key);
    }
    return out;
  }

  /** Every cell a function was computed in (this session). */
  addresses(): string[] {
    return [...this.cells.keys()];
  }

  private readonly units = new Map<string, Unit>();

  load(unit: Unit, address?: string): Promise<unknown> {
    const key = unitKey(unit);
    if (address) this.cells.set(address, unit);
    this.units.set(key, unit);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const promise = new Promise<unknown>((resolve, reject) => {
      this.queue.push({ unit, resolve, reject });
      if (!this.timer) this.timer = setTimeout(() => this.flush(), this.windowMs);
    });
    this.cache.set(key, promise);
    // Failures are not cached: the next recalculation retries instead of repeating an old error.
    promise.catch(() => {
      if (this.cache.get(key) === promise) this.cache.delete(key);
    });
    return promise;
  }

  private flush(): void {
    this.timer = null;
    const queue = this.queue;
    this.queue = [];
    const execute = this.opts.execute();
    if (!execute) {
      for (const p of queue)
        p.reject(new FunctionFailure('NA', 'Not connected to the hub: open the High Needs Hub pane and connect'));
      return;
    }
    // A scenario is a whole-county model run on the hub: each distinct scenario gets a request of its own, so
    // its compute time (or a FORBIDDEN for this role) never holds up or spoils the figures of record.
    const scenarios = queue.filter((p) => p.unit.type === 'scenario');
    const rest = queue.filter((p) => p.unit.type !== 'scenario');
    for (const p of scenarios) void this.send(execute, [p]);
    for (let i = 0; i < rest.length; i += this.maxOps) void this.send(execute, rest.slice(i, i + this.maxOps));
  }

  private async send(execute: Execute, chunk: Pending[]): Promise<void> {
    const fields = planFields(chunk);
    const { query, variables } = composeQuery(
      'HnhFunctions',
      fields.map((f) => f.call),
    );
    this.stats.requests++;
    this.stats.operations += chunk.length;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const res = await Promise.race([
        execute(query, variables),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(new FunctionFailure('NA', `The hub did not answer within ${Math.round(this.timeoutMs / 1000)} s`)),
            this.timeoutMs,
          );
        }),
      ]);
      const data = (res.data ?? {}) as Record<string, unknown>;
      for (const f of fields) {
        const err = res.errors?.find((e) => e.path?.[0] === f.call.alias);
        if (err || !(f.call.alias in data)) {
          const failure = err
            ? failureFromError(err)
            : new FunctionFailure('NA', res.errors?.[0]?.message ?? 'The hub returned no answer');
          for (const p of f.units) p.reject(failure);
          continue;
        }
        for (const p of f.units) p.resolve(f.pick(data[f.call.alias], p.unit));
      }
    } catch (e) {
      const failure =
        e instanceof FunctionFailure ? e : new FunctionFailure('NA', (e as Error).message || 'The hub request failed');
      for (const p of chunk) p.reject(failure);
    } finally {
      clearTimeout(timer);
    }
  }
}
