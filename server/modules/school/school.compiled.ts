import {
  ExecutionResult,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLError,
  GraphQLField,
  GraphQLObjectType,
  GraphQLSchema,
  Kind,
  OperationDefinitionNode,
  ValueNode,
} from 'graphql';
import { collectFields, collectSubfields } from 'graphql/execution/collectFields';
import { getArgumentValues } from 'graphql/execution/values';
import type { Context } from '../../context';
import { hasSkipOrInclude } from '../../common/conditions';
import { HubError } from '../../errors';
import { mayRun } from '../../auth/policy';
import { prepared } from '../../db/prepared';
import { CHILD_COUNT_KINDS } from '../caseload/caseload.entity';
import { hiddenCellSql, patternsReady, sqlScope } from '../caseload/disclosure.store';
import { hiddenBandedTopUps } from '../caseload/disclosive-money';
import { schoolTermTotalSql } from '../funding/engine';
import type { PeriodCatalogue } from '../period/period.service';
import { todayIso } from '../period/period.service';
import { COMMUNITY_CATALOGUE, MEMBERSHIP_ON } from './school.sql';
import { encodeCursor, MAX_PAGE_SIZE, schoolCountSql, SchoolPageArgs, schoolPageSql } from './school.service';
import type { School } from './school.entity';
import { LINK_ORDER, linksOfSql } from './school-link.entity';
import { CatalogueField, FieldKind, valueSql, ViewField } from './catalogue';
import { SCHOOL_CATALOGUE } from './school.fields';
import { COMMUNITY_POT_CATALOGUE, SCHOOL_FUNDING_CATALOGUE } from './funding.fields';

/**
 * The hot list as one SQL statement. A query whose root fields are all `schools` connections, and whose
 * selections under them are all in the tables below, is compiled into a single statement per root field
 * that builds each school's JSON in the database (as PostGraphile and Hasura do), instead of resolving
 * 600 schools x 40 fields through resolvers and loaders. Anything else (a field not in the tables, an
 * argument the resolvers would reject, more fields than json_build_object takes) returns null from
 * planCompiledRead and the query runs through the resolvers, which also report the errors; the answers
 * are the same either way (tests/integration/compiled-reads.test.ts compares them field by field).
 */

/** Thrown while compiling when the resolvers must answer instead. */
class NotCompiled extends Error {}

/**
 * Thrown while compiling when a field needs something still loading (the period catalogue, a suppression
 * pattern): plan again once it is in.
 */
class NeedsPeriods extends Error {
  constructor(readonly loading: Promise<unknown>) {
    super('period catalogue or suppression pattern not loaded yet');
  }
}

/** The arguments of a field that takes none. */
const NO_ARGS: Record<string, unknown> = Object.freeze({});

/** True when a value literal uses no variable (its value is the document's own). */
function isConstValue(v: ValueNode): boolean {
  if (v.kind === Kind.VARIABLE) return false;
  if (v.kind === Kind.LIST) return v.values.every(isConstValue);
  if (v.kind === Kind.OBJECT) return v.fields.every((f) => isConstValue(f.value));
  return true;
}

/**
 * A field's argument values. When every argument is a literal they are the document's own, so they are worked out
 * once per field node (the AST of a document Apollo keeps) and shared, read-only, by every request that sends it.
 */
const constArgs = new WeakMap<FieldNode, Record<string, unknown>>();
function argsOf(def: GraphQLField<unknown, unknown>, node: FieldNode, variables: Record<string, unknown>) {
  if (def.args.length === 0) return NO_ARGS;
  const known = constArgs.get(node);
  if (known) return known;
  const args = getArgumentValues(def, node, variables);
  if ((node.arguments ?? []).every((a) => isConstValue(a.value))) constArgs.set(node, Object.freeze(args));
  return args;
}

/**
 * The fields selected under one field node. Without @skip or @include in the operation they do not depend on the
 * variables, so they are collected once per node and type and shared, read-only, by every request.
 */
const subfieldsOf = new WeakMap<FieldNode, Map<string, Map<string, readonly FieldNode[]>>>();
function subfields(sc: Scope, type: GraphQLObjectType, nodes: readonly FieldNode[]) {
  if (sc.conditional || nodes.length !== 1) return collectSubfields(sc.schema, sc.fragments, sc.variables, type, nodes);
  let byType = subfieldsOf.get(nodes[0]);
  if (!byType) subfieldsOf.set(nodes[0], (byType = new Map()));
  let fields = byType.get(type.name);
  if (!fields) byType.set(type.name, (fields = collectSubfields(sc.schema, sc.fragments, sc.variables, type, nodes)));
  return fields;
}

