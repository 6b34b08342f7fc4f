/**
 * The attacker of the disclosure tests: someone with one token (an Analyst, or a Chair looking at other
 * communities) who reads everything the hub will give them about caseloads and the money that encodes them,
 * knows the suppression algorithm and which hidden cells are from 1 to 4 and which are not, and solves for
 * each hidden cell's smallest and largest value as an integer program (audit.ts, GLPK).
 *
 * The attacker's knowledge of structure (which finest cells exist, each school's community) comes from the
 * database; every published figure comes from the API, through every path: grouped tables at every grouping
 * and filter, School.caseloads on the compiled and the resolver paths, Community.schools, the CSV export and
 * School.funding. Nothing here calls the server's suppression code.
 */
import http from 'node:http';
import { parse } from 'csv-parse/sync';
import { boundSums, LinearSystem } from '../../server/modules/caseload/audit';
import { DEFAULT_MODEL_PARAMETERS } from '../../server/modules/funding/model';
import type { TestHub } from './hub';

export const CONTROLLED = ['SIPS_CHILDREN', 'EHCP_PLANS', 'EYPRG_REFERRALS'] as const;
const GROUPINGS = ['SCHOOL', 'COMMUNITY', 'DISTRICT', 'WORKER'] as const;

interface Atom {
  worker: string | null;
  school: number | null;
  district: string;
  community: string | null;
  count: number;
}

/** One published figure: the atoms it sums, and its value (null when suppressed). */
interface Seen {
  kind: string;
  period: string;
  where: string;
  atoms: number[];
  count: number | null;
  /** Instead of an exact value: the decoded range of a school's plans (from money). */
  range?: [number, number];
}

export interface AttackReport {
  role: string;
  /** Hidden cells per kind, and how many were pinned exactly / to two values. */
  byKind: Record<string, { hidden: number; exact: number; twoValues: number }>;
  /** Small band counts decoded from money (school, term, band, possible values). */
  moneyDisclosures: string[];
  failures: string[];
  figures: number;
  /** Seconds since the start at the end of each phase. */
  phases?: string[];
}

