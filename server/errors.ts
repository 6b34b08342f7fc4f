import { GraphQLError, GraphQLFormattedError } from 'graphql';
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
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08006', '08001', '08003', '08004', '55000', '53300']);

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
      return { code: 'BAD_USER_INPUT', message: `A referenced record does not exist${err.detail ? ': ' + err.detail : ''}.` };
    case '23514':
    case '22003':
    case '22P02':
      return { code: 'BAD_USER_INPUT', message: `A value was rejected by the database (${err.constraint ?? err.message}).` };
    case '57014':
      return { code: 'SERVICE_UNAVAILABLE', message: 'The query took too long and was cancelled (statement timeout). Ask for fewer rows.' };
    case '40001':
    case '40P01':
      return { code: 'CONFLICT', message: 'A concurrent change got in the way; retry the request.' };
  }
  // A Unix-socket connect to a database that has gone (the embedded server stopped and its socket file with it).
  if (err.code && (CONNECTION_ERRORS.has(err.code) || (err.code === 'ENOENT' && (err as { syscall?: string }).syscall === 'connect'))) {
    return { code: 'SERVICE_UNAVAILABLE', message: 'The database is not reachable. Try again shortly.' };
  }
  if (
    /Connection terminated|connection timeout|Client has encountered a connection error|Cannot use a pool after calling end|CannotExecuteNotConnected|Driver not Connected/i.test(
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

const VALUE_ERROR = /cannot represent|Expected value of type|literals must be|must be a decimal|must be an ISO date|does not exist|Money must/;

/**
 * graphql-js reports a bad literal ("Int cannot represent non-integer value") without naming the argument;
 * people need the name, so recover it from the source text just before the value.
 */
function badLiteralArgument(err: GraphQLError): string | null {
  if (!VALUE_ERROR.test(err.message) || !err.source || !err.positions?.length || err.message.startsWith('Variable')) return null;
  const before = err.source.body.slice(0, err.positions[0]);
  const m = /([_A-Za-z][_0-9A-Za-z]*)\s*:\s*[\[{]?[^:()]*$/.exec(before);
  return m ? m[1] : null;
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
      const argument = original instanceof GraphQLError ? badLiteralArgument(original) : null;
      if (argument) {
        return { ...formatted, message: `Argument "${argument}": ${formatted.message}`, extensions: { ...ext, code: 'BAD_USER_INPUT', argument } };
      }
      return { ...formatted, extensions: ext };
    }
    const mapped = databaseCause(original);
    if (mapped) {
      if (mapped.code === 'SERVICE_UNAVAILABLE') log(original);
      return { message: mapped.message, locations: formatted.locations, path: formatted.path, extensions: { code: mapped.code } };
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
