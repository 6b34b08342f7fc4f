import type { EntityManager } from 'typeorm';
import { BadInput } from '../../errors';
import { todayIso } from '../period/period.service';
import { MEMBERSHIP_ON, SCHOOL_COLUMNS } from './school.sql';
import type { School } from './school.entity';
import { OrderDirection, SchoolFilter, SchoolOrder, SchoolOrderField } from './school.inputs';

export const MAX_PAGE_SIZE = 1000;

const ORDER_COLUMNS: Record<SchoolOrderField, { sql: string; cast: string; key: (s: School) => unknown }> = {
  URN: { sql: 's.urn', cast: 'int', key: (s) => s.urn },
  NAME: { sql: 's.name', cast: 'text', key: (s) => s.name },
  PUPILS_ON_ROLL: { sql: 'coalesce(s.pupils_on_roll, -1)', cast: 'int', key: (s) => s.pupilsOnRoll ?? -1 },
};

export function encodeCursor(order: SchoolOrder, s: School): string {
  return Buffer.from(JSON.stringify([order.field, ORDER_COLUMNS[order.field].key(s), s.urn])).toString('base64url');
}

function decodeCursor(order: SchoolOrder, cursor: string): [unknown, number] {
  try {
    const [field, value, urn] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (field === order.field && Number.isInteger(urn)) return [value, urn];
  } catch {
    /* reported below */
  }
  throw new BadInput(
    'The `after` cursor is not valid for this ordering: pass an endCursor from a previous page with the same orderBy.',
    'after',
  );
}

function where(filter: SchoolFilter | null | undefined, params: unknown[]): string[] {
  const clauses: string[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (!filter) return clauses;
  if (filter.districtCode) clauses.push(`s.district_code = ${p(filter.districtCode)}`);
  if (filter.areaCode)
    clauses.push(`s.district_code IN (SELECT ons_code FROM district WHERE area_code = ${p(filter.areaCode)})`);
  if (filter.phase?.length) clauses.push(`s.phase = ANY(${p(filter.phase)}::text[])`);
  if (filter.type?.length) clauses.push(`s.type = ANY(${p(filter.type)}::text[])`);
  if (filter.status?.length) clauses.push(`s.status = ANY(${p(filter.status)}::text[])`);
  if (filter.urns) {
    if (filter.urns.length > MAX_PAGE_SIZE)
      throw new BadInput(`filter.urns takes at most ${MAX_PAGE_SIZE} URNs.`, 'filter.urns');
    clauses.push(`s.urn = ANY(${p(filter.urns)}::int[])`);
  }
  if (filter.nameContains?.trim()) {
    const escaped = filter.nameContains.trim().replace(/[\\%_]/g, (c) => '\\' + c);
    clauses.push(`s.name ILIKE ${p('%' + escaped + '%')}`);
  }
  if (filter.communityCode) {
    const asOf = p(filter.asOf ?? todayIso());
    clauses.push(
      `EXISTS (SELECT 1 FROM community_membership m WHERE m.school_urn = s.urn AND m.community_code = ${p(filter.communityCode)} AND ${MEMBERSHIP_ON('m', asOf + '::date')})`,
    );
  }
  return clauses;
}

export interface SchoolPage {
  rows: School[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  order: SchoolOrder;
  filter: SchoolFilter | null | undefined;
}

export interface SchoolPageArgs {
  first: number;
  after?: string | null;
  filter?: SchoolFilter | null;
  orderBy?: SchoolOrder | null;
}

/**
 * The SELECT of one page of schools (first + 1 rows, to know whether another page follows), with its
 * parameters appended to `params`. Throws BadInput for a bad `first`, cursor or filter. `columns` is the
 * select list over the school table aliased `s`; `orderBy` is the ORDER BY clause, for callers that wrap it.
 */
export function schoolPageSql(
  args: SchoolPageArgs,
  params: unknown[],
  columns: string,
): { sql: string; order: SchoolOrder; orderBy: string } {
  if (!Number.isInteger(args.first) || args.first < 0 || args.first > MAX_PAGE_SIZE) {
    throw new BadInput(
      `\`first\` must be from 0 to ${MAX_PAGE_SIZE} (a whole county fits in one page); got ${args.first}.`,
      'first',
    );
  }
  const order = args.orderBy ?? { field: SchoolOrderField.URN, direction: OrderDirection.ASC };
  const col = ORDER_COLUMNS[order.field];
  const clauses = where(args.filter, params);
  const cmp = order.direction === OrderDirection.DESC ? '<' : '>';
  if (args.after) {
    const [value, urn] = decodeCursor(order, args.after);
    params.push(value, urn);
    clauses.push(`(${col.sql}, s.urn) ${cmp} ($${params.length - 1}::${col.cast}, $${params.length}::int)`);
  }
  params.push(args.first + 1);
  const dir = order.direction === OrderDirection.DESC ? 'DESC' : 'ASC';
  const orderBy = `ORDER BY ${col.sql} ${dir}, s.urn ${dir}`;
  return {
    sql: `SELECT ${columns} FROM school s ${clauses.length ? 'WHERE ' + clauses.join(' AND ') : ''} ${orderBy} LIMIT $${params.length}`,
    order,
    orderBy,
  };
}

export async function findSchools(db: EntityManager, args: SchoolPageArgs): Promise<SchoolPage> {
  const params: unknown[] = [];
  const { sql, order } = schoolPageSql(args, params, SCHOOL_COLUMNS);
  const rows: School[] = await db.query(sql, params);
  const hasNextPage = rows.length > args.first;
  return {
    rows: rows.slice(0, args.first),
    hasNextPage,
    hasPreviousPage: Boolean(args.after),
    order,
    filter: args.filter,
  };
}

/** count(*) of the schools matching a filter, as SQL, with its parameters appended to `params`. */
export function schoolCountSql(filter: SchoolFilter | null | undefined, params: unknown[]): string {
  const clauses = where(filter, params);
  return `SELECT count(*)::int AS n FROM school s ${clauses.length ? 'WHERE ' + clauses.join(' AND ') : ''}`;
}

export async function countSchools(db: EntityManager, filter: SchoolFilter | null | undefined): Promise<number> {
  const params: unknown[] = [];
  const [row] = await db.query(schoolCountSql(filter, params), params);
  return row.n;
}
