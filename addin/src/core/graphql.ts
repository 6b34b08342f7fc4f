/**
 * The hub client. Every failure becomes a HubRequestError with a kind the pane and the custom functions can act on:
 * UNAUTHENTICATED asks to reconnect, UNREACHABLE/TIMEOUT say so instead of spinning, GRAPHQL carries the
 * server's extensions.code.
 */
export type HubRequestErrorKind = 'UNAUTHENTICATED' | 'UNREACHABLE' | 'REFUSED' | 'TIMEOUT' | 'HTTP' | 'GRAPHQL';

export interface GraphQLErrorLike {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; [k: string]: unknown };
}

export class HubRequestError extends Error {
  constructor(
    readonly kind: HubRequestErrorKind,
    message: string,
    readonly code?: string,
    readonly errors: GraphQLErrorLike[] = [],
  ) {
    super(message);
    this.name = 'HubRequestError';
  }
}

export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: GraphQLErrorLike[];
}

export interface HubClientOptions {
  /** Hub base URL ("https://hub.example" or ".../graphql"); empty means this page's origin (the dev proxy). */
  url: string;
  /** The bearer for the next request; a sign-in session may first swap a token that is about to expire. */
  token: () => string | undefined | Promise<string | undefined>;
  /**
   * Called once when the hub answers 401: a sign-in session gets a fresh token silently and the request is
   * sent again with it. Resolves to false (or throws) when there is nothing better; the 401 then stands.
   */
  refreshToken?: () => Promise<boolean>;
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

export function graphqlEndpoint(url: string, origin?: string): string {
  const base = (url || origin || '').replace(/\/+$/, '');
  return base.endsWith('/graphql') ? base : `${base}/graphql`;
}

export class HubClient {
  /** HTTP requests made; the custom-function tests and the bench count them. */
  requests = 0;
  readonly endpoint: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly opts: HubClientOptions) {
    const origin = typeof location !== 'undefined' ? location.origin : undefined;
    this.endpoint = graphqlEndpoint(opts.url, origin);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.fetchImpl = opts.fetchImpl ?? ((...a) => fetch(...a));
  }

  /** Returns data and errors as the server sent them; throws only when there is no usable data. */
  async execute<T>(
    query: string,
    variables: Record<string, unknown> = {},
    timeoutMs = this.timeoutMs,
  ): Promise<GraphQLResponse<T>> {
    try {
      return await this.executeOnce<T>(query, variables, timeoutMs);
    } catch (e) {
      if (!(e instanceof HubRequestError) || e.kind !== 'UNAUTHENTICATED' || !this.opts.refreshToken) throw e;
      let refreshed: boolean;
      try {
        refreshed = await this.opts.refreshToken();
      } catch (r) {
        throw new HubRequestError(
          'UNAUTHENTICATED',
          `${e.message} Signing in again failed: ${(r as Error).message}`,
          'UNAUTHENTICATED',
          e.errors,
        );
      }
      if (!refreshed) throw e;
      return this.executeOnce<T>(query, variables, timeoutMs);
    }
  }

  private async executeOnce<T>(
    query: string,
    variables: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<GraphQLResponse<T>> {
    const controller = new AbortController();
    let timedOut = false;
    // The timer races the fetch itself, so a server that never answers (or a fetch that ignores abort)
    // still settles the promise.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
        reject(new HubRequestError('TIMEOUT', `The hub did not answer within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
    });
    try {
      const token = await Promise.race([this.opts.token(), timeout]);
      this.requests++;
      const res = await Promise.race([
        this.fetchImpl(this.endpoint, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/graphql-response+json, application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify({ query, variables }),
          signal: controller.signal,
        }),
        timeout,
      ]);
      const text = await Promise.race([res.text(), timeout]);
      let body: GraphQLResponse<T> | undefined;
      try {
        body = text ? (JSON.parse(text) as GraphQLResponse<T>) : undefined;
      } catch {
        body = undefined;
      }
      const errors = body?.errors ?? [];
      if (res.status === 401 || errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) {
        throw new HubRequestError(
          'UNAUTHENTICATED',
          errors[0]?.message ?? 'Your sign-in has expired: reconnect',
          'UNAUTHENTICATED',
          errors,
        );
      }
      if (!body || (body.data == null && errors.length === 0)) {
        throw new HubRequestError('HTTP', `The hub answered HTTP ${res.status} without a GraphQL result`);
      }
      if (body.data == null) {
        const first = errors[0];
        throw new HubRequestError('GRAPHQL', first.message, first.extensions?.code, errors);
      }
      return body;
    } catch (e) {
      if (e instanceof HubRequestError) throw e;
      if (timedOut)
        throw new HubRequestError('TIMEOUT', `The hub did not answer within ${Math.round(timeoutMs / 1000)} s`);
      throw await this.whyUnreachable();
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A browser says only "Failed to fetch", both when nothing answers and when the browser refused the
   * answer (CORS). An opaque no-cors request tells them apart: it succeeds whenever the hub answers at all.
   */
  private async whyUnreachable(): Promise<HubRequestError> {
    let answered = false;
    if (typeof window !== 'undefined') {
      try {
        await Promise.race([
          this.fetchImpl(this.endpoint, { method: 'GET', mode: 'no-cors', cache: 'no-store' }),
          new Promise((_, r) => setTimeout(() => r(new Error('timeout')), 5000)),
        ]);
        answered = true;
      } catch {
        answered = false;
      }
    }
    if (answered) {
      const here = typeof location !== 'undefined' ? location.origin : 'this pane';
      return new HubRequestError(
        'REFUSED',
        `The hub at ${this.endpoint} answered, but the browser refused to let this pane read the answer (CORS). Open the add-in from the hub itself (${new URL(this.endpoint).origin}/addin/), or ask for ${here} to be added to the hub's CORS_ORIGINS.`,
      );
    }
    return new HubRequestError(
      'UNREACHABLE',
      `Cannot reach the hub at ${this.endpoint}: check the address and your network (or VPN), and whether the hub is running.`,
    );
  }

  /** Like execute, but any GraphQL error is a failure: for reads where partial data would mislead. */
  async request<T>(query: string, variables: Record<string, unknown> = {}, timeoutMs?: number): Promise<T> {
    const res = await this.execute<T>(query, variables, timeoutMs);
    if (res.errors?.length) {
      const first = res.errors[0];
      throw new HubRequestError(
        'GRAPHQL',
        res.errors.map((e) => e.message).join('; '),
        first.extensions?.code,
        res.errors,
      );
    }
    return res.data as T;
  }
}
