import type { EntityManager } from 'typeorm';
import { Role, Viewer } from '../../auth/roles';
import { MEMBERSHIP_ON } from '../community/membership';
import { CaseloadKind, CHILD_COUNT_KINDS } from './caseload.entity';
import { Atom, buildHierarchy, choosePattern, exemptAtoms, Hierarchy, Pattern, Scope, scopeKey } from './disclosure';
import { isSmall } from './small-counts';

/**
 * Where patterns live. A pattern is computed once per scope, kind, period and data version, stored in
 * `disclosure_pattern` (and its school cells in `disclosure_school_cell`, which the compiled SQL joins), and
 * kept in memory per process. `caseload_version` is bumped by triggers in the same transaction as any change
 * to the counts or memberships, so every process sees a new version with the new counts and recomputes: a
 * pattern is never applied to counts it was not computed from (the compiled SQL checks the version in the
 * same statement and hides the cell when they differ).
 */

export interface Published {
  version: number;
  h: Hierarchy;
  pattern: Pattern;
  exempt: boolean[];
  scope: Scope;
}

/**
 * The viewer's scope for a kind: the one statement of who is exempt from suppression, read by the resolvers, the
 * compiled SQL (sqlScope), the tables and the money that encodes counts. Finance and the Sub-Group see every
 * count, a Chair the atoms of their own community, anyone else the pattern; counts not about children are whole.
 */
export function scopeOf(viewer: Viewer, kind: CaseloadKind): Scope {
  if (!CHILD_COUNT_KINDS.has(kind) || viewer.role === Role.FINANCE || viewer.role === Role.SUBGROUP)
    return { kind: 'ALL' };
  if (viewer.role === Role.CHAIR && viewer.communityCode) return { kind: 'CHAIR', community: viewer.communityCode };
  return { kind: 'ANALYST' };
}

const ATOMS_SQL = `
  SELECT (SELECT coalesce(max(v.version), 0) FROM caseload_version v WHERE v.kind = $1 AND v.period_code = $2)::int AS version,
         coalesce(json_agg(json_build_object('worker', a.worker, 'school', a.school, 'district', a.district, 'community', a.community, 'count', a.count)
                  ORDER BY a.worker, a.school, a.district, a.community), '[]'::json) AS atoms
    FROM (SELECT c.worker_code AS worker, c.school_urn AS school, c.district_code AS district, m.community_code AS community, sum(c.count)::int AS count
            FROM caseload_count c
            JOIN school_term st ON st.code = c.period_code
            LEFT JOIN LATERAL (SELECT m.community_code FROM community_membership m
                                WHERE m.school_urn = c.school_urn AND ${MEMBERSHIP_ON('m', 'st.start_date')}) m ON true
           WHERE c.kind = $1 AND c.period_code = $2
           GROUP BY 1, 2, 3, 4) a`;

/** Per process: hierarchies by kind|period|version and patterns by scope|kind|period|version (small, bounded). */
const hierarchies = new Map<string, Promise<{ version: number; h: Hierarchy }>>();
const patterns = new Map<string, Promise<Pattern>>();
const MEMO_LIMIT = 2000;
function remember<T>(map: Map<string, T>, key: string, value: T): T {
  if (map.size >= MEMO_LIMIT) map.delete(map.keys().next().value!);
  map.set(key, value);
  return value;
}

export async function currentVersion(db: EntityManager, kind: CaseloadKind, period: string): Promise<number> {
  const [row] = await db.query(
    `SELECT coalesce(max(version), 0)::int AS version FROM caseload_version WHERE kind = $1 AND period_code = $2`,
    [kind, period],
  );
  return row.version;
}

async function hierarchyAt(
  db: EntityManager,
  kind: CaseloadKind,
  period: string,
  version: number,
): Promise<{ version: number; h: Hierarchy }> {
  const key = `${kind}|${period}|${version}`;
  const hit = hierarchies.get(key);
  if (hit) return hit;
  const loading = (async () => {
    // Atoms and version in one statement: one snapshot, so they belong together.
    const [row] = await db.query(ATOMS_SQL, [kind, period]);
    return { version: row.version as number, h: buildHierarchy(row.atoms as Atom[]) };
  })();
  void remember(hierarchies, key, loading);
  const got = await loading.catch((err) => {
    hierarchies.delete(key);
    throw err;
  });
  if (got.version !== version) hierarchies.delete(key);
  return got;
}

