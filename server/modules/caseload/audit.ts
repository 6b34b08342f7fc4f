import type { GLPK, LP } from 'glpk.js';
// glpk.js 4 is CommonJS (`module.exports = () => glpk`); version 5 needs Web Workers, which Node lacks.

const createGlpk: () => GLPK | Promise<GLPK> = require('glpk.js');

/**
 * What an attacker can prove about sums of non-negative integer unknowns, given linear facts about them:
 * the audit statistical agencies run on a suppression pattern (the unknowns are the finest cells, each fact
 * a published or implied sum). Every coefficient is 1: published cells are plain sums.
 */
export interface LinearSystem {
  /** Number of unknowns (0 ... n-1), each an integer >= 0. */
  nVars: number;
  /** Published sums: sum(vars) = value. */
  equalities: { vars: number[]; value: number }[];
  /** Known ranges: lo <= sum(vars) <= hi (e.g. a hidden cell the rule says is from 1 to 4). */
  ranges: { vars: number[]; lo: number; hi: number }[];
  /** offset + sum(vars) is zero or at least `min` (a hidden cell the rule says is not from 1 to 4). */
  zeroOrAtLeast: { vars: number[]; offset: number; min: number }[];
  /** An upper bound on every sum (the largest published total will do): keeps the programs bounded. */
  bigM: number;
}

export interface Bounds {
  min: number;
  max: number;
}

let glpkPromise: Promise<GLPK> | null = null;
export function glpk(): Promise<GLPK> {
  glpkPromise ??= Promise.resolve(createGlpk());
  return glpkPromise;
}

export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Union-find over unknowns. */
class Components {
  private parent: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
  }
  find(i: number): number {
    while (this.parent[i] !== i) {
      this.parent[i] = this.parent[this.parent[i]];
      i = this.parent[i];
    }
    return i;
  }
  join(vars: number[]) {
    for (let k = 1; k < vars.length; k++) {
      const a = this.find(vars[0]);
      const b = this.find(vars[k]);
      if (a !== b) this.parent[b] = a;
    }
  }
}

type Row = { vars: number[]; lo: number; hi: number; zeroOr?: number };

/**
 * Smallest and largest integer value each target sum can take over every solution of the system, solved
 * as two integer programs per target (GLPK), after fixing unknowns a published sum pins and splitting the
 * unknowns into independent components, so each program is small.
 *
 * With `spread`, a target is settled as soon as two solutions found so far differ on it by at least that much:
 * its bounds are then only as wide as those solutions show (enough to say "not narrowed"), which saves most
 * programs. Without it every bound is exact.
 */
