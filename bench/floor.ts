import http from 'node:http';
import { Pool } from 'pg';
import { MEMBERSHIP_ON } from '../server/modules/community/membership';
import { schoolTermTotalSql } from '../server/modules/funding/engine';

/**
 * The floors: the same data as the hub's queries, produced by one hand-written SQL statement (json_agg) each
 * and written straight to HTTP. No GraphQL, no auth, no loaders: what the database alone costs. The rules they
 * apply (membership on a date, a school's funding total) are the hub's own SQL fragments, so both do the same work.
 * `/?n=600` is the nested 600-school query, `/page?n=20` the 20-school page of primary schools with its
 * totalCount, `/school?urn=…` the single-school lookup.
 */
const SCHOOL_JSON = `json_build_object('urn', s.urn, 'name', s.name,
    'district', json_build_object('name', d.name, 'area', json_build_object('name', a.name)),
    'community', (SELECT json_build_object('code', c.code, 'name', c.name, 'pot', json_build_object('amount', p.amount))
       FROM community_membership m JOIN community c ON c.code = m.community_code
       LEFT JOIN community_pot p ON p.community_code = c.code AND p.term_code = 'AUTUMN-2025'
      WHERE m.school_urn = s.urn AND ${MEMBERSHIP_ON('m', `DATE '2025-10-01'`)}),
    'notionalSenBudget', (SELECT json_build_object('total', sum(f.sen_amount), 'factors', json_agg(json_build_object('factor', f.factor, 'senAmount', f.sen_amount) ORDER BY f.factor))
       FROM notional_sen_factor f WHERE f.school_urn = s.urn AND f.financial_year_code = '2025-26' HAVING count(*) > 0),
    'funding', (SELECT json_build_object('baseline', t.baseline, 'protectedAmount', t.protected_amount, 'communityShare', t.community_share,
            'total', ${schoolTermTotalSql('t')})
       FROM school_term_funding t WHERE t.school_urn = s.urn AND t.term_code = 'AUTUMN-2025'),
    'caseloads', (SELECT coalesce(json_agg(json_build_object('kind', k.kind, 'count', k.n, 'suppressed', false) ORDER BY k.kind), '[]'::json)
       FROM (SELECT kind, sum(count)::int AS n FROM caseload_count WHERE school_urn = s.urn AND period_code = '2025/26-T2' GROUP BY kind) k))`;
const SCHOOLS = `school s JOIN district d ON d.ons_code = s.district_code JOIN area a ON a.code = d.area_code`;

export const FLOOR_SQL = `
SELECT json_build_object('data', json_build_object('schools', json_build_object('nodes', coalesce(json_agg(x.j ORDER BY x.urn), '[]'::json)))) AS body
FROM (SELECT s.urn, ${SCHOOL_JSON} AS j FROM ${SCHOOLS} ORDER BY s.urn LIMIT $1) x`;

export const FLOOR_PAGE_SQL = `
SELECT json_build_object('data', json_build_object('schools', json_build_object(
         'totalCount', (SELECT count(*)::int FROM school WHERE phase = $2),
         'nodes', coalesce(json_agg(x.j ORDER BY x.urn), '[]'::json)))) AS body
FROM (SELECT s.urn, ${SCHOOL_JSON} AS j FROM ${SCHOOLS} WHERE s.phase = $2 ORDER BY s.urn LIMIT $1) x`;

export const FLOOR_SCHOOL_SQL = `
SELECT json_build_object('data', json_build_object('school', (SELECT ${SCHOOL_JSON} FROM ${SCHOOLS} WHERE s.urn = $1))) AS body`;

export async function startFloor(
  dbUrl: string,
  poolSize: number,
  opts: { prepare: boolean },
): Promise<{ url: string; stop(): Promise<void> }> {
  const pool = new Pool({ connectionString: dbUrl, max: poolSize });
  const named = (name: string, text: string) => (opts.prepare ? { name: `floor_${name}`, text } : { text });
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      const n = Number(url.searchParams.get('n') ?? 600);
      // Prepared (named) statements, as the hub's compiled reads are on PostgreSQL (db/prepared.ts).
      const { rows } =
        url.pathname === '/school'
          ? await pool.query({ ...named('school', FLOOR_SCHOOL_SQL), values: [Number(url.searchParams.get('urn'))] })
          : url.pathname === '/page'
            ? await pool.query({ ...named('page', FLOOR_PAGE_SQL), values: [n, 'PRIMARY'] })
            : await pool.query({ ...named('nested', FLOOR_SQL), values: [n] });
      const body = JSON.stringify(rows[0].body);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    } catch (err) {
      res.writeHead(500);
      res.end(String(err));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      await new Promise<void>((r) => server.close(() => r()));
      await pool.end();
    },
  };
}
