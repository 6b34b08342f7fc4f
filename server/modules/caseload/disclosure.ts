/**
 * Statistical disclosure control for counts about children: the one rule every output reads.
 *
 * The unknowns are the finest cells the hub keeps, "atoms": one count per worker, school, district and
 * community (a school's community on the first day of the term). Everything the API publishes about a kind
 * and period is a sum of atoms. The published hierarchy is:
 *
 *   school → community → district (schools in communities) → county (schools in communities)
 *   worker → worker in a district → district (everything) → county (everything)
 *
 * A pattern, chosen once per kind, period and viewer scope, says which of those sums are hidden:
 * - primary: a sum from 1 to 4 the viewer is not exempt for (a Chair is exempt for the atoms of their own
 *   community, FINANCE and SUBGROUP for everything);
 * - secondary: more sums are hidden until an audit shows that no hidden sum can be pinned to one or two values
 *   by everything the scope can read, even by someone who knows this algorithm and which hidden sums are
 *   primary (1 to 4) and which are not (0 or 5 upwards). The audit is the integer program in audit.ts.
 *
 * Any other sum (a worker within one community, a community within a district) is published only when it is
 * the same set of atoms as a visible sum of the hierarchy, or lies wholly within the viewer's exemption:
 * so nothing the API says adds an equation the audit did not see.
 */
import { boundSums, glpk, LinearSystem, yieldToEventLoop } from './audit';
import { isSmall, SMALL_MAX, SMALL_MIN } from './small-counts';

export interface Atom {
  worker: string | null;
  school: number | null;
  district: string;
  community: string | null;
  count: number;
}

/** Who reads: everything, the Analyst scope, or one Chair's scope (exempt for their community's atoms). */
export type Scope = { kind: 'ALL' } | { kind: 'ANALYST' } | { kind: 'CHAIR'; community: string };

export const scopeKey = (s: Scope) => (s.kind === 'CHAIR' ? `CHAIR:${s.community}` : s.kind);

/** A sum of atoms: each given coordinate must match; NOT_NULL means "has one". */
export const NOT_NULL = Symbol('not null');
export interface CellSpec {
  worker?: string | typeof NOT_NULL;
  school?: number | typeof NOT_NULL;
  district?: string;
  community?: string | typeof NOT_NULL;
}

export function matches(a: Atom, spec: CellSpec): boolean {
  const eq = (v: unknown, want: unknown) => want === undefined || (want === NOT_NULL ? v !== null : v === want);
  return (
    eq(a.worker, spec.worker) &&
    eq(a.school, spec.school) &&
    eq(a.district, spec.district) &&
    eq(a.community, spec.community)
  );
}

/** A sum of the hierarchy; several names may share one set of atoms (a worker in one district only). */
export interface Form {
  names: string[];
  atoms: number[];
  value: number;
}

export interface Hierarchy {
  atoms: Atom[];
  forms: Form[];
  /** Canonical atom-set key → form index. */
  byKey: Map<string, number>;
  byName: Map<string, number>;
  /** Sums that are the disjoint union of other sums (form indexes). */
  groups: { parent: number; children: number[] }[];
}

export const atomKey = (atoms: number[]) => [...atoms].sort((a, b) => a - b).join(',');

