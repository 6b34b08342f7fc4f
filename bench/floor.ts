import http from 'node:http';
import { Pool } from 'pg';

/**
 * The floor: the same 600-school data as the hub's nested query, produced by one hand-written SQL statement
 * (json_agg) and written straight to HTTP. No GraphQL, no auth, no loaders: what the database alone costs.
 */
export const FLOOR_SQL = `
SELECT json_build_object('data', json_build_object('schools', json_build_object('nodes', coalesce(json_agg(x ORDER BY x.urn), '[]'::json)))) AS body
FROM (
  SELECT s.urn, s.name,
    json_build_object('name', d.name, 'area', json_build_object('name', a.name)) AS district,
    (SELECT json_build_object('code', c.code, 'name', c.name, 'pot', json_build_object('amount', p.amount))
       FROM community_membership m JOIN community c ON c.code = m.community_code
       LEFT JOIN community_pot p ON p.community_code = c.code AND p.term_code = 'AUTUMN-2025'
      WHERE m.school_urn = s.urn AND m.effective_from <= DATE '2025-10-01' AND (m.effective_to IS NULL OR m.effective_to > DATE '2025-10-01')) AS community,
    (SELECT json_build_object('total', sum(f.sen_amount), 'factors', json_agg(json_build_object('factor', f.factor, 'senAmount', f.sen_amount) ORDER BY f.factor))
       FROM notional_sen_factor f WHERE f.school_urn = s.urn AND f.financial_year_code = '2025-26' HAVING count(*) > 0) AS "notionalSenBudget",
    (SELECT json_build_object('baseline', t.baseline, 'protectedAmount', t.protected_amount, 'communityShare', t.community_share,
            'total', t.protected_amount + t.community_share + t.banded_top_up)
       FROM school_term_funding t WHERE t.school_urn = s.urn AND t.term_code = 'AUTUMN-2025') AS funding,
    (SELECT coalesce(json_agg(json_build_object('kind', k.kind, 'count', k.n, 'suppressed', false) ORDER BY k.kind), '[]'::json)
       FROM (SELECT kind, sum(count)::int AS n FROM caseload_count WHERE school_urn = s.urn AND period_code = '2025/26-T2' GROUP BY kind) k) AS caseloads
  FROM school s JOIN district d ON d.ons_code = s.district_code JOIN area a ON a.code = d.area_code
  ORDER BY s.urn LIMIT $1
) x`;

export async function startFloor(dbUrl: string, poolSize: number): Promise<{ url: string; stop(): Promise<void> }> {
  const pool = new Pool({ connectionString: dbUrl, max: poolSize });
  const server = http.createServer(async (req, res) => {
    try {
      const n = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('n') ?? 600);
      const { rows } = await pool.query(FLOOR_SQL, [n]);
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
