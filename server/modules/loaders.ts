import DataLoader from 'dataloader';
import { PeekableLoader } from './peekable';
import type { EntityManager } from 'typeorm';
import type { Area, District } from './geography/geography.entity';
import type { Community } from './community/community.entity';
import type { School } from './school/school.entity';
import type { CommunityPot, NotionalSenFactor, SchoolTermFunding } from './funding/funding.entity';
import type { AuditLog } from './audit/audit.entity';
import { AUDIT_COLUMNS } from './audit/audit.service';
import type { SafetyValveKpi } from './safety-valve/safety-valve.entity';
import { COMMUNITY_COLUMNS, MEMBERSHIP_ON, SCHOOL_COLUMNS } from './school/school.sql';
import { loadPeriodCatalogue } from './period/period.service';
import { LINK_ORDER, linksOfSql, type SchoolLink } from './school/school-link.entity';
import { COMMUNITY_POT_COLUMNS, SCHOOL_FUNDING_COLUMNS } from './school/funding.fields';
import { cachedReference } from './period/reference-data';

export interface CaseloadAtSchool {
  kind: string;
  count: number;
}

/**
 * A lazily loaded per-request value, returned directly once it has arrived (and at once when `load` has it at
 * hand, as the reference-data cache does). Fixed for the request: a change heard mid-request shows on the next.
 */
function once<T>(load: () => T | Promise<T>): () => T | Promise<T> {
  let promise: Promise<T> | null = null;
  let value: { v: T } | null = null;
  return () => {
    if (value) return value.v;
    if (promise) return promise;
    const got = load();
    if (!(got instanceof Promise)) {
      value = { v: got };
      return got;
    }
    return (promise = got.then((v) => ((value = { v }), v)));
  };
}

/** key "a|b" → [a, b] */
const split = (k: string) => k.split('|') as [string, string];

/**
 * Per-request loaders. Every batch is one SQL statement keyed by (id, parameter) pairs passed as arrays
 * and joined with unnest(), so a nested query costs the same number of statements for 20 rows or 600.
 */
