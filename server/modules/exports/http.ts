import type { NextFunction, Request, Response } from 'express';
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import type { Viewer } from '../../auth/roles';
import { mapDatabaseError } from '../../errors';

/** What the export and import routers need from the hub: the cached bearer authentication of /graphql. */
export interface RestDeps {
  /** `req` (its address) lets repeated failed sign-ins from one address be slowed and refused. */
  viewerFor(header: string | undefined, req?: { socket: { remoteAddress?: string } }): Promise<Viewer>;
  logger: Logger;
}

const STATUS: Record<string, number> = {
  BAD_USER_INPUT: 400,
  QUERY_TOO_COMPLEX: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
};

/**
 * Errors in the same JSON shape as GraphQL's, so one client-side handler reads both. Hub errors keep their
 * code and message; database errors are mapped; anything else is logged and masked.
 */
export function sendError(res: Response, err: unknown, logger: Logger, requestId?: string): void {
  if (res.headersSent) {
    logger.error({ err }, 'error after the response started');
    res.destroy();
    return;
  }
  if (err instanceof GraphQLError) {
    const code = String(err.extensions.code ?? 'INTERNAL_SERVER_ERROR');
    const { http, ...extensions } = err.extensions as Record<string, unknown> & {
      http?: { status?: number; headers?: Map<string, string> };
    };
    for (const [k, v] of http?.headers ?? []) res.setHeader(k, v);
    if (code === 'SERVICE_UNAVAILABLE' && !res.getHeader('retry-after')) res.setHeader('retry-after', '5');
    // An error may name its own status within its code's class (413 for a body over its limit, say). A body refused
    // for its size is not read to its end: the connection is closed after the answer rather than left half-read.
    if (http?.status === 413) res.setHeader('connection', 'close');
    res
      .status(http?.status ?? STATUS[code] ?? 500)
      .json({ errors: [{ message: err.message, extensions: { ...extensions, code } }] });
    return;
  }
  const mapped = mapDatabaseError((err ?? {}) as Parameters<typeof mapDatabaseError>[0]);
  if (mapped) {
    res
      .status(STATUS[mapped.code] ?? 500)
      .json({ errors: [{ message: mapped.message, extensions: { code: mapped.code } }] });
    return;
  }
  logger.error({ err, requestId }, 'unhandled error');
  res.status(500).json({
    errors: [
      {
        message: 'Internal server error. It has been logged; quote the request id to support.',
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      },
    ],
  });
}

export function requestIdOf(req: Request): string {
  return (req as Request & { hub?: { requestId: string } }).hub?.requestId ?? String(req.headers['x-request-id'] ?? '');
}

/** Express 5 forwards rejected promises, but we want our own error shape rather than the app's fallback. */
export function handler(deps: RestDeps, fn: (req: Request, res: Response) => Promise<void>) {
  return (req: Request, res: Response, _next: NextFunction) => {
    fn(req, res).catch((err) => sendError(res, err, deps.logger, requestIdOf(req)));
  };
}