/** Pattern names as stored: the first name of each hidden form. */
const hiddenNames = (h: Hierarchy, p: Pattern) => h.forms.flatMap((f, i) => (p.hidden[i] ? [f.names[0]] : []));

let computing: Promise<unknown> = Promise.resolve();

async function patternAt(
  db: EntityManager,
  scope: Scope,
  kind: CaseloadKind,
  period: string,
  version: number,
  h: Hierarchy,
): Promise<Pattern> {
  const key = `${scopeKey(scope)}|${kind}|${period}|${version}`;
  const hit = patterns.get(key);
  if (hit) return hit;
  // One computation at a time per process: they share the request's connection, which takes one transaction at a time.
  const loading: Promise<Pattern> = computing.then(() => loadOrCompute(db, scope, kind, period, version, h));
  computing = loading.catch(() => undefined);
  void remember(patterns, key, loading);
  return loading.catch((err) => {
    patterns.delete(key);
    throw err;
  });
}

/** A stored pattern (the names of its hidden sums) over the hierarchy it was computed from. */
function fromStored(h: Hierarchy, exempt: boolean[], hiddenNames: string[]): Pattern {
  const names = new Set<string>(hiddenNames);
  const hidden = h.forms.map((f) => f.names.some((n) => names.has(n)));
  // The primary flags are not stored: they follow from the counts.
  const primary = h.forms.map((f, i) => hidden[i] && !f.atoms.every((a) => exempt[a]) && isSmall(f.value));
  return { hidden, primary, rounds: 0 };
}

async function loadOrCompute(
  db: EntityManager,
  scope: Scope,
  kind: CaseloadKind,
  period: string,
  version: number,
  h: Hierarchy,
): Promise<Pattern> {
  const sk = scopeKey(scope);
  const [stored] = await db.query(
    `SELECT hidden FROM disclosure_pattern WHERE scope = $1 AND kind = $2 AND period_code = $3 AND data_version = $4`,
    [sk, kind, period, version],
  );
  const exempt = exemptAtoms(h, scope);
  if (stored) return fromStored(h, exempt, stored.hidden);
  // New counts: this read computes its own pattern, and the background takes the other scopes of the version.
  for (const kick of backgrounds) kick();
  const started = Date.now();
  // A Chair's pattern starts from the Analyst's (computed first, or read): usually it passes the Chair's audit as it is.
  const start =
    scope.kind === 'CHAIR'
      ? (await loadOrCompute(db, { kind: 'ANALYST' }, kind, period, version, h)).hidden
      : undefined;
  let pattern = await choosePattern(h, scope, start);
  const ms = Date.now() - started;
  const schools = h.forms.flatMap((f, i) =>
    f.names.filter((n) => n.startsWith('S:')).map((n) => ({ urn: Number(n.slice(2)), hidden: pattern.hidden[i] })),
  );
  await db.transaction(async (tx) => {
    // One writer per pattern at a time across processes; a writer that finds it done (or newer) writes nothing.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`disclosure|${sk}|${kind}|${period}`]);
    const [have] = await tx.query(
      `SELECT data_version FROM disclosure_pattern WHERE scope = $1 AND kind = $2 AND period_code = $3`,
      [sk, kind, period],
    );
    if (have && Number(have.data_version) >= version) {
      // Another process stored this version first: its pattern is the one every process publishes (the same
      // choice on the same counts, but one stored pattern is what makes that so).
      if (Number(have.data_version) === version) {
        const [theirs] = await tx.query(
          `SELECT hidden FROM disclosure_pattern WHERE scope = $1 AND kind = $2 AND period_code = $3 AND data_version = $4`,
          [sk, kind, period, version],
        );
        if (theirs) pattern = fromStored(h, exempt, theirs.hidden);
      }
      return;
    }
    await tx.query(
      `INSERT INTO disclosure_pattern (scope, kind, period_code, data_version, hidden, compute_ms) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (scope, kind, period_code) DO UPDATE SET data_version = EXCLUDED.data_version, hidden = EXCLUDED.hidden,
         compute_ms = EXCLUDED.compute_ms, computed_at = now()`,
      [sk, kind, period, version, hiddenNames(h, pattern), ms],
    );
    await tx.query(`DELETE FROM disclosure_school_cell WHERE scope = $1 AND kind = $2 AND period_code = $3`, [
      sk,
      kind,
      period,
    ]);
    await tx.query(
      `INSERT INTO disclosure_school_cell (scope, kind, period_code, school_urn, data_version, hidden)
       SELECT $1, $2, $3, x.urn, $4, x.hidden FROM unnest($5::int[], $6::boolean[]) AS x(urn, hidden)`,
      [sk, kind, period, version, schools.map((s) => s.urn), schools.map((s) => s.hidden)],
    );
  });
  return pattern;
}