/** True when the operation or its fragments use @skip or @include (the selections then depend on the variables). */
const conditionalOps = new WeakMap<OperationDefinitionNode, boolean>();
function usesConditions(operation: OperationDefinitionNode, fragments: Record<string, FragmentDefinitionNode>) {
  let known = conditionalOps.get(operation);
  if (known === undefined) {
    known = hasSkipOrInclude(operation) || Object.values(fragments).some(hasSkipOrInclude);
    conditionalOps.set(operation, known);
  }
  return known;
}

/** json_build_object takes at most 100 arguments: 50 keys and values. */
const MAX_KEYS = 50;

interface Scope {
  schema: GraphQLSchema;
  fragments: Record<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  params: unknown[];
  cat: () => PeriodCatalogue;
  ctx: Context;
  aliases: number;
  /** The operation uses @skip or @include: selections depend on the variables, so none is shared. */
  conditional: boolean;
  /**
   * How this request's parameters are worked out, in order, so that another request of the same operation gets its
   * own from the same statement (see `planCache`); null once something put a parameter in without one.
   */
  recipe: Recipe | null;
}

/** A plan's parameters as each request works them out: each reads only its own request's variables and context. */
interface Recipe {
  /** Checks the resolvers would make of arguments the SQL does not use (a value graphql-js rejects). */
  checks: ((s: Scope) => unknown)[];
  params: ((s: Scope) => unknown)[];
}

/**
 * A bind parameter with its type, from this request's variables and context. `get` may throw NotCompiled (the
 * resolvers answer), a GraphQLError (they report it) or NeedsPeriods (planned again once loaded), at planning or
 * when another request of the operation replays it.
 */
function param(sc: Scope, get: (s: Scope) => unknown, type: string): string {
  sc.params.push(get(sc));
  sc.recipe?.params.push(get);
  return `$${sc.params.length}::${type}`;
}

/** A fresh table alias. */
function alias(sc: Scope, prefix: string): string {
  return `${prefix}${++sc.aliases}`;
}

/** A GraphQL name (already checked by the parser) as a SQL string literal. */
function lit(name: string): string {
  return `'${name.replace(/'/g, "''")}'`;
}

/** What a field compiler gets: the SQL names of its parent row, the field's arguments and its nodes. */
type FieldSql = (sc: Scope, row: Row, args: Args, nodes: readonly FieldNode[]) => string;

/** The SQL names a field's parent row gives its fields (`t` its table alias), and its funding term's code. */
interface Row {
  t: string;
  urn?: string;
  fy?: string;
  term?: string;
  termCode?: (s: Scope) => string;
}

/** A field's argument values in a request (its variables). */
type Args = (s: Scope) => Record<string, any>;

/** A scalar column as its GraphQL scalar serialises it (catalogue.ts valueSql). */
const scalar =
  (kind: FieldKind, name: string): FieldSql =>
  (_sc, row) =>
    valueSql(kind, row.t, name);
const column = (name: string) => scalar('text', name);
const money = (name: string) => scalar('money', name);
const decimal = (name: string) => scalar('decimal', name);
const date = (name: string) => scalar('date', name);

/** Every field of a catalogue (the entity's scalar columns) as compiled SQL. */
function catalogueSql(fields: readonly CatalogueField[]): Record<string, FieldSql> {
  return Object.fromEntries(fields.map((f) => [f.name, scalar(f.kind, f.column)]));
}

/**
 * A view's fields as compiled SQL (school/funding.fields.ts): its stored fields from their columns, and by hand
 * exactly the fields its catalogue says a rule computes (a rule missing here, or given for a stored field, fails at load).
 */
function viewSql(
  type: string,
  fields: readonly ViewField[],
  computed: Record<string, FieldSql>,
): Record<string, FieldSql> {
  const rules = fields.filter((f) => f.column === null).map((f) => f.name);
  const given = Object.keys(computed);
  if (rules.length !== given.length || rules.some((r) => !given.includes(r)))
    throw new Error(`${type}: the compiled SQL computes [${given.join(', ')}], its catalogue [${rules.join(', ')}].`);
  const stored = fields.filter((f) => f.column !== null).map((f) => [f.name, scalar(f.kind, f.column!)]);
  return { ...Object.fromEntries(stored), ...computed };
}