export function createLoaders(db: EntityManager) {
  // Reference data comes from the per-process cache (period/reference-data.ts): no statement when it is warm.
  const periods = once(() => cachedReference(db, 'periods', () => loadPeriodCatalogue(db)));
  const districts = once(() =>
    cachedReference(db, 'districts', () =>
      db
        .query(`SELECT ons_code AS "onsCode", name, area_code AS "areaCode" FROM district ORDER BY name`)
        .then((rows: District[]) => new Map(rows.map((r) => [r.onsCode, r]))),
    ),
  );
  const areas = once(() =>
    cachedReference(db, 'areas', () =>
      db
        .query(`SELECT code, name FROM area ORDER BY code`)
        .then((rows: Area[]) => new Map(rows.map((r) => [r.code, r]))),
    ),
  );

  return {
    /** Each returns the value itself once loaded (no promise), else a promise of it. */
    periods,
    districts,
    areas,

    schoolByUrn: new DataLoader<number, School | null>(async (urns) => {
      const rows: School[] = await db.query(`SELECT ${SCHOOL_COLUMNS} FROM school s WHERE s.urn = ANY($1::int[])`, [
        urns,
      ]);
      const byUrn = new Map(rows.map((r) => [r.urn, r]));
      return urns.map((u) => byUrn.get(u) ?? null);
    }),

    /** A school's predecessors and successors from the GIAS links, in date order. */
    schoolLinks: new DataLoader<number, { predecessors: SchoolLink[]; successors: SchoolLink[] }>(async (urns) => {
      const rows: (SchoolLink & { of: number; dir: 'predecessors' | 'successors' })[] = await db.query(
        `SELECT x.urn AS of, k.dir, k.urn, k.link_type AS "linkType", to_char(k.established_date, 'YYYY-MM-DD') AS "establishedDate"
           FROM unnest($1::int[]) x(urn),
           LATERAL (SELECT 'predecessors' AS dir, p.* FROM (${linksOfSql('x.urn', 'predecessors')}) p
                    UNION ALL SELECT 'successors', s.* FROM (${linksOfSql('x.urn', 'successors')}) s) k
          ORDER BY x.urn, k.dir, ${LINK_ORDER('k')}`,
        [urns],
      );
      const out = new Map(urns.map((u) => [u, { predecessors: [] as SchoolLink[], successors: [] as SchoolLink[] }]));
      for (const { of, dir, ...link } of rows) out.get(of)![dir].push(link);
      return urns.map((u) => out.get(u)!);
    }),

    communityByCode: new DataLoader<string, Community | null>(async (codes) => {
      const rows: Community[] = await db.query(
        `SELECT ${COMMUNITY_COLUMNS} FROM community c WHERE c.code = ANY($1::text[])`,
        [codes],
      );
      const byCode = new Map(rows.map((r) => [r.code, r]));
      return codes.map((c) => byCode.get(c) ?? null);
    }),

    /** key: `${urn}|${asOf}`. MEMBERSHIP_ON admits one membership per school and date. */
    communityOfSchool: new PeekableLoader<string, Community | null>(async (keys) => {
      const pairs = keys.map(split);
      const rows: (Community & { key: string })[] = await db.query(
        `SELECT x.urn || '|' || x.as_of AS key, ${COMMUNITY_COLUMNS}
           FROM unnest($1::int[], $2::date[]) AS x(urn, as_of)
           JOIN community_membership m ON m.school_urn = x.urn AND ${MEMBERSHIP_ON('m', 'x.as_of')}
           JOIN community c ON c.code = m.community_code`,
        [pairs.map((p) => Number(p[0])), pairs.map((p) => p[1])],
      );
      const byKey = new Map(rows.map(({ key, ...c }) => [key, c as Community]));
      return keys.map((k) => byKey.get(k) ?? null);
    }),

    /** key: `${communityCode}|${asOf}` */
    schoolsOfCommunity: new DataLoader<string, School[]>(async (keys) => {
      const pairs = keys.map(split);
      const rows: (School & { key: string })[] = await db.query(
        `SELECT x.code || '|' || x.as_of AS key, ${SCHOOL_COLUMNS}
           FROM unnest($1::text[], $2::date[]) AS x(code, as_of)
           JOIN community_membership m ON m.community_code = x.code AND ${MEMBERSHIP_ON('m', 'x.as_of')}
           JOIN school s ON s.urn = m.school_urn
          ORDER BY s.name, s.urn`,
        [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
      );
      const byKey = new Map<string, School[]>(keys.map((k) => [k, []]));
      for (const { key, ...s } of rows) byKey.get(key)!.push(s as School);
      return keys.map((k) => byKey.get(k)!);
    }),

    /** key: `${urn}|${financialYear}` */
    notionalSenFactors: new PeekableLoader<string, NotionalSenFactor[]>(async (keys) => {
      const pairs = keys.map(split);
      const rows: (NotionalSenFactor & { key: string })[] = await db.query(
        `SELECT f.school_urn || '|' || f.financial_year_code AS key, f.school_urn AS "schoolUrn",
                f.financial_year_code AS "financialYearCode", f.factor, f.formula_amount AS "formulaAmount",
                f.sen_percentage AS "senPercentage", f.sen_amount AS "senAmount"
           FROM unnest($1::int[], $2::text[]) AS x(urn, fy)
           JOIN notional_sen_factor f ON f.school_urn = x.urn AND f.financial_year_code = x.fy
          ORDER BY f.factor`,
        [pairs.map((p) => Number(p[0])), pairs.map((p) => p[1])],
      );
      const byKey = new Map<string, NotionalSenFactor[]>(keys.map((k) => [k, []]));
      for (const { key, ...f } of rows) byKey.get(key)!.push(f as NotionalSenFactor);
      return keys.map((k) => byKey.get(k)!);
    }),

    /** key: `${urn}|${term}` */
    schoolFunding: new PeekableLoader<string, SchoolTermFunding | null>(async (keys) => {
      const pairs = keys.map(split);
      const rows: (SchoolTermFunding & { key: string })[] = await db.query(
        `SELECT f.school_urn || '|' || f.term_code AS key, ${SCHOOL_FUNDING_COLUMNS}
           FROM unnest($1::int[], $2::text[]) AS x(urn, term)
           JOIN school_term_funding f ON f.school_urn = x.urn AND f.term_code = x.term`,
        [pairs.map((p) => Number(p[0])), pairs.map((p) => p[1])],
      );
      const byKey = new Map(rows.map(({ key, ...f }) => [key, f as SchoolTermFunding]));
      return keys.map((k) => byKey.get(k) ?? null);
    }),

    /** key: `${communityCode}|${term}` */
    communityPot: new PeekableLoader<string, CommunityPot | null>(async (keys) => {
      const pairs = keys.map(split);
      const rows: (CommunityPot & { key: string })[] = await db.query(
        `SELECT p.community_code || '|' || p.term_code AS key, ${COMMUNITY_POT_COLUMNS}
           FROM unnest($1::text[], $2::text[]) AS x(code, term)
           JOIN community_pot p ON p.community_code = x.code AND p.term_code = x.term`,
        [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
      );
      const byKey = new Map(rows.map(({ key, ...p }) => [key, p as CommunityPot]));
      return keys.map((k) => byKey.get(k) ?? null);
    }),

    /** key: `${urn}|${schoolTerm}`: the school's caseload counts by kind for one school term. */
    caseloadsAtSchool: new PeekableLoader<string, CaseloadAtSchool[]>(async (keys) => {
      const pairs = keys.map(split);
      const rows: (CaseloadAtSchool & { key: string })[] = await db.query(
        `SELECT x.urn || '|' || x.period AS key, c.kind, sum(c.count)::int AS count
           FROM unnest($1::int[], $2::text[]) AS x(urn, period)
           JOIN caseload_count c ON c.school_urn = x.urn AND c.period_code = x.period
          GROUP BY x.urn, x.period, c.kind
          ORDER BY c.kind`,
        [pairs.map((p) => Number(p[0])), pairs.map((p) => p[1])],
      );
      const byKey = new Map<string, CaseloadAtSchool[]>(keys.map((k) => [k, []]));
      for (const { key, ...c } of rows) byKey.get(key)!.push(c);
      return keys.map((k) => byKey.get(k)!);
    }),

    /** key: `${entity}|${entityId}` */
    auditByEntity: new DataLoader<string, AuditLog[]>(async (keys) => {
      const pairs = keys.map(split);
      const rows: (AuditLog & { key: string })[] = await db.query(
        `SELECT l.entity || '|' || l.entity_id AS key, ${AUDIT_COLUMNS}
           FROM audit_log l JOIN unnest($1::text[], $2::text[]) AS x(entity, id) ON l.entity = x.entity AND l.entity_id = x.id
          ORDER BY l.id`,
        [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
      );
      const byKey = new Map<string, AuditLog[]>(keys.map((k) => [k, []]));
      for (const { key, ...l } of rows) byKey.get(key)!.push(l as AuditLog);
      return keys.map((k) => byKey.get(k)!);
    }),

    /** key: `${communityCode}|${term}`: approved and proposed totals of allocations. */
    allocationTotals: new PeekableLoader<string, { approved: string; proposed: string }>(async (keys) => {
      const pairs = keys.map(split);
      const rows: { key: string; approved: string; proposed: string }[] = await db.query(
        `SELECT x.code || '|' || x.term AS key,
                coalesce(sum(a.amount) FILTER (WHERE a.status = 'APPROVED'), 0)::text AS approved,
                coalesce(sum(a.amount) FILTER (WHERE a.status = 'PROPOSED'), 0)::text AS proposed
           FROM unnest($1::text[], $2::text[]) AS x(code, term)
           LEFT JOIN allocation a ON a.community_code = x.code AND a.term_code = x.term
          GROUP BY x.code, x.term`,
        [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
      );
      const byKey = new Map(rows.map((r) => [r.key, r]));
      return keys.map((k) => byKey.get(k) ?? { approved: '0', proposed: '0' });
    }),

    safetyValveKpis: new DataLoader<string, SafetyValveKpi[]>(async (periods) => {
      const rows: SafetyValveKpi[] = await db.query(
        `SELECT period_code AS "periodCode", kpi_code AS "kpiCode", name, unit, plan, actual
           FROM safety_valve_kpi WHERE period_code = ANY($1::text[]) ORDER BY kpi_code`,
        [periods],
      );
      return periods.map((p) => rows.filter((r) => r.periodCode === p));
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