/**
 * What a viewer may be shown of one kind and period: the atoms, the pattern of the viewer's scope, and which
 * atoms the viewer is exempt for. Computes and stores the pattern when the counts have changed.
 */
export async function published(
  db: EntityManager,
  viewer: Viewer,
  kind: CaseloadKind,
  period: string,
  knownVersion?: number,
): Promise<Published> {
  const scope = scopeOf(viewer, kind);
  const { version, h } = await hierarchyAt(db, kind, period, knownVersion ?? (await currentVersion(db, kind, period)));
  const exempt = exemptAtoms(h, scope);
  if (scope.kind === 'ALL')
    return {
      version,
      h,
      exempt,
      scope,
      pattern: { hidden: h.forms.map(() => false), primary: h.forms.map(() => false), rounds: 0 },
    };
  return { version, h, exempt, scope, pattern: await patternAt(db, scope, kind, period, version, h) };
}

/** For the bench: compute (or read) every pattern of a scope. */
export async function warmPatterns(
  db: EntityManager,
  scope: Scope,
  kinds: CaseloadKind[],
  periods: string[],
): Promise<void> {
  for (const kind of kinds) {
    for (const period of periods) {
      const { version, h } = await hierarchyAt(db, kind, period, await currentVersion(db, kind, period));
      await patternAt(db, scope, kind, period, version, h);
    }
  }
}

/** Forgets what this process remembers (tests and the bench measure cold computation with it). */
export function forgetPatterns(): void {
  hierarchies.clear();
  patterns.clear();
}

/** The SQL scope key of a viewer for the compiled path (null: sees everything). */
export function sqlScope(viewer: Viewer): string | null {
  const s = scopeOf(viewer, CaseloadKind.EHCP_PLANS);
  return s.kind === 'ALL' ? null : scopeKey(s);
}

/**
 * SQL: is the caseload value `k` (kind, n) of school `urn` in `period` hidden from `scope`? It reads the
 * stored pattern and requires the version it was computed at to be the current one, in the same statement;
 * anything missing or stale is hidden (fails closed). Counts not about children are never hidden.
 */
export function hiddenCellSql(args: {
  scope: string;
  urn: string;
  period: string;
  k: string;
  controlledKinds: string;
}): string {
  return `(${args.k}.kind = ANY(${args.controlledKinds}) AND coalesce((
      SELECT dc.hidden FROM disclosure_school_cell dc JOIN caseload_version cv ON cv.kind = dc.kind AND cv.period_code = dc.period_code AND cv.version = dc.data_version
       WHERE dc.scope = ${args.scope} AND dc.period_code = ${args.period} AND dc.school_urn = ${args.urn} AND dc.kind = ${args.k}.kind), true))`;
}

/** Per request: every data version (one statement), and what each kind and period publishes. */
const perRequest = new WeakMap<
  object,
  { versions: Promise<Map<string, number>>; published: Map<string, Promise<Published>> }
