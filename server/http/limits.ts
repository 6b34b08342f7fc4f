import crypto from 'node:crypto';
import type http from 'node:http';
import type net from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import type { DataSource } from 'typeorm';
import { RateLimiterAbstract, RateLimiterMemory, RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { HubError } from '../errors';
import { memoByString } from './memo';

export interface RateLimitConfig {
  /** Requests per minute per token (the Authorization header). */
  perToken: number;
  /** Requests per minute per client address. */
  perAddress: number;
  /** Failed authentications per address in 10 minutes. */
  authFailures: number;
  /** 'postgres': shared by every hub process on the database; 'memory': this process only (embedded PGlite is one process). */
  store: 'postgres' | 'memory';
}

/** The 429 answer to a refused request: Retry-After and the refusal as a GraphQL-shaped error. */
export function rateLimitedResponse(e: RateLimited) {
  return {
    status: 429,
    headers: new Map([['retry-after', String(e.retryAfterSeconds)]]),
    body: {
      errors: [{ message: e.message, extensions: { code: e.extensions.code, retryAfterSeconds: e.retryAfterSeconds } }],
    },
  };
}

export class RateLimited extends HubError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('RATE_LIMITED', message, {
      retryAfterSeconds,
      http: { status: 429, headers: new Map([['retry-after', String(retryAfterSeconds)]]) },
    });
  }
}

function limiter(
  dataSource: DataSource,
  store: RateLimitConfig['store'],
  keyPrefix: string,
  points: number,
  duration: number,
): RateLimiterAbstract {
  // The limit is part of the key: a changed limit starts a fresh window instead of inheriting counts kept under another.
  keyPrefix = `${keyPrefix}_${points}_${duration}`;
  const memory = new RateLimiterMemory({ keyPrefix, points, duration });
  if (store === 'memory') return memory;
  return new RateLimiterPostgres({
    storeClient: dataSource,
    storeType: 'typeorm',
    tableName: 'rate_limit',
    tableCreated: true, // the RateLimits migration made it
    keyPrefix,
    points,
    duration,
    clearExpiredByTimeout: true,
    // The database down or its pool exhausted must not turn every request into an error: count in memory meanwhile.
    insuranceLimiter: memory,
    // Once an address or token is over its limit, refuse it from memory without asking the database again.
    inMemoryBlockOnConsumed: points,
    inMemoryBlockDuration: duration,
  });
}

const retryAfter = (res: RateLimiterRes) => Math.max(1, Math.ceil(res.msBeforeNext / 1000));

/**
 * Who is asking: the Authorization header, hashed (the limiter's keys never hold a secret). Hashed once per header
 * (a caller sends the same one with every request); headers the size of a hub token or a sign-in JWT are kept.
 */
const tokenKey = memoByString((header) => crypto.createHash('sha256').update(header).digest('base64url').slice(0, 22), {
  maxEntries: 1000,
  maxKeyLength: 4096,
});

export function addressOf(req: { socket: { remoteAddress?: string } }): string {
  return req.socket.remoteAddress ?? 'unknown';
}

export function createRateLimits(dataSource: DataSource, cfg: RateLimitConfig) {
  const byToken = limiter(dataSource, cfg.store, 'hub_token', cfg.perToken, 60);
  const byAddress = limiter(dataSource, cfg.store, 'hub_addr', cfg.perAddress, 60);
  const failures = limiter(dataSource, cfg.store, 'hub_authfail', cfg.authFailures, 600);

  /**
   * Per address, then per token: null when the request may go on, else the refusal. A store that fails (and its
   * insurance too) lets the request through rather than fail it. Express's middleware and the hot read path both ask.
   */
  const admit = async (address: string, header: string | undefined): Promise<RateLimited | null> => {
    try {
      await byAddress.consume(address);
    } catch (r) {
      if (!(r instanceof RateLimiterRes)) return null;
      return new RateLimited(
        `Too many requests from your address: at most ${cfg.perAddress} a minute. Retry after ${retryAfter(r)} s.`,
        retryAfter(r),
      );
    }
    if (header) {
      try {
        await byToken.consume(tokenKey(header));
      } catch (r) {
        if (r instanceof RateLimiterRes)
          return new RateLimited(
            `Too many requests with this token: at most ${cfg.perToken} a minute. Retry after ${retryAfter(r)} s.`,
            retryAfter(r),
          );
      }
    }
    return null;
  };

  /** Express middleware: 429 with Retry-After when admit refuses. */
  const middleware = async (req: Request, res: Response, next: NextFunction) => {
    const refused = await admit(addressOf(req), req.headers.authorization);
    if (!refused) return next();
    const { status, headers, body } = rateLimitedResponse(refused);
    res.set(Object.fromEntries(headers)).status(status).json(body);
  };

  return {
    middleware,
    admit,
    /** Before an uncached token check: refuse an address that has failed too often (guessing), without checking. */
    async beforeTokenCheck(address: string): Promise<void> {
      const r = await failures.get(address).catch(() => null);
      if (r && r.consumedPoints >= cfg.authFailures) {
        throw new RateLimited(
          `Too many failed sign-ins from your address. Retry after ${retryAfter(r)} s.`,
          retryAfter(r),
        );
      }
    },
    /**
     * After a failed check: count it and slow the answer down as failures add up (up to 2 s), so guessing from
     * one address costs time long before the limit refuses it.
     */
    async afterFailure(address: string): Promise<void> {
      const r = await failures.penalty(address, 1).catch(() => null);
      // The first tenth of the allowance is answered at once (a mistyped token); after that each failure waits longer.
      const over = (r?.consumedPoints ?? 0) - Math.max(5, Math.floor(cfg.authFailures / 10));
      if (over > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(2000, over * 100)));
    },
  };
}
export type RateLimits = ReturnType<typeof createRateLimits>;

/**
 * Socket limits: slow clients are cut off (headers and whole requests have a deadline) and one address may hold
 * only so many connections (a browser keeps about six; a shared office address many people's).
 */
export function limitConnections(
  server: http.Server,
  opts: { headersTimeoutMs: number; requestTimeoutMs: number; maxConnectionsPerAddress: number },
): void {
  server.headersTimeout = opts.headersTimeoutMs;
  server.requestTimeout = opts.requestTimeoutMs;
  server.keepAliveTimeout = Math.min(5000, opts.headersTimeoutMs);
  // Node checks the two timeouts on this interval; the default (30 s) would let a slow client linger past them.
  (server as http.Server & { connectionsCheckingInterval?: number }).connectionsCheckingInterval = 1000;
  const open = new Map<string, number>();
  server.on('connection', (socket: net.Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const n = (open.get(address) ?? 0) + 1;
    if (n > opts.maxConnectionsPerAddress) {
      socket.destroy();
      return;
    }
    open.set(address, n);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}

/** A client's x-request-id is kept only when short and plain (it goes into logs and a response header). */
export function safeRequestId(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 64) return crypto.randomUUID();
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    const ok =
      (c >= 48 && c <= 57) ||
      (c >= 65 && c <= 90) ||
      (c >= 97 && c <= 122) ||
      c === 45 ||
      c === 95 ||
      c === 46 ||
      c === 58;
    if (!ok) return crypto.randomUUID();
  }
  return raw;
}