/** The object a field returns, built from the selection under it. */
function objectSql(sc: Scope, typeName: string, row: Row, nodes: readonly FieldNode[]): string {
  const type = sc.schema.getType(typeName) as GraphQLObjectType;
  return buildObject(sc, type, row, subfields(sc, type, nodes));
}

function buildObject(sc: Scope, type: GraphQLObjectType, row: Row, fields: Map<string, readonly FieldNode[]>): string {
  if (fields.size > MAX_KEYS) throw new NotCompiled(`${type.name} has more than ${MAX_KEYS} fields`);
  const parts: string[] = [];
  for (const [key, nodes] of fields) {
    const name = nodes[0].name.value;
    if (name === '__typename') {
      parts.push(lit(key), lit(type.name));
      continue;
    }
    const compile = FIELDS[type.name]?.[name];
    if (!compile) throw new NotCompiled(`${type.name}.${name}`);
    const def = type.getFields()[name];
    // Most fields take no arguments, and most others only literals: graphql-js's coercion runs once, not per request.
    const args: Args = (s) => argsOf(def, nodes[0], s.variables);
    if (def.args.length > 0) {
      args(sc);
      sc.recipe?.checks.push(args);
    }
    parts.push(lit(key), compile(sc, row, args, nodes));
  }
  return `json_build_object(${parts.join(', ')})`;
}

function districtSql(sc: Scope, code: string, nodes: readonly FieldNode[]): string {
  const d = alias(sc, 'd');
  return `(SELECT ${objectSql(sc, 'District', { t: d }, nodes)} FROM district ${d} WHERE ${d}.ons_code = ${code})`;
}

function areaSql(sc: Scope, code: string, nodes: readonly FieldNode[]): string {
  const a = alias(sc, 'a');
  return `(SELECT ${objectSql(sc, 'Area', { t: a }, nodes)} FROM area ${a} WHERE ${a}.code = ${code})`;
}

/** The codes the resolvers accept; any other value makes them raise BAD_USER_INPUT, so they answer. */
function known(map: Map<string, unknown>, code: unknown): string {
  if (typeof code !== 'string' || !map.has(code)) throw new NotCompiled(`unknown period ${String(code)}`);
  return code;
}

/**
 * Child counts the viewer may not see at this school, as a SQL boolean over `k` (kind, n): the stored
 * suppression pattern of the viewer's scope (disclosure.store.ts), which this request has made current.
 */
function hiddenSql(sc: Scope, urn: string, period: (s: Scope) => string, k: string): string {
  // Whether the viewer's counts are suppressed at all is part of the statement (planCache keys on it).
  if (sqlScope(sc.ctx.viewer) === null) return 'false';
  return hiddenCellSql({
    // Each request makes the pattern of its own viewer's scope current before it reads it.
    scope: param(
      sc,
      (s) => {
        const p = period(s);
        let ready = patternsLoaded.get(s.ctx);
        if (!ready) patternsLoaded.set(s.ctx, (ready = new Set()));
        if (!ready.has(p)) {
          const set = ready;
          throw new NeedsPeriods(patternsReady(s.ctx, p).then(() => set.add(p)));
        }
        return sqlScope(s.ctx.viewer);
      },
      'text',
    ),
    urn,
    period: param(sc, period, 'text'),
    k,
    controlledKinds: param(sc, () => [...CHILD_COUNT_KINDS], 'text[]'),
  });
}
/** Whether the school's banded top-up is hidden from the viewer (caseload/disclosive-money.ts), as SQL over the funding row. */
function bandedHidden(sc: Scope, row: Row): string {
  const termCode = row.termCode!;
  // The same statement whether or not any is hidden (an empty list then), so requests of other viewers share it.
  const hidden = param(
    sc,
    (s) => {
      const set = hiddenBandedTopUps(s.ctx, termCode(s));
      if (set instanceof Promise) throw new NeedsPeriods(set);
      return [...set];
    },
    'int[]',
  );
  return `(${row.t}.school_urn = ANY(${hidden}))`;
}