async function atomsOf(t: TestHub, kind: string, period: string): Promise<Atom[]> {
  return t.db.dataSource.query(
    `SELECT c.worker_code AS worker, c.school_urn AS school, c.district_code AS district, m.community_code AS community, sum(c.count)::int AS count
       FROM caseload_count c JOIN school_term st ON st.code = c.period_code
       LEFT JOIN LATERAL (SELECT m.community_code FROM community_membership m WHERE m.school_urn = c.school_urn
                            AND m.effective_from <= st.start_date AND (m.effective_to IS NULL OR m.effective_to > st.start_date)
                          ORDER BY m.effective_from DESC LIMIT 1) m ON true
      WHERE c.kind = $1 AND c.period_code = $2 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
    [kind, period],
  );
}

const q = (s: string) => JSON.stringify(s);

/** One request on its own connection (a long run of large answers trips fetch's connection reuse). */
function request(url: string, token: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { authorization: `Bearer ${token}` };
    if (body !== undefined)
      Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    const req = http.request(url, { method: body === undefined ? 'GET' : 'POST', agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
const post = async (url: string, query: string, token: string, variables?: Record<string, unknown>) => ({
  body: JSON.parse((await request(`${url}/graphql`, token, JSON.stringify({ query, variables }))).text),
});
// Grouped tables per request (a batch the hub finds too large is halved) and requests in flight at once.
const BATCH = 8;
const IN_FLIGHT = 3;

/** Collects everything the token can read and solves for every hidden cell. */
export async function attack(
  t: TestHub,
  resolvers: TestHub,
  token: string,
  role: string,
  exemptCommunity: string | null,
): Promise<AttackReport> {
  const db = t.db.dataSource;
  const periods: { code: string; startDate: string; fundingTermCode: string }[] = await db.query(
    `SELECT code, to_char(start_date, 'YYYY-MM-DD') AS "startDate", funding_term_code AS "fundingTermCode" FROM school_term st
      WHERE EXISTS (SELECT 1 FROM caseload_count c WHERE c.period_code = st.code) ORDER BY start_date`,
  );
  const districts: string[] = (await db.query(`SELECT ons_code FROM district ORDER BY 1`)).map((r: any) => r.ons_code);
  const communities: string[] = (await db.query(`SELECT code FROM community ORDER BY 1`)).map((r: any) => r.code);
  const atoms = new Map<string, Atom[]>();
  for (const kind of CONTROLLED)
    for (const p of periods) atoms.set(`${kind}|${p.code}`, await atomsOf(t, kind, p.code));
  const seen: Seen[] = [];
  const clock = Date.now();
  const phases: string[] = [];
  const phase = (name: string) => phases.push(`${name} ${((Date.now() - clock) / 1000).toFixed(0)} s`);
  const gql = async (hub: TestHub, query: string) => {
    const started = Date.now();
    const r = await post(hub.url, query, token).catch((err) => {
      throw new Error(`after ${Date.now() - started} ms: ${query.slice(0, 300)}: ${err.cause ?? err}`);
    });
    if (r.body.errors) throw new Error(`${query.slice(0, 200)}: ${JSON.stringify(r.body.errors[0])}`);
    return r.body.data;
  };
  const pick = (kind: string, period: string, test: (a: Atom) => boolean) =>
    atoms.get(`${kind}|${period}`)!.flatMap((a, i) => (test(a) ? [i] : []));

  // 1. Grouped tables: every grouping, without a filter, by district, by community and by community and district.
  const pairs: [string, string][] = (
    await db.query(
      `SELECT DISTINCT m.community_code AS c, s.district_code AS d FROM community_membership m JOIN school s ON s.urn = m.school_urn ORDER BY 1, 2`,
    )
  ).map((r: any) => [r.c, r.d]);
  const filters: { district?: string; community?: string }[][] = [
    [{}],
    districts.map((district) => ({ district })),
    communities.map((community) => ({ community })),
    pairs.map(([community, district]) => ({ community, district })),
  ];
  // Every (kind, grouping, filter) table, asked for in batches of aliases (halved when the hub finds a batch too
  // large to answer), a few requests at a time.
  type Table = { kind: string; groupBy: (typeof GROUPINGS)[number]; f: { district?: string; community?: string } };
  const tables: Table[] = [];
  for (const kind of CONTROLLED)
    for (const groupBy of GROUPINGS)
      for (const family of filters) for (const f of family) tables.push({ kind, groupBy, f });
  const record = (table: Table, answer: { rows: any[]; totals: any[] }) => {
    const { kind, groupBy, f } = table;
    const scoped = groupBy === 'SCHOOL' || groupBy === 'COMMUNITY' || Boolean(f.community);
    const inFilter = (a: Atom) =>
      (!f.district || a.district === f.district) &&
      (!f.community || a.community === f.community) &&
      (!scoped || a.community !== null);
    const keyOf = (a: Atom) =>
      groupBy === 'SCHOOL'
        ? a.school === null
          ? null
          : String(a.school)
        : groupBy === 'COMMUNITY'
          ? a.community
          : groupBy === 'DISTRICT'
            ? a.district
            : a.worker;
    const where = `caseloads(${groupBy}${f.district ? ` ${f.district}` : ''}${f.community ? ` ${f.community}` : ''})`;
    // Atoms of each period by key, once per table (not a scan of every atom per row).
    const byKey = new Map<string, number[]>();
    const all = new Map<string, number[]>();
    for (const p of periods) {
      const list: number[] = [];
      atoms.get(`${kind}|${p.code}`)!.forEach((a, i) => {
        const k = keyOf(a);
        if (!inFilter(a) || k === null) return;
        list.push(i);
        const at = `${p.code}|${k}`;
        if (!byKey.has(at)) byKey.set(at, []);
        byKey.get(at)!.push(i);
      });
      all.set(p.code, list);
    }
    for (const r of answer.rows)
      seen.push({
        kind,
        period: r.period,
        where: `${where} ${r.key}`,
        count: r.count,
        atoms: byKey.get(`${r.period}|${r.key}`) ?? [],
      });
    for (const r of answer.totals)
      seen.push({ kind, period: r.period, where: `${where} total`, count: r.count, atoms: all.get(r.period) ?? [] });
  };
  const ask = async (batch: Table[]): Promise<void> => {
    // One document per batch size, the tables in variables (an absent filter is null): the hub compiles it once.
    const params = batch.map(
      (_, i) => `$k${i}: CaseloadKind!, $g${i}: CaseloadGrouping!, $d${i}: String, $c${i}: String`,
    );
    const fields = batch.map(
      (_, i) =>
        `t${i}: caseloads(kind: $k${i}, groupBy: $g${i}, districtCode: $d${i}, communityCode: $c${i}) { rows { key period count } totals { period count } }`,
    );
    const variables = Object.fromEntries(
      batch.flatMap(({ kind, groupBy, f }, i) => [
        [`k${i}`, kind],
        [`g${i}`, groupBy],
        [`d${i}`, f.district ?? null],
        [`c${i}`, f.community ?? null],
      ]),
    );
    const r = await post(t.url, `query(${params.join(', ')}) { ${fields.join('\n')} }`, token, variables);
    if (r.body.errors?.[0]?.extensions?.code === 'QUERY_TOO_COMPLEX' && batch.length > 1) {
      const half = Math.ceil(batch.length / 2);
      await ask(batch.slice(0, half));
      await ask(batch.slice(half));
      return;
    }
    if (r.body.errors) throw new Error(`${JSON.stringify(batch[0])}: ${JSON.stringify(r.body.errors[0])}`);
    batch.forEach((table, i) => record(table, r.body.data[`t${i}`]));
  };
  const batches: Table[][] = [];
  for (let at = 0; at < tables.length; at += BATCH) batches.push(tables.slice(at, at + BATCH));
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (let b = batches.shift(); b; b = batches.shift()) await ask(b);
    }),
  );

  phase('tables');
  // 2. School.caseloads on both paths, and Community.schools { caseloads } on the first day of each term.
  const perPeriod = periods.map((p, i) => `p${i}: caseloads(period: ${q(p.code)}) { kind count }`).join(' ');
  for (const [hub, path] of [
    [t, 'compiled'],
    [resolvers, 'resolvers'],
  ] as const) {
    const data = await gql(hub, `{ schools(first: 1000) { nodes { urn ${perPeriod} } } }`);
    for (const s of data.schools.nodes) {
      periods.forEach((p, i) => {
        for (const c of s[`p${i}`]) {
          if (!(CONTROLLED as readonly string[]).includes(c.kind)) continue;
          seen.push({
            kind: c.kind,
            period: p.code,
            where: `School.caseloads (${path}) ${s.urn}`,
            count: c.count,
            atoms: pick(c.kind, p.code, (a) => a.school === s.urn),
          });
        }
      });
    }
  }
  for (const p of periods) {
    const data = await gql(
      resolvers,
      `{ communities { code schools(asOf: ${q(p.startDate)}) { urn caseloads(period: ${q(p.code)}) { kind count } } } }`,
    );
    for (const c of data.communities) {
      for (const s of c.schools) {
        for (const v of s.caseloads) {
          if (!(CONTROLLED as readonly string[]).includes(v.kind)) continue;
          seen.push({
            kind: v.kind,
            period: p.code,
            where: `Community.schools ${c.code} ${s.urn}`,
            count: v.count,
            atoms: pick(v.kind, p.code, (a) => a.school === s.urn),
          });
        }
      }
    }
  }

  phase('schools');
  // 3. The CSV export, every grouping without a filter.
  for (const kind of CONTROLLED) {
    for (const groupBy of GROUPINGS) {
      const res = await request(`${t.url}/export/caseloads.csv?kind=${kind}&groupBy=${groupBy}`, token);
      if (res.status !== 200) throw new Error(`export ${kind} ${groupBy}: ${res.status} ${res.text}`);
      const records: Record<string, string>[] = parse(res.text.replace(/^\uFEFF/, ''), { columns: true });
      for (const rec of records) {
        const { rowType, key, period } = rec;
        const count = rec.count === '' ? null : Number(rec.count);
        const scoped = groupBy === 'SCHOOL' || groupBy === 'COMMUNITY';
        const keyOf = (a: Atom) =>
          groupBy === 'SCHOOL'
            ? a.school === null
              ? null
              : String(a.school)
            : groupBy === 'COMMUNITY'
              ? a.community
              : groupBy === 'DISTRICT'
                ? a.district
                : a.worker;
        const test = (a: Atom) =>
          (!scoped || a.community !== null) && keyOf(a) !== null && (rowType === 'TOTAL' || keyOf(a) === key);
        seen.push({
          kind,
          period,
          where: `export ${groupBy} ${rowType} ${key}`,
          count,
          atoms: pick(kind, period, test),
        });
      }
    }
  }

  phase('exports');
  // 4. Money: a school's banded top-up is plans per band x band value x months / 12, and in the demo data a
  //    mainstream school's plans in the banded terms are its EHCP caseload. Decode every figure the token sees.
  const moneyDisclosures: string[] = [];
  const banded: { term: string; months: number }[] = await db.query(
    `SELECT ft.code AS term, ft.months FROM funding_term ft WHERE EXISTS (SELECT 1 FROM school_term_funding f WHERE f.term_code = ft.code AND f.banded_top_up <> 0) ORDER BY ft.start_date`,
  );
  const values = Object.values(DEFAULT_MODEL_PARAMETERS.bandValues).map((v) => Math.round(Number(v) * 100));
  const bandNames = Object.keys(DEFAULT_MODEL_PARAMETERS.bandValues);
  for (const { term, months } of banded) {
    const data = await gql(
      t,
      `{ schools(first: 1000) { nodes { urn funding(term: ${q(term)}) { protectedAmount communityShare bandedTopUp total } } } }`,
    );
    // Which caseload periods the attacker can tie to the band counts: those where the identity holds.
    const linked: string[] = (
      await db.query(
        `SELECT st.code FROM school_term st WHERE st.funding_term_code = $1 AND NOT EXISTS (
           SELECT 1 FROM (SELECT school_urn, sum(plans) AS plans FROM ehcp_band_count WHERE term_code = $1 GROUP BY 1) b
            WHERE b.plans <> coalesce((SELECT sum(count) FROM caseload_count c WHERE c.kind = 'EHCP_PLANS' AND c.period_code = st.code AND c.school_urn = b.school_urn), 0))
           AND EXISTS (SELECT 1 FROM caseload_count c WHERE c.kind = 'EHCP_PLANS' AND c.period_code = st.code)`,
        [term],
      )
    ).map((r: any) => r.code);
    const ownSchools = new Set<number>(
      (
        await db.query(
          `SELECT m.school_urn FROM community_membership m JOIN funding_term ft ON ft.code = $1
            WHERE m.community_code = $2 AND m.effective_from <= ft.start_date AND (m.effective_to IS NULL OR m.effective_to > ft.start_date)`,
          [term, exemptCommunity],
        )
      ).map((r: any) => r.school_urn),
    );
    for (const s of data.schools.nodes) {
      const f = s.funding;
      if (!f) continue;
      const pence = (m: string | null) => (m === null ? null : Math.round(Number(m) * 100));
      let money = pence(f.bandedTopUp);
      if (money === null && f.total !== null && f.protectedAmount !== null && f.communityShare !== null)
        money = pence(f.total)! - pence(f.protectedAmount)! - pence(f.communityShare)!;
      if (money === null || money === 0) {
        if (money === 0)
          for (const period of linked)
            seen.push({
              kind: 'EHCP_PLANS',
              period,
              where: `funding ${term} ${s.urn}`,
              count: 0,
              atoms: pick('EHCP_PLANS', period, (a) => a.school === s.urn),
            });
        continue;
      }
      // A Chair may see everything about their own community's schools.
      if (exemptCommunity !== null && ownSchools.has(s.urn)) continue;
      const decoded = decodeBands(money, values, months);
      if (decoded === null) continue;
      const totals = decoded.map((n) => n.reduce((a, b) => a + b, 0));
      bandNames.forEach((band, b) => {
        const possible = [...new Set(decoded.map((n) => n[b]))].sort((x, y) => x - y);
        if (possible.length <= 2 && possible.some((n) => n >= 1 && n <= 4))
          moneyDisclosures.push(`${s.urn} ${term} band ${band}: ${possible.join(' or ')}`);
      });
      if (totals.length === 0) continue;
      for (const period of linked) {
        seen.push({
          kind: 'EHCP_PLANS',
          period,
          where: `funding ${term} ${s.urn}`,
          count: null,
          range: [Math.min(...totals), Math.max(...totals)],
          atoms: pick('EHCP_PLANS', period, (a) => a.school === s.urn),
        });
      }
    }
  }

  phase('money');
  // 5. Solve, per kind and period.
  const report: AttackReport = { role, byKind: {}, moneyDisclosures, failures: [], figures: seen.length, phases };
  for (const kind of CONTROLLED) {
    const stats = (report.byKind[kind] = { hidden: 0, exact: 0, twoValues: 0 });
    for (const p of periods) {
      const as = atoms.get(`${kind}|${p.code}`)!;
      if (as.length === 0) continue;
      const mine = seen.filter((x) => x.kind === kind && x.period === p.code && x.atoms.length > 0);
      const exempt = as.map((a) => exemptCommunity !== null && a.community === exemptCommunity);
      const varOf = new Map<number, number>();
      as.forEach((_, i) => !exempt[i] && varOf.set(i, varOf.size));
      const vars = (ids: number[]) => ids.filter((i) => !exempt[i]).map((i) => varOf.get(i)!);
      const known = (ids: number[]) => ids.reduce((s, i) => s + (exempt[i] ? as[i].count : 0), 0);
      const truth = (ids: number[]) => ids.reduce((s, i) => s + as[i].count, 0);
      const sys: LinearSystem = {
        nVars: varOf.size,
        equalities: [],
        ranges: [],
        zeroOrAtLeast: [],
        bigM: truth(as.map((_, i) => i)) + 1,
      };
      const hidden = new Map<string, Seen>();
      for (const x of mine) {
        const v = vars(x.atoms);
        if (v.length === 0) continue;
        const k = known(x.atoms);
        if (x.range) sys.ranges.push({ vars: v, lo: x.range[0] - k, hi: x.range[1] - k });
        else if (x.count !== null) sys.equalities.push({ vars: v, value: x.count - k });
        else {
          const key = [...x.atoms].sort((a, b) => a - b).join(',');
          if (hidden.has(key)) continue;
          hidden.set(key, x);
          // The attacker knows the rule: a hidden cell is from 1 to 4, or (a complement) 0 or 5 and over.
          const value = truth(x.atoms);
          if (value >= 1 && value <= 4) sys.ranges.push({ vars: v, lo: 1 - k, hi: 4 - k });
          else sys.zeroOrAtLeast.push({ vars: v, offset: k, min: 5 });
        }
      }
      const targets = [...hidden.values()];
      stats.hidden += targets.length;
      const bounds = await boundSums(
        sys,
        targets.map((x) => vars(x.atoms)),
        { spread: 2 },
      );
      targets.forEach((x, i) => {
        const b = bounds[i];
        const width = b.max - b.min;
        if (width >= 2) return;
        if (width === 0) stats.exact++;
        else stats.twoValues++;
        const actual = truth(x.atoms);
        report.failures.push(
          `${role} ${kind} ${p.code} ${x.where}: ${width === 0 ? `= ${b.min}` : `${b.min} or ${b.max}`} (true ${actual})`,
        );
      });
    }
  }
  phase('solved');
  return report;
}

/**
 * Every vector of plans per band whose banded top-up (rounded to the penny) is `pence`; null when there are
 * too many to be of use (the figure then says little).
 */
export function decodeBands(pence: number, annualPence: number[], months: number): number[][] | null {
  const out: number[][] = [];
  const target12 = pence * 12;
  const n = annualPence.map(() => 0);
  // Bands 1.. are walked; band 0 follows from what is left (within half a penny x 12 of the figure x 12).
  const walk = (b: number, acc: number): boolean => {
    if (out.length > 2000) return false;
    if (b === annualPence.length) {
      const k = Math.round((target12 / months - acc) / annualPence[0]);
      if (k >= 0 && Math.abs((acc + k * annualPence[0]) * months - target12) <= 6) out.push([k, ...n.slice(1)]);
      return true;
    }
    for (let k = 0; (acc + k * annualPence[b]) * months <= target12 + 6; k++) {
      n[b] = k;
      if (!walk(b + 1, acc + k * annualPence[b])) return false;
    }
    n[b] = 0;
    return true;
  };
  return walk(1, 0) ? out : null;
}
