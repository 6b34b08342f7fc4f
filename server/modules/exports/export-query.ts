import type { GraphQLResponse } from '@apollo/server';
import { FieldNode, GraphQLError, Kind, OperationDefinitionNode, parse, print, SelectionSetNode } from 'graphql';
import type { Context } from '../../context';
import { withSqlTally, SqlTally } from '../../db/sql-counter';
import type { ExportColumn, ExportRow } from './export-format';

/**
 * The hub's own GraphQL execution (Apollo's executeOperation: the API's plugins, cost estimate and budget, role
 * matrix, compiled reads and formatError), given by server.ts. An export is a GraphQL client of its own hub.
 */
export type RunGraphQL = (
  request: { query: string; variables: Record<string, unknown>; operationName: string },
  contextValue: Context,
) => Promise<GraphQLResponse>;

/** Where an export's rows are in its document's result: a dot path; every list on the way is one row an element. */
export interface RowSource {
  list: string;
  /** Values every row of this source carries (innermost: a column reads them before the result). */
  set?: ExportRow;
}

/** How a document is paged: by cursor through a connection (`first`/`after`, its pageInfo), or by offset (`first`/`offset`). */
export type Paging = { by: 'cursor'; connection: string; size: number } | { by: 'offset'; list: string; size: number };

export interface ExportQuery {
  /** The document as it runs and as the About sheet shows it (printed from its source). */
  document: string;
  operationName: string;
  paging?: Paging;
  rows: RowSource[];
  columns: ExportColumn[];
}

/** A column resolved against the document: which level of the row's path holds it (-1: the source's `set`), then the rest. */
interface ColumnRead {
  key: string;
  level: number;
  path: string[];
}

interface SourcePlan {
  segments: string[];
  set: ExportRow;
  reads: ColumnRead[];
}

export interface QueryPlan extends ExportQuery {
  sources: SourcePlan[];
}

const responseName = (f: FieldNode) => (f.alias ?? f.name).value;

function fieldsOf(set: SelectionSetNode | undefined, where: string): Map<string, FieldNode> {
  const out = new Map<string, FieldNode>();
  for (const s of set?.selections ?? []) {
    if (s.kind !== Kind.FIELD) throw new Error(`${where}: export documents select plain fields (no fragments).`);
    out.set(responseName(s), s);
  }
  return out;
}

/**
 * A row's own fields written from its columns, so a dataset names each column once: each is selected under its key,
 * aliasing the field that `path` names (a plain field of the row), and the columns returned read their keys.
 */
export function rowColumns(columns: readonly ExportColumn[]): { select: string; columns: ExportColumn[] } {
  return {
    select: columns.map((c) => (c.path && c.path !== c.key ? `${c.key}: ${c.path}` : c.key)).join(' '),
    columns: columns.map(({ path: _path, ...c }) => {
      if (_path?.includes('.')) throw new Error(`column "${c.key}": rowColumns selects plain fields, not "${_path}".`);
      return c;
    }),
  };
}

/**
 * Resolves every column of an export against its document once, when the dataset is defined: a column names a
 * path that the document selects at exactly one level of its row's path (the row, or an object it is inside), so a
 * column that reads nothing, or could read two things, fails at start-up rather than exporting empty cells.
 */
export function planExport(
  name: string,
  source: string,
  q: Omit<ExportQuery, 'document' | 'operationName'>,
): QueryPlan {
  const doc = parse(source, { noLocation: true });
  const ops = doc.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (ops.length !== 1 || !ops[0].name) throw new Error(`${name}: an export document is one named operation.`);
  const sources = q.rows.map((rowSource): SourcePlan => {
    const segments = rowSource.list.split('.');
    const levels: Map<string, FieldNode>[] = [fieldsOf(ops[0].selectionSet, name)];
    for (const seg of segments) {
      const field = levels[levels.length - 1].get(seg);
      if (!field) throw new Error(`${name}: the document does not select "${rowSource.list}".`);
      levels.push(fieldsOf(field.selectionSet, `${name} ${seg}`));
    }
    const set = rowSource.set ?? {};
    const reads = q.columns.map((c): ColumnRead => {
      const [head, ...rest] = (c.path ?? c.key).split('.');
      const found = levels.flatMap((l, i) => (l.has(head) ? [i] : []));
      if (head in set) found.push(-1);
      if (found.length !== 1)
        throw new Error(
          `${name}: column "${c.key}" reads "${c.path ?? c.key}", which the document selects ${found.length ? 'at more than one level' : 'nowhere'} of "${rowSource.list}".`,
        );
      if (found[0] >= 0) {
        let at = levels[found[0]].get(head)!;
        for (const seg of rest) {
          const next = fieldsOf(at.selectionSet, name).get(seg);
          if (!next)
            throw new Error(`${name}: column "${c.key}" reads "${c.path}", which the document does not select.`);
          at = next;
        }
      }
      return { key: c.key, level: found[0], path: [head, ...rest] };
    });
    return { segments, set, reads };
  });
  return { ...q, document: print(doc), operationName: ops[0].name.value, sources };
}