/** Periods whose patterns a request has made current. */
const patternsLoaded = new WeakMap<object, Set<string>>();

/** A school's membership on a date (MEMBERSHIP_ON: at most one row): `select` over the membership `m` joined to its community `c`. */
function membershipSql(sc: Scope, urn: string, on: string, select: string | ((c: string) => string)): string {
  const m = alias(sc, 'm');
  const c = alias(sc, 'c');
  const what = typeof select === 'string' ? `${m}.${select}` : select(c);
  return `SELECT ${what} FROM community_membership ${m} JOIN community ${c} ON ${c}.code = ${m}.community_code
           WHERE ${m}.school_urn = ${urn} AND ${MEMBERSHIP_ON(m, on)}`;
}

const FIELDS: Record<string, Record<string, FieldSql>> = {
  School: {
    ...catalogueSql(SCHOOL_CATALOGUE),
    district: (sc, row, _args, nodes) => districtSql(sc, `${row.t}.district_code`, nodes),
    community: (sc, row, args, nodes) =>
      `(${membershipSql(
        sc,
        `${row.t}.urn`,
        param(sc, (s) => args(s).asOf ?? todayIso(), 'date'),
        (c) => objectSql(sc, 'Community', { t: c }, nodes),
      )})`,
    notionalSenBudget: (sc, row, args, nodes) => {
      const fy = param(sc, (s) => known(s.cat().financialYearByCode, args(s).financialYear), 'text');
      const f = alias(sc, 'f');
      // One aggregate row per school; none (so null) when the school has no factor lines.
      return `(SELECT ${objectSql(sc, 'NotionalSenBudget', { t: f, urn: `${row.t}.urn`, fy }, nodes)}
                 FROM notional_sen_factor ${f} WHERE ${f}.school_urn = ${row.t}.urn AND ${f}.financial_year_code = ${fy} HAVING count(*) > 0)`;
    },
    funding: (sc, row, args, nodes) => {
      const termCode = (s: Scope) => known(s.cat().fundingTermByCode, args(s).term);
      const term = param(sc, termCode, 'text');
      const t = alias(sc, 'f');
      return `(SELECT ${objectSql(sc, 'SchoolFunding', { t, term, termCode }, nodes)} FROM school_term_funding ${t} WHERE ${t}.school_urn = ${row.t}.urn AND ${t}.term_code = ${term})`;
    },
    predecessors: (sc, row, _args, nodes) => linksSql(sc, row, 'predecessors', nodes),
    successors: (sc, row, _args, nodes) => linksSql(sc, row, 'successors', nodes),
    caseloads: (sc, row, args, nodes) => {
      const code = (s: Scope) => s.cat().schoolTermByCode.get(known(s.cat().schoolTermByCode, args(s).period))!.code;
      const period = param(sc, code, 'text');
      const k = alias(sc, 'k');
      const q = alias(sc, 'q');
      const hidden = hiddenSql(sc, `${row.t}.urn`, code, q);
      return `(SELECT coalesce(json_agg(${objectSql(sc, 'CaseloadValue', { t: k }, nodes)} ORDER BY ${k}.kind), '[]'::json)
                 FROM (SELECT ${q}.kind, ${q}.n, ${hidden} AS hidden
                         FROM (SELECT kind, sum(count)::int AS n FROM caseload_count WHERE school_urn = ${row.t}.urn AND period_code = ${period} GROUP BY kind) ${q}) ${k})`;
    },
  },
  SchoolLink: {
    urn: column('urn'),
    linkType: column('link_type'),
    establishedDate: date('established_date'),
    school: (sc, row, _args, nodes) => {
      const s = alias(sc, 's');
      return `(SELECT ${objectSql(sc, 'School', { t: s }, nodes)} FROM school ${s} WHERE ${s}.urn = ${row.t}.urn)`;
    },
  },
  District: {
    onsCode: column('ons_code'),
    name: column('name'),
    areaCode: column('area_code'),
    area: (sc, row, _args, nodes) => areaSql(sc, `${row.t}.area_code`, nodes),
  },
  Area: {
    code: column('code'),
    name: column('name'),
  },
  Community: {
    ...catalogueSql(COMMUNITY_CATALOGUE),
    primaryDistrict: (sc, row, _args, nodes) => districtSql(sc, `${row.t}.primary_district_code`, nodes),
    area: (sc, row, _args, nodes) => areaSql(sc, `${row.t}.area_code`, nodes),
    memberCount: (sc, row, args) => {
      const m = alias(sc, 'm');
      return `(SELECT count(*)::int FROM community_membership ${m} WHERE ${m}.community_code = ${row.t}.code AND ${MEMBERSHIP_ON(
        m,
        param(sc, (s) => args(s).asOf ?? todayIso(), 'date'),
      )})`;
    },
    pot: (sc, row, args, nodes) => {
      const term = param(sc, (s) => known(s.cat().fundingTermByCode, args(s).term), 'text');
      const p = alias(sc, 'p');
      return `(SELECT ${objectSql(sc, 'CommunityPotView', { t: p, term }, nodes)} FROM community_pot ${p} WHERE ${p}.community_code = ${row.t}.code AND ${p}.term_code = ${term})`;
    },
  },
  CommunityPotView: viewSql('CommunityPotView', COMMUNITY_POT_CATALOGUE, {
    approved: (sc, row) => `round(${allocated(sc, row, 'APPROVED')}, 2)::text`,
    proposed: (sc, row) => `round(${allocated(sc, row, 'PROPOSED')}, 2)::text`,
    remaining: (sc, row) => `(${row.t}.amount - ${allocated(sc, row, 'APPROVED')})::text`,
  }),
  NotionalSenBudget: {
    schoolUrn: (_sc, row) => row.urn!,
    financialYear: (_sc, row) => row.fy!,
    total: (_sc, row) => `sum(${row.t}.sen_amount)::text`,
    factors: (sc, row, _args, nodes) =>
      `json_agg(${objectSql(sc, 'NotionalSenFactor', row, nodes)} ORDER BY ${row.t}.factor)`,
  },
  NotionalSenFactor: {
    schoolUrn: column('school_urn'),
    financialYearCode: column('financial_year_code'),
    factor: column('factor'),
    formulaAmount: money('formula_amount'),
    senPercentage: decimal('sen_percentage'),
    senAmount: money('sen_amount'),
  },
  SchoolFunding: viewSql('SchoolFunding', SCHOOL_FUNDING_CATALOGUE, {
    bandedTopUp: (sc, row) => `CASE WHEN ${bandedHidden(sc, row)} THEN NULL ELSE (${row.t}.banded_top_up)::text END`,
    total: (sc, row) => `CASE WHEN ${bandedHidden(sc, row)} THEN NULL ELSE ${schoolTermTotalSql(row.t)}::text END`,
    bandedTopUpSuppressed: (sc, row) => bandedHidden(sc, row),
  }),
  CaseloadValue: {
    kind: column('kind'),
    count: (_sc, row) => `CASE WHEN ${row.t}.hidden THEN NULL ELSE ${row.t}.n END`,
    suppressed: (_sc, row) => `${row.t}.hidden`,
  },
};