export async function boundSums(
  sys: LinearSystem,
  targets: number[][],
  opts: { spread?: number } = {},
): Promise<Bounds[]> {
  const fixed = new Map<number, number>();
  // Unknowns pinned by a published sum whose other unknowns are pinned (repeat until nothing changes).
  const byVar: number[][] = Array.from({ length: sys.nVars }, () => []);
  sys.equalities.forEach((e, i) => e.vars.forEach((v) => byVar[v].push(i)));
  const queue = sys.equalities.map((_, i) => i);
  while (queue.length) {
    const e = sys.equalities[queue.pop()!];
    const open = e.vars.filter((v) => !fixed.has(v));
    if (open.length !== 1) continue;
    const value = e.value - e.vars.reduce((s, v) => s + (fixed.get(v) ?? 0), 0);
    fixed.set(open[0], value);
    for (const i of byVar[open[0]]) queue.push(i);
  }
  const reduce = (vars: number[]) => {
    let known = 0;
    const open: number[] = [];
    for (const v of vars) {
      const f = fixed.get(v);
      if (f === undefined) open.push(v);
      else known += f;
    }
    return { open, known };
  };
  const rows: Row[] = [];
  const seen = new Set<string>();
  const add = (vars: number[], lo: number, hi: number, offset?: number) => {
    const { open, known } = reduce(vars);
    if (open.length === 0) return;
    // A range row is lo - known <= sum(open) <= hi - known; a zero-or row keeps its min and carries the offset.
    const row: Row =
      offset === undefined
        ? { vars: open, lo: lo - known, hi: hi - known }
        : { vars: open, lo, hi, zeroOr: offset + known };
    const key = `${[...open].sort((a, b) => a - b).join(',')}|${row.lo}|${row.hi}|${row.zeroOr ?? ''}`;
    if (seen.has(key)) return;
    seen.add(key);
    rows.push(row);
  };
  for (const e of sys.equalities) add(e.vars, e.value, e.value);
  dropImpliedEqualities(rows);
  for (const r of sys.ranges) add(r.vars, r.lo, r.hi);
  for (const z of sys.zeroOrAtLeast) add(z.vars, z.min, sys.bigM, z.offset);

  // An unknown in one published sum only, and in no target, is that sum's slack: the sum becomes an upper bound.
  const uses = new Map<number, number>();
  for (const r of rows) for (const v of r.vars) uses.set(v, (uses.get(v) ?? 0) + 1);
  const inTarget = new Set(targets.flat());
  for (const r of rows) {
    if (r.zeroOr !== undefined || r.lo !== r.hi) continue;
    const slack = r.vars.filter((v) => uses.get(v) === 1 && !inTarget.has(v));
    if (slack.length === 0) continue;
    r.vars = r.vars.filter((v) => !slack.includes(v));
    r.lo = -Infinity;
  }
  for (let i = rows.length - 1; i >= 0; i--) if (rows[i].vars.length === 0) rows.splice(i, 1);

  const comp = new Components(sys.nVars);
  for (const r of rows) comp.join(r.vars);
  const rowsOf = new Map<number, Row[]>();
  for (const r of rows) {
    const c = comp.find(r.vars[0]);
    if (!rowsOf.has(c)) rowsOf.set(c, []);
    rowsOf.get(c)!.push(r);
  }
  const solver = await glpk();
  const reduced = targets.map(reduce);
  // Targets by component; a target spanning several components is bounded by the sum of its parts' bounds.
  const partsOf = reduced.map(({ open }) => {
    const parts = new Map<number, number[]>();
    for (const v of open) {
      const c = comp.find(v);
      if (!parts.has(c)) parts.set(c, []);
      parts.get(c)!.push(v);
    }
    return parts;
  });
  const partBounds = new Map<string, Bounds>();
  const byComponent = new Map<number, number[][]>();
  partsOf.forEach((parts) => {
    for (const [c, vars] of parts) {
      const key = `${c}:${vars.join(',')}`;
      if (partBounds.has(key)) continue;
      partBounds.set(key, { min: NaN, max: NaN });
      if (!byComponent.has(c)) byComponent.set(c, []);
      byComponent.get(c)!.push(vars);
    }
  });
  for (const [c, parts] of byComponent) {
    // Each program is synchronous: between components, let the process answer other requests.
    await yieldToEventLoop();
    const bounds = solveComponent(solver, rowsOf.get(c) ?? [], parts, sys.bigM, opts.spread);
    parts.forEach((vars, k) => partBounds.set(`${c}:${vars.join(',')}`, bounds[k]));
  }
  return reduced.map(({ known }, t) => {
    let min = known;
    let max = known;
    for (const [c, vars] of partsOf[t]) {
      const b = partBounds.get(`${c}:${vars.join(',')}`)!;
      min += b.min;
      max += b.max;
    }
    return { min, max };
  });
}

/**
 * An equality whose unknowns are exactly the disjoint union of smaller equalities' unknowns says nothing
 * they do not (a county total beside every district total): dropping it keeps components apart.
 */
function dropImpliedEqualities(rows: Row[]) {
  const byVar = new Map<number, number[]>();
  rows.forEach((r, i) => r.vars.forEach((v) => byVar.set(v, [...(byVar.get(v) ?? []), i])));
  const dropped = new Set<number>();
  const order = rows.map((_, i) => i).sort((a, b) => rows[b].vars.length - rows[a].vars.length);
  for (const i of order) {
    const e = rows[i];
    const mine = new Set(e.vars);
    const covered = new Set<number>();
    let sum = 0;
    let ok = true;
    // Unknowns in the fewest sums first (a worker's cases outside schools before a school's), each covered by
    // the largest smaller sum inside this one that overlaps nothing covered yet: a greedy exact cover, which is
    // all a hierarchy needs; when it fails the equality is simply kept.
    const vars = [...e.vars].sort((a, b) => (byVar.get(a)?.length ?? 0) - (byVar.get(b)?.length ?? 0));
    for (const v of vars) {
      if (covered.has(v)) continue;
      let best = -1;
      for (const j of byVar.get(v) ?? []) {
        if (j === i || rows[j].vars.length >= e.vars.length) continue;
        if (best >= 0 && rows[j].vars.length <= rows[best].vars.length) continue;
        if (rows[j].vars.every((x) => mine.has(x) && !covered.has(x))) best = j;
      }
      if (best < 0) {
        ok = false;
        break;
      }
      for (const x of rows[best].vars) covered.add(x);
      sum += rows[best].lo;
    }
    if (ok && sum === e.lo) dropped.add(i);
  }
  const kept = rows.filter((_, i) => !dropped.has(i));
  rows.length = 0;
  rows.push(...kept);
}