function read(value: unknown, path: string[]): unknown {
  let v = value;
  for (const seg of path) {
    if (v === null || v === undefined) return null;
    v = (v as Record<string, unknown>)[seg];
  }
  return v ?? null;
}

/** The rows of one page: the row path walked from the result's data, each list on the way expanded, a null ending it. */
function rowsOf(plan: QueryPlan, data: Record<string, unknown>): ExportRow[] {
  const out: ExportRow[] = [];
  for (const src of plan.sources) {
    const walk = (value: unknown, i: number, chain: unknown[]) => {
      if (i === src.segments.length) {
        const row: ExportRow = {};
        for (const c of src.reads) row[c.key] = read(c.level < 0 ? src.set : chain[c.level], c.path);
        out.push(row);
        return;
      }
      const next = (value as Record<string, unknown>)[src.segments[i]];
      if (next === null || next === undefined) return;
      for (const v of Array.isArray(next) ? next : [next]) walk(v, i + 1, [...chain, v]);
    };
    walk(data, 0, [data]);
  }
  return out;
}

/**
 * A GraphQL answer with errors as the error the API gives for it: its first error's code and message, and the status
 * (and Retry-After) the API answered with. A partial result counts as failed: an export is all of its rows or none.
 */
function refusal(
  response: GraphQLResponse,
  errors: readonly { message: string; extensions?: Record<string, unknown> }[],
) {
  const [first] = errors;
  const { code = 'INTERNAL_SERVER_ERROR', ...extensions } = first.extensions ?? {};
  const status = response.http.status !== undefined && response.http.status >= 400 ? response.http.status : undefined;
  const retryAfter = response.http.headers.get('retry-after');
  const others = errors.length - 1;
  return new GraphQLError(
    others ? `${first.message} (and ${others} more ${others === 1 ? 'error' : 'errors'})` : first.message,
    {
      extensions: {
        ...extensions,
        code,
        http: { status, headers: new Map(retryAfter ? [['retry-after', retryAfter]] : []) },
      },
    },
  );
}

/**
 * Runs an export's document page by page through the hub's GraphQL execution with the request's context (one viewer,
 * one set of loaders for every page) and returns its rows, each column read from its path. Each page is its own
 * operation to the API's cost estimate and budget, and its SQL statements are counted under the operation's name
 * (then added to the request's tally).
 */
export async function runExport(
  plan: QueryPlan,
  variables: Record<string, unknown>,
  ctx: Context,
  graphql: RunGraphQL,
): Promise<{ rows: ExportRow[]; variables: Record<string, unknown> }> {
  const paging = plan.paging;
  const first: Record<string, unknown> =
    paging?.by === 'cursor'
      ? { ...variables, first: paging.size, after: null }
      : paging?.by === 'offset'
        ? { ...variables, first: paging.size, offset: 0 }
        : variables;
  const rows: ExportRow[] = [];
  let vars = first;
  for (;;) {
    const tally: SqlTally = { statements: 0 };
    const response = await withSqlTally(tally, () =>
      graphql({ query: plan.document, variables: vars, operationName: plan.operationName }, { ...ctx, sql: tally }),
    );
    ctx.sql.statements += tally.statements;
    if (response.body.kind !== 'single') throw new Error(`${plan.operationName}: an incremental answer to an export.`);
    const { data, errors } = response.body.singleResult;
    if (errors?.length) throw refusal(response, errors as never);
    if (!data) throw new Error(`${plan.operationName}: no data and no errors.`);
    const page = rowsOf(plan, data);
    rows.push(...page);
    if (paging?.by === 'cursor') {
      const info = read(data, [...paging.connection.split('.'), 'pageInfo']) as {
        hasNextPage: boolean;
        endCursor: string | null;
      };
      if (!info.hasNextPage) break;
      vars = { ...vars, after: info.endCursor };
    } else if (paging?.by === 'offset') {
      const got = (read(data, paging.list.split('.')) as unknown[]).length;
      if (got < paging.size) break;
      vars = { ...vars, offset: (vars.offset as number) + paging.size };
    } else break;
  }
  return { rows, variables: first };
}