>();

export function publishedFor(
  ctx: { db: EntityManager; viewer: Viewer },
  kind: CaseloadKind,
  period: string,
): Promise<Published> {
  let memo = perRequest.get(ctx);
  if (!memo) {
    const versions = ctx.db
      .query(`SELECT kind, period_code AS period, version::int AS version FROM caseload_version`)
      .then(
        (rows: { kind: string; period: string; version: number }[]) =>
          new Map(rows.map((r) => [`${r.kind}|${r.period}`, r.version])),
      );
    perRequest.set(ctx, (memo = { versions, published: new Map() }));
  }
  const key = `${kind}|${period}`;
  let p = memo.published.get(key);
  if (!p) {
    p = memo.versions.then((v) => published(ctx.db, ctx.viewer, kind, period, v.get(key) ?? 0));
    memo.published.set(key, p);
  }
  return p;
}

/** The patterns of every controlled kind for a period, computed (or read) for this request. */
export function patternsReady(ctx: { db: EntityManager; viewer: Viewer }, period: string): Promise<unknown> {
  return Promise.all([...CHILD_COUNT_KINDS].map((k) => publishedFor(ctx, k, period)));
}

/**
 * A school's caseload values in a period as the viewer may see them: counts not about children as they are,
 * counts about children through the pattern (the school cell of the hierarchy), hidden when the pattern has
 * no such cell (fails closed).
 */
export async function schoolCaseloads(
  ctx: { db: EntityManager; viewer: Viewer },
  urn: number,
  period: string,
  counts: { kind: string; count: number }[],
): Promise<{ kind: CaseloadKind; count: number | null; suppressed: boolean }[]> {
  return Promise.all(
    counts.map(async (c) => {
      const kind = c.kind as CaseloadKind;
      if (!CHILD_COUNT_KINDS.has(kind)) return { kind, count: c.count, suppressed: false };
      const pub = await publishedFor(ctx, kind, period);
      const f = pub.h.byName.get(`S:${urn}`);
      if (f === undefined) return { kind, count: null, suppressed: true };
      const form = pub.h.forms[f];
      const shown = form.atoms.every((i) => pub.exempt[i]) || !pub.pattern.hidden[f];
      return shown ? { kind, count: form.value, suppressed: false } : { kind, count: null, suppressed: true };
    }),
  );
}

/** Whether a school's EHCP count in a period is shown to the viewer (for money that encodes it). */
export async function schoolCountShown(
  ctx: { db: EntityManager; viewer: Viewer },
  kind: CaseloadKind,
  urn: number,
  period: string,
): Promise<boolean> {
  const pub = await publishedFor(ctx, kind, period);
  if (pub.scope.kind === 'ALL') return true;
  const f = pub.h.byName.get(`S:${urn}`);
  if (f === undefined) return true; // no count held: nothing to hide
  return pub.h.forms[f].atoms.every((i) => pub.exempt[i]) || !pub.pattern.hidden[f];
}

/**
 * The scopes worth computing ahead: the Analyst's, each community with a live Chair token, and every scope
 * that has had a pattern before (a Chair signed in through OIDC, whose community no token names).
 */
async function knownScopes(db: EntityManager): Promise<Scope[]> {
  const rows: { community: string }[] = await db.query(
    `SELECT community_code AS community FROM api_token WHERE role = 'CHAIR' AND revoked_at IS NULL AND community_code IS NOT NULL
     UNION SELECT substr(scope, 7) FROM disclosure_pattern WHERE scope LIKE 'CHAIR:%'
     ORDER BY 1`,
  );
  return [{ kind: 'ANALYST' }, ...rows.map((r): Scope => ({ kind: 'CHAIR', community: r.community }))];
}

/**
 * One pass of the background computation: every pattern of a known scope whose stored version is not the
 * current one, the latest terms first, one at a time (through the same queue as the reads', so a read waits for
 * at most the one in hand). Another process may be doing the same: each pattern is checked just before it is
 * computed, and the order is shuffled per process, so two processes mostly share the work rather than repeat it.
 * Returns how many it computed.
 */