/** A school's predecessors or successors (school-link.entity.ts has the one rule), as a JSON array in date order. */
function linksSql(sc: Scope, row: Row, dir: 'predecessors' | 'successors', nodes: readonly FieldNode[]): string {
  const k = alias(sc, 'k');
  return `(SELECT coalesce(json_agg(${objectSql(sc, 'SchoolLink', { t: k }, nodes)} ORDER BY ${LINK_ORDER(k)}), '[]'::json)
             FROM (${linksOfSql(`${row.t}.urn`, dir)}) ${k})`;
}

/** Allocations of a pot's community and term in one status, summed (0 when none). */
function allocated(sc: Scope, row: Row, status: string): string {
  const a = alias(sc, 'al');
  return `(SELECT coalesce(sum(${a}.amount), 0) FROM allocation ${a} WHERE ${a}.community_code = ${row.t}.community_code AND ${a}.term_code = ${row.term} AND ${a}.status = ${lit(status)})`;
}

/** Whether the compiled path answers `type.field` (the catalogue test checks every School field is, or is below). */
export function compiles(type: string, field: string): boolean {
  return Object.hasOwn(FIELDS[type] ?? {}, field);
}

/** School fields a query may ask that make the resolvers answer it instead, each with the reason. */
export const LEFT_TO_RESOLVERS: Readonly<Record<string, string>> = {
  placeNumbers:
    'declared by funding/place-numbers.resolver.ts; its FigureSource is built in TypeScript (toFigureSource)',
};