function solveComponent(solver: GLPK, rows: Row[], targets: number[][], bigM: number, spread?: number): Bounds[] {
  const vars = new Set<number>(targets.flat());
  for (const r of rows) for (const v of r.vars) vars.add(v);
  const name = (v: number) => `x${v}`;
  const subjectTo: LP['subjectTo'] = [];
  const binaries: string[] = [];
  rows.forEach((r, i) => {
    const terms = r.vars.map((v) => ({ name: name(v), coef: 1 }));
    if (r.zeroOr === undefined) {
      const bnds =
        r.lo === r.hi
          ? { type: solver.GLP_FX, lb: r.lo, ub: r.hi }
          : r.lo === -Infinity
            ? { type: solver.GLP_UP, lb: 0, ub: r.hi }
            : { type: solver.GLP_DB, lb: r.lo, ub: r.hi };
      subjectTo.push({ name: `r${i}`, vars: terms, bnds });
      return;
    }
    // offset + sum is 0 (b = 0) or from min to bigM (b = 1): offset + sum >= min b and offset + sum <= bigM b.
    const b = `b${i}`;
    binaries.push(b);
    subjectTo.push({
      name: `z${i}a`,
      vars: [...terms, { name: b, coef: -r.lo }],
      bnds: { type: solver.GLP_LO, lb: -r.zeroOr, ub: 0 },
    });
    subjectTo.push({
      name: `z${i}b`,
      vars: [...terms, { name: b, coef: -bigM }],
      bnds: { type: solver.GLP_UP, lb: 0, ub: -r.zeroOr },
    });
  });
  const bounds = [...vars].map((v) => ({ name: name(v), type: solver.GLP_DB, lb: 0, ub: bigM }));
  const generals = [...vars].map(name);
  const value = (sol: Record<string, number>, t: number[]) => t.reduce((s, v) => s + Math.round(sol[name(v)] ?? 0), 0);
  const seen: { lo: number; hi: number }[] = targets.map(() => ({ lo: Infinity, hi: -Infinity }));
  const run = (direction: number, objective: { name: string; coef: number }[]) => {
    const res = solver.solve(
      { name: 'audit', objective: { direction, name: 'obj', vars: objective }, subjectTo, bounds, generals, binaries },
      { msglev: solver.GLP_MSG_OFF, presol: true },
    );
    if (res.result.status !== solver.GLP_OPT && res.result.status !== solver.GLP_FEAS) {
      throw new Error(`disclosure audit: the published figures admit no solution (GLPK status ${res.result.status})`);
    }
    targets.forEach((t, k) => {
      const x = value(res.result.vars, t);
      seen[k].lo = Math.min(seen[k].lo, x);
      seen[k].hi = Math.max(seen[k].hi, x);
    });
    return Math.round(res.result.z);
  };
  const terms = (t: number[]) => t.map((v) => ({ name: name(v), coef: 1 }));
  if (spread !== undefined) {
    // Two programs that pull every target up and down at once usually settle most of them.
    run(solver.GLP_MAX, terms(targets.flat()));
    run(solver.GLP_MIN, terms(targets.flat()));
  }
  return targets.map((t, k) => {
    if (spread !== undefined && seen[k].hi - seen[k].lo >= spread) return { min: seen[k].lo, max: seen[k].hi };
    const max = run(solver.GLP_MAX, terms(t));
    if (spread !== undefined && seen[k].hi - seen[k].lo >= spread) return { min: seen[k].lo, max: seen[k].hi };
    const min = run(solver.GLP_MIN, terms(t));
    return { min, max };
  });
}