/** The published hierarchy of one kind and period over its atoms. */
export function buildHierarchy(atoms: Atom[]): Hierarchy {
  const named = new Map<string, number[]>();
  const put = (name: string, i: number) => {
    if (!named.has(name)) named.set(name, []);
    named.get(name)!.push(i);
  };
  atoms.forEach((a, i) => {
    put('K', i);
    put(`D:${a.district}`, i);
    if (a.school !== null) put(`S:${a.school}`, i);
    if (a.community !== null) {
      put('KS', i);
      put(`DS:${a.district}`, i);
      put(`C:${a.community}`, i);
    }
    if (a.worker !== null) {
      put('KW', i);
      put(`W:${a.worker}`, i);
      put(`WD:${a.worker}|${a.district}`, i);
    }
  });
  const forms: Form[] = [];
  const byKey = new Map<string, number>();
  const byName = new Map<string, number>();
  for (const [name, idx] of named) {
    const key = atomKey(idx);
    let f = byKey.get(key);
    if (f === undefined) {
      f = forms.length;
      forms.push({ names: [], atoms: idx, value: idx.reduce((s, i) => s + atoms[i].count, 0) });
      byKey.set(key, f);
    }
    forms[f].names.push(name);
    byName.set(name, f);
  }
  // Families of children that may partition a parent; kept only where they do (checked on the atoms).
  const families: [string, (n: string) => boolean][] = [];
  for (const name of named.keys()) {
    const [type, rest] = name.split(/:(.*)/s, 2) as [string, string | undefined];
    if (type === 'C') families.push([name, (n) => n.startsWith('S:') && atoms[named.get(n)![0]].community === rest]);
    if (type === 'DS') {
      families.push([name, (n) => n.startsWith('C:') && named.get(n)!.every((i) => atoms[i].district === rest)]);
      families.push([
        name,
        (n) =>
          n.startsWith('S:') && atoms[named.get(n)![0]].community !== null && atoms[named.get(n)![0]].district === rest,
      ]);
    }
    if (type === 'KS') families.push([name, (n) => n.startsWith('DS:')]);
    if (type === 'K') {
      families.push([name, (n) => n.startsWith('D:')]);
      families.push([name, (n) => n.startsWith('W:')]);
    }
    if (type === 'KW') families.push([name, (n) => n.startsWith('W:')]);
    if (type === 'D') families.push([name, (n) => n.startsWith('WD:') && n.endsWith(`|${rest}`)]);
    if (type === 'W') families.push([name, (n) => n.startsWith(`WD:${rest}|`)]);
  }
  const groups: Hierarchy['groups'] = [];
  const seen = new Set<string>();
  for (const [parentName, isChild] of families) {
    const parent = byName.get(parentName)!;
    const children = [...new Set([...named.keys()].filter(isChild).map((n) => byName.get(n)!))].filter(
      (c) => c !== parent,
    );
    if (children.length === 0) continue;
    const covered = children.flatMap((c) => forms[c].atoms);
    if (covered.length !== forms[parent].atoms.length || atomKey(covered) !== atomKey(forms[parent].atoms)) continue;
    const key = `${parent}|${[...children].sort((a, b) => a - b).join(',')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    groups.push({ parent, children });
  }
  return { atoms, forms, byKey, byName, groups };
}

/** Atoms the scope may see exactly. */
export function exemptAtoms(h: Hierarchy, scope: Scope): boolean[] {
  return h.atoms.map((a) => scope.kind === 'ALL' || (scope.kind === 'CHAIR' && a.community === scope.community));
}

export interface Pattern {
  /** Per form: hidden from this scope. */
  hidden: boolean[];
  /** Per form: hidden by the primary rule. */
  primary: boolean[];
  /** Audit rounds run and integer programs solved (for the bench). */
  rounds: number;
}

/**
 * Chooses the suppression pattern of one kind, period and scope. Deterministic: the same atoms and scope (and
 * start) give the same pattern in every process. `start` is a pattern already chosen over the same hierarchy for
 * a scope this one knows less than or as much as (see below).
 */
export async function choosePattern(h: Hierarchy, scope: Scope, start?: boolean[]): Promise<Pattern> {
  const exempt = exemptAtoms(h, scope);
  const allExempt = h.forms.map((f) => f.atoms.every((i) => exempt[i]));
  const primary = h.forms.map((f, i) => !allExempt[i] && isSmall(f.value));
  if (scope.kind === 'ALL' || !primary.some(Boolean)) return { hidden: [...primary], primary, rounds: 0 };
  if (start) {
    // A pattern of a wider scope (the Analyst's, for a Chair): kept, less what this scope is exempt for, when the
    // audit passes it for this scope. A Chair's pattern then costs one audit, not a choice.
    const hidden = h.forms.map((_, f) => !allExempt[f] && (primary[f] || start[f]));
    if ((await auditPattern(h, exempt, hidden, primary)).length === 0) return { hidden, primary, rounds: 1 };
  }
  const groupsOf: number[][] = h.forms.map(() => []);
  h.groups.forEach((g, gi) => [g.parent, ...g.children].forEach((f) => groupsOf[f].push(gi)));
  return (
    (await chooseByProgram(h, exempt, allExempt, primary, groupsOf)) ??
    (await chooseGreedy(h, exempt, allExempt, primary, groupsOf))
  );
}

/**
 * What hiding a sum costs in the programme: one per sum (fewest hidden first), more for a zero (a hidden zero
 * is easy to guess and leaves its neighbours no room to move down) and less the larger the count (a large
 * complement lets a small cell beside it range widely), and a total above the finest cells costs double.
 */
function hidingCost(h: Hierarchy, f: number): number {
  const { value, names } = h.forms[f];
  const total = names.every((n) => !n.startsWith('S:') && !n.startsWith('WD:'));
  return (total ? 2 : 1) + (value === 0 ? 1 : 1 / (1 + value));
}

/**
 * Secondary suppression as a small integer programme (GLPK): hide the primary sums and a set of other sums of
 * least total cost (hidingCost) such that no group has exactly one hidden member; audit it; for every sum the
 * audit finds narrowed, require one more hidden sum among the visible members of its groups, and solve again.
 * Null when it does not settle within a few rounds (the greedy choice is then used). Deterministic: the same
 * programme gives the same answer in every process.
 */
const FREE_ROUNDS = 3;
const MAX_ROUNDS = 25;
async function chooseByProgram(
  h: Hierarchy,
  exempt: boolean[],
  allExempt: boolean[],
  primary: boolean[],
  groupsOf: number[][],
): Promise<Pattern | null> {
  const solver = await glpk();
  const name = (f: number) => `h${f}`;
  const free = h.forms.map((_, f) => !allExempt[f] && !primary[f]);
  // Forms that matter: primary ones and those in a group with one (the rest stay visible).
  const live = new Set<number>();
  h.groups.forEach((g) => {
    const members = [g.parent, ...g.children];
    if (members.some((m) => primary[m])) for (const m of members) live.add(m);
  });
  // Closure: a group touching a live free form may be needed to protect it in turn.
  for (let grew = true; grew;) {
    grew = false;
    for (const g of h.groups) {
      const members = [g.parent, ...g.children];
      if (!members.some((m) => live.has(m) && free[m])) continue;
      for (const m of members)
        if (!live.has(m)) {
          live.add(m);
          grew = true;
        }
    }
  }
  const term = (f: number, coef: number) => ({ name: name(f), coef });
  const subjectTo: import('glpk.js').LP['subjectTo'] = [];
  h.groups.forEach((g, gi) => {
    const members = [g.parent, ...g.children].filter((m) => !allExempt[m]);
    if (!members.some((m) => live.has(m))) return;
    // A hidden member needs another hidden member in its group: sum(others) - x_m >= 0.
    for (const m of members) {
      if (!primary[m] && !free[m]) continue;
      subjectTo.push({
        name: `g${gi}_${m}`,
        vars: [...members.filter((o) => o !== m).map((o) => term(o, 1)), term(m, -1)],
        bnds: { type: solver.GLP_LO, lb: 0, ub: 0 },
      });
    }
  });
  const vars = [...live].filter((f) => !allExempt[f]).sort((a, b) => a - b);
  const bounds = vars.map((f) =>
    primary[f]
      ? { name: name(f), type: solver.GLP_FX, lb: 1, ub: 1 }
      : { name: name(f), type: solver.GLP_DB, lb: 0, ub: 1 },
  );
  const objective = vars.map((f) => term(f, hidingCost(h, f)));
  for (let rounds = 1; rounds <= MAX_ROUNDS; rounds++) {
    await yieldToEventLoop();
    const res = solver.solve(
      {
        name: 'suppression',
        objective: { direction: solver.GLP_MIN, name: 'cost', vars: objective },
        subjectTo,
        bounds,
        // Integers within the bounds above (glpk.js resets a binary's bounds, which would free the primary sums).
        generals: vars.map(name),
      },
      { msglev: solver.GLP_MSG_OFF, presol: true },
    );
    if (res.result.status !== solver.GLP_OPT) return null;
    const hidden = h.forms.map((_, f) => primary[f] || (free[f] && Math.round(res.result.vars[name(f)] ?? 0) === 1));
    const weak = await auditPattern(h, exempt, hidden, primary);
    if (weak.length === 0) return { hidden, primary, rounds };
    // After a few free rounds the choice only grows (what was hidden stays hidden), so the rounds settle.
    if (rounds >= FREE_ROUNDS)
      for (const f of vars)
        if (hidden[f] && !primary[f]) bounds[vars.indexOf(f)] = { name: name(f), type: solver.GLP_FX, lb: 1, ub: 1 };
    for (const w of weak) {
      const near = [...new Set(groupsOf[w].flatMap((gi) => [h.groups[gi].parent, ...h.groups[gi].children]))].filter(
        (f) => free[f] && !hidden[f] && live.has(f),
      );
      if (near.length === 0) return null;
      subjectTo.push({
        name: `cut${rounds}_${w}`,
        vars: near.map((f) => term(f, 1)),
        bnds: { type: solver.GLP_LO, lb: 1, ub: 0 },
      });
    }
  }
  return null;
}

/** The greedy choice alone (the fallback; tests compare the programme with it). */
export async function chooseGreedyPattern(h: Hierarchy, scope: Scope): Promise<Pattern> {
  const exempt = exemptAtoms(h, scope);
  const allExempt = h.forms.map((f) => f.atoms.every((i) => exempt[i]));
  const primary = h.forms.map((f, i) => !allExempt[i] && isSmall(f.value));
  if (scope.kind === 'ALL' || !primary.some(Boolean)) return { hidden: [...primary], primary, rounds: 0 };
  const groupsOf: number[][] = h.forms.map(() => []);
  h.groups.forEach((g, gi) => [g.parent, ...g.children].forEach((f) => groupsOf[f].push(gi)));
  return chooseGreedy(h, exempt, allExempt, primary, groupsOf);
}

/** The first choice (kept as the fallback): complements one group at a time, widened until the audit passes. */
async function chooseGreedy(
  h: Hierarchy,
  exempt: boolean[],
  allExempt: boolean[],
  primary: boolean[],
  groupsOf: number[][],
): Promise<Pattern> {
  const n = h.forms.length;
  const hidden = [...primary];

  // A complement: the member of a group that hides the least (smallest non-zero count; zeros last, since a
  // hidden zero is easy to guess), never one the viewer is exempt for. Ties: the first by name, so every
  // process agrees.
  const rank = (f: number) => [h.forms[f].value === 0 ? 1 : 0, h.forms[f].value, h.forms[f].names[0]] as const;
  const better = (a: number, b: number) => {
    const x = rank(a);
    const y = rank(b);
    return x[0] - y[0] || x[1] - y[1] || (x[2] < y[2] ? -1 : x[2] > y[2] ? 1 : 0);
  };
  const complementIn = (gi: number, avoid: number): number | null => {
    const g = h.groups[gi];
    const pool = g.children.filter((c) => !hidden[c] && !allExempt[c] && c !== avoid);
    if (pool.length) return pool.sort(better)[0];
    if (!hidden[g.parent] && !allExempt[g.parent] && g.parent !== avoid) return g.parent;
    return null;
  };
  // Fast sufficient step: no group may have exactly one hidden member (it would be its total minus the rest).
  const closeGroups = () => {
    for (let changed = true; changed;) {
      changed = false;
      h.groups.forEach((g, gi) => {
        const members = [g.parent, ...g.children];
        const hid = members.filter((f) => hidden[f]);
        if (hid.length !== 1) return;
        const c = complementIn(gi, hid[0]);
        if (c !== null) {
          hidden[c] = true;
          changed = true;
        }
      });
    }
  };

  let rounds = 0;
  for (;;) {
    closeGroups();
    rounds++;
    const weak = await auditPattern(h, exempt, hidden, primary);
    if (weak.length === 0) break;
    let added = 0;
    for (const f of weak) {
      // Widen a weak sum: hide the least-revealing visible member of a group it is in.
      for (const gi of groupsOf[f]) {
        const c = complementIn(gi, -1);
        if (c !== null) {
          hidden[c] = true;
          added++;
          break;
        }
      }
    }
    if (added === 0 || rounds > 25) {
      // Nothing left to hide beside the weak sums: hide every sum the scope is not exempt for, in their groups'
      // components. Never reached on the demo data; here so the loop always ends safe.
      for (let f = 0; f < n; f++) if (!allExempt[f]) hidden[f] = true;
      break;
    }
  }
  return { hidden, primary, rounds };
}

/** Hidden sums the scope could pin to fewer than three values (indexes of forms). */
export async function auditPattern(
  h: Hierarchy,
  exempt: boolean[],
  hidden: boolean[],
  primary: boolean[],
): Promise<number[]> {
  const sys = attackerSystem(h, exempt, hidden, primary);
  const targets = h.forms.map((_f, i) => (hidden[i] ? i : -1)).filter((i) => i >= 0);
  const bounds = await boundSums(
    sys.system,
    targets.map((f) => sys.varsOf(h.forms[f].atoms)),
    { spread: 2 },
  );
  return targets.filter((_, k) => bounds[k].max - bounds[k].min < 2);
}

/** What the scope knows, as a linear system over the atoms it is not exempt for (the rest are constants). */
export function attackerSystem(h: Hierarchy, exempt: boolean[], hidden: boolean[], primary: boolean[]) {
  const varOf = new Map<number, number>();
  h.atoms.forEach((_, i) => {
    if (!exempt[i]) varOf.set(i, varOf.size);
  });
  const known = (atoms: number[]) => atoms.reduce((s, i) => s + (exempt[i] ? h.atoms[i].count : 0), 0);
  const varsOf = (atoms: number[]) => atoms.filter((i) => !exempt[i]).map((i) => varOf.get(i)!);
  const system: LinearSystem = {
    nVars: varOf.size,
    equalities: [],
    ranges: [],
    zeroOrAtLeast: [],
    bigM: h.forms.reduce((m, f) => Math.max(m, f.value), 0) + 1,
  };
  // A visible sum whose group's other members are all visible says nothing they do not: left out, it keeps
  // components apart (a county total beside every district total).
  const implied = new Set<number>();
  for (const g of [...h.groups].sort((a, b) => h.forms[b.parent].atoms.length - h.forms[a.parent].atoms.length)) {
    if (!hidden[g.parent] && g.children.every((c) => !hidden[c])) implied.add(g.parent);
  }
  h.forms.forEach((f, i) => {
    const vars = varsOf(f.atoms);
    if (vars.length === 0 || implied.has(i)) return;
    const k = known(f.atoms);
    if (!hidden[i]) system.equalities.push({ vars, value: f.value - k });
    else if (primary[i]) system.ranges.push({ vars, lo: SMALL_MIN - k, hi: SMALL_MAX - k });
    else system.zeroOrAtLeast.push({ vars, offset: k, min: SMALL_MAX + 1 });
  });
  return { system, varsOf };
}

/**
 * Whether one published sum (any set of atoms) is shown to the scope, given its pattern: when it lies wholly
 * within the scope's exemption, or is a sum of the hierarchy the pattern shows, or is the disjoint union of
 * such sums and exempt atoms (then it says nothing the scope cannot add up itself). Anything else is hidden.
 */
export function isShown(h: Hierarchy, pattern: Pattern, exempt: boolean[], atoms: number[]): boolean {
  if (atoms.every((i) => exempt[i])) return true;
  const f = h.byKey.get(atomKey(atoms));
  if (f !== undefined) return !pattern.hidden[f];
  const mine = new Set(atoms);
  const covered = new Set<number>();
  const formsOf = formsOfAtom(h);
  for (const i of atoms) {
    if (covered.has(i) || exempt[i]) continue;
    let best = -1;
    for (const g of formsOf[i]) {
      if (pattern.hidden[g] || (best >= 0 && h.forms[g].atoms.length <= h.forms[best].atoms.length)) continue;
      if (h.forms[g].atoms.every((a) => mine.has(a) && !covered.has(a))) best = g;
    }
    if (best < 0) return false;
    for (const a of h.forms[best].atoms) covered.add(a);
  }
  return true;
}

const formsOfAtomCache = new WeakMap<Hierarchy, number[][]>();
function formsOfAtom(h: Hierarchy): number[][] {
  let index = formsOfAtomCache.get(h);
  if (!index) {
    const built: number[][] = h.atoms.map(() => []);
    h.forms.forEach((f, i) => f.atoms.forEach((a) => built[a].push(i)));
    formsOfAtomCache.set(h, (index = built));
  }
  return index;
}