/** One root field: its statement, and how the rows become its value. */
interface RootPlan {
  key: string;
  nodes: readonly FieldNode[];
  /** A nullable root field that fails is null on its own; a non-null one makes `data` null. */
  nullable: boolean;
  sql: string;
  params: unknown[];
  build(rows: Record<string, any>[]): unknown;
}

/** `school(urn)`: the school's JSON, or null. */
function planSchool(sc: Scope, key: string, nodes: readonly FieldNode[]): RootPlan {
  const def = sc.schema.getQueryType()!.getFields().school;
  const u = param(sc, (s) => getArgumentValues(def, nodes[0], s.variables).urn, 'int');
  return {
    key,
    nodes,
    nullable: true,
    sql: `SELECT ${objectSql(sc, 'School', { t: 's' }, nodes)} AS j FROM school s WHERE s.urn = ${u}`,
    params: sc.params,
    build: (rows) => rows[0]?.j ?? null,
  };
}

/** `schoolsByUrn(urns)`: the schools in the order asked, null for unknown URNs. */
function planSchoolsByUrn(sc: Scope, key: string, nodes: readonly FieldNode[]): RootPlan {
  const def = sc.schema.getQueryType()!.getFields().schoolsByUrn;
  const u = param(
    sc,
    (s) => {
      const { urns } = getArgumentValues(def, nodes[0], s.variables) as { urns: number[] };
      if (urns.length > MAX_PAGE_SIZE) throw new NotCompiled('too many URNs');
      return urns;
    },
    'int[]',
  );
  return {
    key,
    nodes,
    nullable: false,
    sql: `SELECT CASE WHEN s.urn IS NULL THEN NULL ELSE ${objectSql(sc, 'School', { t: 's' }, nodes)} END AS j
            FROM unnest(${u}) WITH ORDINALITY AS x(urn, ord) LEFT JOIN school s ON s.urn = x.urn ORDER BY x.ord`,
    params: sc.params,
    build: (rows) => rows.map((r) => r.j),
  };
}

