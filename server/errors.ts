import { ASTNode, DocumentNode, GraphQLError, GraphQLFormattedError, Kind, visit } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';

/** The fixed vocabulary of error codes; the README lists each. */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'FORBIDDEN'
  | 'UNAUTHENTICATED'
  | 'QUERY_TOO_COMPLEX'
  | 'SERVICE_UNAVAILABLE'
  | 'RATE_LIMITED'
  | 'INTERNAL_SERVER_ERROR';

export class HubError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extra } });
  }
}
export class BadInput extends HubError {
  constructor(message: string, argument?: string, extra: Record<string, unknown> = {}) {
    super('BAD_USER_INPUT', message, argument ? { argument, ...extra } : extra);
  }
}
export class NotFound extends HubError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}
export class Forbidden extends HubError {
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}
export class Unauthenticated extends HubError {
  constructor(message: string) {
    super('UNAUTHENTICATED', message);
  }
}
export class Conflict extends HubError {
  constructor(message: string, extra: Record<string, unknown> = {}) {
    super('CONFLICT', message, extra);
  }
}

// Socket errors, and PostgreSQL refusing or dropping the connection (shutdown, terminated backend, database
// not accepting connections, too many connections, cannot connect now).
const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08006',
  '08001',
  '08003',
  '08004',
  '55000',
  '53300',
]);

interface PgLikeError {
  code?: string;
  detail?: string;
  constraint?: string;
  message?: string;
}

/** Maps a database error to a client-safe error, or null when it is not one we recognise. */
export function mapDatabaseError(err: PgLikeError): { code: ErrorCode; message: string } | null {
  switch (err.code) {
    case '23505':
      return { code: 'CONFLICT', message: `That record already exists${err.detail ? ': ' + err.detail : ''}.` };
    case '23503':
      return {
        code: 'BAD_USER_INPUT',
        message: `A referenced record does not exist${err.detail ? ': ' + err.detail : ''}.`,
      };
    case '23514':
    case '22003':
    case '22P02':
      return {
        code: 'BAD_USER_INPUT',
        message: `A value was rejected by the database (${err.constraint ?? err.message}).`,
      };
    case '57014':
      return {
        code: 'SERVICE_UNAVAILABLE',
        message: 'The query took too long and was cancelled (statement timeout). Ask for fewer rows.',
      };
    case '40001':
    case '40P01':
      return { code: 'CONFLICT', message: 'A concurrent change got in the way; retry the request.' };
  }
  // Class 22 is "data exception": a value the database cannot take (too long, out of range, bad encoding,
  // a NUL). Input checks refuse most before SQL; whatever slips past is still the value's fault, not the hub's.
  if (typeof err.code === 'string' && err.code.length === 5 && err.code.startsWith('22')) {
    return {
      code: 'BAD_USER_INPUT',
      message: 'A value was rejected by the database: it is too long, out of range or not valid text.',
    };
  }
  // A Unix-socket connect to a database that has gone (the embedded server stopped and its socket file with it).
  if (
    err.code &&
    (CONNECTION_ERRORS.has(err.code) || (err.code === 'ENOENT' && (err as { syscall?: string }).syscall === 'connect'))
  ) {
    return { code: 'SERVICE_UNAVAILABLE', message: 'The database is not reachable. Try again shortly.' };
  }
  if (
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end|CannotExecuteNotConnected|Driver not Connected/i.test(
      `${err.message ?? ''} ${(err as Error).name ?? ''}`,
    )
  ) {
    return { code: 'SERVICE_UNAVAILABLE', message: 'The database is not reachable. Try again shortly.' };
  }
  return null;
}

/**
 * The database error behind a resolver error, if any. Executors wrap what resolvers throw (graphql-js keeps
 * plain thrown objects, such as pg's socket errors, as `thrownValue`; graphql-jit nests `originalError`).
 */
function databaseCause(err: unknown): { code: ErrorCode; message: string } | null {
  let e = err as (PgLikeError & { originalError?: unknown; thrownValue?: unknown }) | undefined;
  for (let depth = 0; e && depth < 6; depth++) {
    const mapped = mapDatabaseError(e);
    if (mapped) return mapped;
    e = (e.thrownValue ?? e.originalError) as typeof e;
  }
  return null;
}

const VALUE_KINDS = new Set<string>([
  Kind.INT,
  Kind.FLOAT,
  Kind.STRING,
  Kind.BOOLEAN,
  Kind.NULL,
  Kind.ENUM,
  Kind.LIST,
  Kind.OBJECT,
]);

/**
 * graphql-js reports a bad literal ("Int cannot represent non-integer value") on the value's AST node without
 * naming the argument; people need the name. One walk of the document maps each erroneous value node to the
 * innermost argument or input field holding it (linear in the document, whatever the names or values hold),
 * and the error is re-coded BAD_USER_INPUT with `argument`. Called from validation, where the document is known.
 */
export function nameBadLiterals(document: DocumentNode, errors: readonly Error[]): void {
  const wanted = new Map<ASTNode, GraphQLError>();
  for (const e of errors) {
    if (!(e instanceof GraphQLError) || !e.nodes?.length) continue;
    const node = e.nodes[0];
    if (VALUE_KINDS.has(node.kind)) wanted.set(node, e);
  }
  if (wanted.size === 0) return;
  const names: string[] = [];
  visit(document, {
    Argument: { enter: (n) => void names.push(n.name.value), leave: () => void names.pop() },
    ObjectField: { enter: (n) => void names.push(n.name.value), leave: () => void names.pop() },
    enter(node) {
      const err = wanted.get(node);
      if (err && names.length) {
        const ext = err.extensions as Record<string, unknown>;
        ext.code = 'BAD_USER_INPUT';
        ext.argument = names[names.length - 1];
      }
    },
  });
}

/** Long values (a megabyte literal, say) are cut so an error answer stays readable and small. */
const MAX_MESSAGE = 1000;
export function cutText(text: string, max = MAX_MESSAGE): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/**
 * The one formatError: known codes pass through; database errors are mapped; anything else is masked
 * (logged with its stack by the caller) so no stack trace or SQL reaches a client.
 */
export function makeFormatError(log: (err: unknown) => void) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error) as PgLikeError & Error;
    const code = formatted.extensions?.code as string | undefined;
    const { stacktrace: _omit, ...ext } = (formatted.extensions ?? {}) as Record<string, unknown>;
    if (original instanceof GraphQLError || (code && code !== 'INTERNAL_SERVER_ERROR')) {
      // nameBadLiterals named the argument of a bad literal: the caller's input, so BAD_USER_INPUT (Apollo re-codes validation errors).
      if (typeof ext.argument === 'string' && ext.code === 'GRAPHQL_VALIDATION_FAILED') ext.code = 'BAD_USER_INPUT';
      const argument =
        ext.code === 'BAD_USER_INPUT' && typeof ext.argument === 'string' && !formatted.message.startsWith('Argument')
          ? ext.argument
          : null;
      const message = cutText(argument ? `Argument "${argument}": ${formatted.message}` : formatted.message);
      return { ...formatted, message, extensions: ext };
    }
    const mapped = databaseCause(original);
    if (mapped) {
      if (mapped.code === 'SERVICE_UNAVAILABLE') log(original);
      return {
        message: mapped.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: mapped.code },
      };
    }
    log(original);
    return {
      message: 'Internal server error. It has been logged; quote the request id to support.',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}