export async function precomputePatterns(db: EntityManager, shouldStop: () => boolean = () => false): Promise<number> {
  const scopes = await knownScopes(db);
  const terms: { kind: CaseloadKind; period: string; version: number }[] = await db.query(
    `SELECT v.kind, v.period_code AS period, v.version::int AS version FROM caseload_version v
       JOIN school_term st ON st.code = v.period_code WHERE v.kind = ANY($1) ORDER BY st.start_date DESC, v.kind`,
    [[...CHILD_COUNT_KINDS]],
  );
  const todo: { scope: Scope; kind: CaseloadKind; period: string; version: number }[] = [];
  const stored = new Map<string, number>(
    (
      (await db.query(
        `SELECT scope, kind, period_code AS period, data_version::int AS version FROM disclosure_pattern`,
      )) as {
        scope: string;
        kind: string;
        period: string;
        version: number;
      }[]
    ).map((r) => [`${r.scope}|${r.kind}|${r.period}`, r.version]),
  );
  for (const t of terms)
    for (const scope of shuffled(scopes))
      if (stored.get(`${scopeKey(scope)}|${t.kind}|${t.period}`) !== t.version) todo.push({ scope, ...t });
  let computed = 0;
  for (const job of todo) {
    if (shouldStop()) break;
    const [row] = await db.query(
      `SELECT 1 FROM disclosure_pattern WHERE scope = $1 AND kind = $2 AND period_code = $3 AND data_version >= $4`,
      [scopeKey(job.scope), job.kind, job.period, job.version],
    );
    if (row) continue;
    const { version, h } = await hierarchyAt(db, job.kind, job.period, job.version);
    if (version !== job.version) continue; // the counts changed again: the next pass takes the new version
    await patternAt(db, job.scope, job.kind, job.period, version, h);
    computed++;
  }
  return computed;
}

const shuffled = <T>(xs: T[]): T[] => {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
};

const STOP_WAIT_MS = 2000;

/** Processes' background computations, nudged when a read meets a version no pattern has yet. */
const backgrounds = new Set<() => void>();

/**
 * Computes patterns ahead in the background: at once, every `intervalMs` (a caseload import elsewhere bumps a
 * version), and as soon as a read in this process meets a new version. Errors are logged and the next pass
 * tries again. `stop` waits (briefly) for the pattern in hand.
 */
export function startPrecompute(
  db: EntityManager,
  opts: { intervalMs: number; log: { info(o: object, m: string): void; warn(o: object, m: string): void } },
): { stop(): Promise<void>; idle(): Promise<void> } {
  let stopped = false;
  let again = false;
  let running: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  const pass = async () => {
    do {
      again = false;
      const started = Date.now();
      try {
        const n = await precomputePatterns(db, () => stopped);
        if (n > 0) opts.log.info({ patterns: n, ms: Date.now() - started }, 'disclosure patterns computed ahead');
      } catch (err) {
        if (!stopped) opts.log.warn({ err }, 'disclosure patterns: background computation failed (retried later)');
      }
    } while (again && !stopped);
  };
  const kick = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = pass().finally(() => {
      running = null;
    });
  };
  const schedule = () => {
    timer = setTimeout(() => {
      kick();
      schedule();
    }, opts.intervalMs);
    timer.unref();
  };
  backgrounds.add(kick);
  // After the current tick: the hub finishes starting first.
  setImmediate(kick);
  schedule();
  return {
    async stop() {
      stopped = true;
      backgrounds.delete(kick);
      if (timer) clearTimeout(timer);
      // The pattern in hand, for at most STOP_WAIT_MS: shutting down does not wait for a long computation (it
      // stores nothing once the database is gone, and the next start computes it again).
      let wait: NodeJS.Timeout | undefined;
      await Promise.race([running, new Promise((r) => (wait = setTimeout(r, STOP_WAIT_MS)))]);
      clearTimeout(wait);
    },
    async idle() {
      while (running) await running;
    },
  };
}