/** One `schools(...)` root field as one statement, and how its rows become the connection object. */
function planConnection(sc: Scope, key: string, nodes: readonly FieldNode[]): RootPlan {
  // The page's statement depends on its arguments (filters, order, cursor): planned for each request.
  sc.recipe = null;
  const query = sc.schema.getQueryType()!;
  const args = getArgumentValues(query.getFields().schools, nodes[0], sc.variables) as unknown as SchoolPageArgs;
  const connType = sc.schema.getType('SchoolConnection') as GraphQLObjectType;
  const edgeType = sc.schema.getType('SchoolEdge') as GraphQLObjectType;
  const pageInfoType = sc.schema.getType('PageInfo') as GraphQLObjectType;
  let page: ReturnType<typeof schoolPageSql>;
  try {
    page = schoolPageSql(args, sc.params, 's.*');
  } catch (err) {
    if (err instanceof HubError) throw new NotCompiled(err.message);
    throw err;
  }
  // Columns of the outer select: the cursor's keys, then one JSON column per School selection.
  const columns = [`s.urn AS "urn"`, `s.name AS "name"`, `s.pupils_on_roll AS "pupilsOnRoll"`];
  const json = (schoolNodes: readonly FieldNode[]) => {
    const name = `j${columns.length}`;
    columns.push(`${objectSql(sc, 'School', { t: 's' }, schoolNodes)} AS "${name}"`);
    return name;
  };
  type Part = (rows: Record<string, any>[], hasNext: boolean, total: number) => unknown;
  const parts: [string, Part][] = [];
  let counted = false;
  for (const [k, fieldNodes] of subfields(sc, connType, nodes)) {
    const name = fieldNodes[0].name.value;
    if (name === '__typename') parts.push([k, () => connType.name]);
    else if (name === 'totalCount') {
      counted = true;
      parts.push([k, (_rows, _hasNext, total) => total]);
    } else if (name === 'nodes') {
      const col = json(fieldNodes);
      parts.push([k, (rows) => rows.map((r) => r[col])]);
    } else if (name === 'edges') {
      const edgeParts: [string, (r: Record<string, any>) => unknown][] = [];
      for (const [ek, en] of subfields(sc, edgeType, fieldNodes)) {
        const ename = en[0].name.value;
        if (ename === '__typename') edgeParts.push([ek, () => edgeType.name]);
        else if (ename === 'cursor') edgeParts.push([ek, (r) => encodeCursor(page.order, r as School)]);
        else if (ename === 'node') {
          const col = json(en);
          edgeParts.push([ek, (r) => r[col]]);
        } else throw new NotCompiled(`SchoolEdge.${ename}`);
      }
      parts.push([k, (rows) => rows.map((r) => Object.fromEntries(edgeParts.map(([ek, f]) => [ek, f(r)])))]);
    } else if (name === 'pageInfo') {
      const infoParts: [string, (rows: Record<string, any>[], hasNext: boolean) => unknown][] = [];
      for (const [pk, pn] of subfields(sc, pageInfoType, fieldNodes)) {
        const pname = pn[0].name.value;
        if (pname === '__typename') infoParts.push([pk, () => pageInfoType.name]);
        else if (pname === 'hasNextPage') infoParts.push([pk, (_r, hasNext) => hasNext]);
        else if (pname === 'hasPreviousPage') infoParts.push([pk, () => Boolean(args.after)]);
        else if (pname === 'startCursor')
          infoParts.push([pk, (rows) => (rows.length ? encodeCursor(page.order, rows[0] as School) : null)]);
        else if (pname === 'endCursor')
          infoParts.push([
            pk,
            (rows) => (rows.length ? encodeCursor(page.order, rows[rows.length - 1] as School) : null),
          ]);
        else throw new NotCompiled(`PageInfo.${pname}`);
      }
      parts.push([k, (rows, hasNext) => Object.fromEntries(infoParts.map(([pk, f]) => [pk, f(rows, hasNext)]))]);
    } else throw new NotCompiled(`SchoolConnection.${name}`);
  }
  const sql = counted
    ? `WITH page AS (${page.sql}), total AS (${schoolCountSql(args.filter, sc.params)})
       SELECT total.n AS "totalCount", ${columns.join(', ')} FROM total LEFT JOIN page s ON true ${page.orderBy}`
    : `WITH page AS (${page.sql}) SELECT ${columns.join(', ')} FROM page s ${page.orderBy}`;
  return {
    key,
    nodes,
    nullable: false,
    sql,
    params: sc.params,
    build(all) {
      // With totalCount, an empty page is one row of nulls carrying the count.
      const total = all[0]?.totalCount;
      const found = all.filter((r) => r.urn !== null);
      const hasNext = found.length > args.first;
      const rows = hasNext ? found.slice(0, args.first) : found;
      return Object.fromEntries(parts.map(([k, f]) => [k, f(rows, hasNext, total)]));
    },
  };
}

/** The root fields the compiler covers. */
const ROOTS: Record<string, (sc: Scope, key: string, nodes: readonly FieldNode[]) => RootPlan> = {
  schools: planConnection,
  school: planSchool,
  schoolsByUrn: planSchoolsByUrn,
};

export interface CompiledRead {
  run(): Promise<ExecutionResult>;
}

/**
 * Plans the operation as compiled SQL, or returns null when the resolvers must answer. The period catalogue
 * (to check `term`, `financialYear` and `period` arguments) is loaded only when a compiled field needs it.
 */
export async function planCompiledRead(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
  ctx: Context,
): Promise<CompiledRead | null> {
  if (operation.operation !== 'query') return null;
  const query = schema.getQueryType()!;
  const roots = collectFields(schema, fragments, variables, query, operation.selectionSet);
  if (roots.size === 0) return null;
  for (const nodes of roots.values()) {
    const name = nodes[0].name.value;
    if (name === '__typename') continue;
    if (!(name in ROOTS)) return null;
    // The compiled read skips the root resolvers, so it asks the role matrix they would have applied; root
    // fields are counted as collected, so one selected through a fragment is asked about too.
    if (!mayRun(ctx.viewer, 'Query', name)) return null;
  }
  const conditional = usesConditions(operation, fragments);
  const cat = () => {
    const loaded = ctx.loaders.periods();
    if (loaded instanceof Promise) throw new NeedsPeriods(loaded);
    return loaded;
  };
  const scope = (): Scope => ({
    schema,
    fragments,
    variables,
    params: [],
    ctx,
    aliases: 0,
    cat,
    conditional,
    recipe: null,
  });
  // The statements of an operation planned before for a viewer whose counts are (or are not) suppressed: only this
  // request's parameters are worked out. Operations with @skip or @include are planned for each request.
  const variant = sqlScope(ctx.viewer) === null ? 'open' : 'scoped';
  const byOperation = conditional ? undefined : planCache.get(schema)?.get(operation);
  const cached = byOperation?.get(variant);
  const plan = ([key, nodes]: [string, readonly FieldNode[]]): Planned => {
    if (nodes[0].name.value === '__typename') return { key, typename: query.name };
    const sc = scope();
    if (!conditional) sc.recipe = { checks: [], params: [] };
    const root = ROOTS[nodes[0].name.value](sc, key, nodes);
    return { ...root, recipe: sc.recipe };
  };
  // At most two passes: the second once the catalogue a field asked for has arrived.
  for (;;) {
    try {
      if (cached) {
        const replayed = cached.map((p) => replay(p, scope()));
        planCounts.replayed++;
        return compiledRead(ctx, replayed);
      }
      const plans = [...roots].map(plan);
      planCounts.planned++;
      if (!conditional && plans.every((p) => 'typename' in p || p.recipe)) remember(schema, operation, variant, plans);
      return compiledRead(ctx, plans);
    } catch (err) {
      if (err instanceof NeedsPeriods) {
        try {
          await err.loading;
        } catch {
          return null; // the resolvers meet the same failure and report it on the fields that need it
        }
        continue;
      }
      // An argument graphql-js rejects (null where it may not be) is also left to the resolvers to report.
      if (err instanceof NotCompiled || err instanceof GraphQLError) return null;
      throw err;
    }
  }
}

type Planned = (RootPlan & { recipe: Recipe | null }) | { key: string; typename: string };

/**
 * Each operation's statements, as planned for its first request, by schema, operation (the AST of a document
 * Apollo keeps) and whether the viewer's counts are suppressed: the statement's text depends on nothing else (the
 * selections, without @skip or @include, are the document's; every value a request brings, its variables, the
 * date, the viewer's scope, the suppression patterns and hidden top-ups, is a parameter its recipe works out for
 * each request). A few KB per operation; the hot path keeps at most 256 documents (fast-read.ts).
 */
const planCache = new WeakMap<GraphQLSchema, WeakMap<OperationDefinitionNode, Map<string, Planned[]>>>();

/** Operations planned whole, and requests answered from a plan with their own parameters (tests read them). */
export const planCounts = { planned: 0, replayed: 0 };

function remember(schema: GraphQLSchema, operation: OperationDefinitionNode, variant: string, plans: Planned[]) {
  let bySchema = planCache.get(schema);
  if (!bySchema) planCache.set(schema, (bySchema = new WeakMap()));
  let byOperation = bySchema.get(operation);
  if (!byOperation) bySchema.set(operation, (byOperation = new Map()));
  // Each request works out its own parameters: the first request's are not kept.
  byOperation.set(
    variant,
    plans.map((p) => ('typename' in p ? p : { ...p, params: [] })),
  );
}

/** A planned root field with this request's parameters, worked out by its recipe (which may throw as planning does). */
function replay(p: Planned, sc: Scope): Planned {
  if ('typename' in p) return p;
  for (const check of p.recipe!.checks) check(sc);
  return { ...p, params: p.recipe!.params.map((get) => get(sc)) };
}

function compiledRead(ctx: Context, plans: Planned[]): CompiledRead {
  return {
    async run() {
      const data: Record<string, unknown> = {};
      const errors: GraphQLError[] = [];
      let failedNonNull = false;
      for (const plan of plans) {
        if ('typename' in plan) {
          data[plan.key] = plan.typename;
          continue;
        }
        try {
          data[plan.key] = plan.build(await ctx.db.query(prepared(ctx.db.connection, plan.sql), plan.params));
        } catch (err) {
          // As the resolvers report it: a nullable root field is null, a non-null one makes data null.
          const cause = err instanceof Error ? err : Object.assign(new Error('Unexpected error value'), err);
          errors.push(new GraphQLError(cause.message, { nodes: plan.nodes, path: [plan.key], originalError: cause }));
          data[plan.key] = null;
          if (!plan.nullable) failedNonNull = true;
        }
      }
      if (!errors.length) return { data };
      return { data: failedNonNull ? null : data, errors };
    },
  };
}
