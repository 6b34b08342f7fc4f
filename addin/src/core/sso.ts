/**
 * Sign-in with Microsoft (Office single sign-on), the plain-TypeScript half: what the hub says about sign-in
 * (GET /auth/config), what Office's SSO error codes mean to a person, and when a sign-in token is about to
 * expire. The Office call itself (OfficeRuntime.auth.getAccessToken) is in gateway/office-auth.ts.
 */
export interface AuthConfig {
  oidc: { issuer: string; audience: string; clientId: string } | null;
}

/** The public sign-in settings beside the GraphQL endpoint: ".../graphql" or a base URL both work. */
export function authConfigUrl(url: string, origin?: string): string {
  const base = (url || origin || '').replace(/\/+$/, '').replace(/\/graphql$/, '');
  return `${base}/auth/config`;
}

/** Asks the hub whether it accepts Microsoft sign-in. A hub that cannot say (older, unreachable) means "tokens only". */
export async function fetchAuthConfig(
  url: string,
  fetchImpl: typeof fetch = (...a) => fetch(...a),
  timeoutMs = 10_000,
): Promise<AuthConfig> {
  const origin = typeof location !== 'undefined' ? location.origin : undefined;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetchImpl(authConfigUrl(url, origin), {
      headers: { accept: 'application/json' },
      signal: controller.signal,
    });
    if (!res.ok) return { oidc: null };
    const body = (await res.json()) as Partial<AuthConfig>;
    const o = body?.oidc;
    return {
      oidc:
        o && typeof o.clientId === 'string' && o.clientId
          ? { issuer: String(o.issuer), audience: String(o.audience), clientId: o.clientId }
          : null,
    };
  } catch {
    return { oidc: null };
  } finally {
    clearTimeout(timer);
  }
}

/** Office's single sign-on errors that a person can act on, in words; anything else is named by its code. */
export const SSO_MESSAGES: Record<number, string> = {
  13001: 'You are not signed in to Office. Sign in to Office with your work account and try again, or use a hub token.',
  13002: 'Sign-in was cancelled. Try again, or use a hub token.',
  13003:
    'Sign in to Office with your work (Kent County Council) account: personal Microsoft accounts cannot use the hub. Or use a hub token.',
  13006:
    'Office could not sign you in (client error). Close and reopen the workbook, then try again, or use a hub token.',
  13008: 'Office is still busy with a previous sign-in. Wait a moment and try again, or use a hub token.',
  13012: 'This version of Excel does not support single sign-on. Use a hub token.',
};

export class SsoError extends Error {
  constructor(
    readonly code: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'SsoError';
  }
}

/** Turns whatever getAccessToken rejected with ({ code, message } from Office) into an SsoError a person can read. */
export function toSsoError(e: unknown): SsoError {
  if (e instanceof SsoError) return e;
  const raw = (e as { code?: unknown })?.code;
  const code = raw === undefined || raw === null || raw === '' ? undefined : Number(raw);
  if (code !== undefined && SSO_MESSAGES[code]) return new SsoError(code, SSO_MESSAGES[code]);
  const detail = (e as Error)?.message ? `: ${(e as Error).message}` : '';
  return new SsoError(
    code,
    `Sign-in with Microsoft failed${code !== undefined ? ` (Office error ${code})` : ''}${detail}. Use a hub token instead.`,
  );
}

/** The exp claim of a JWT in milliseconds, or undefined for anything that is not a readable JWT. Not verified: the hub does that. */
export function jwtExpiry(token: string): number | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const b64 = part
      .replace(/-/g, '+')
      .replace(/_/g, '/')
      .padEnd(Math.ceil(part.length / 4) * 4, '=');
    const json = typeof atob === 'function' ? atob(b64) : Buffer.from(b64, 'base64').toString('binary');
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** A token is refreshed this long before it expires, so a request never leaves with one about to lapse. */
export const EXPIRY_MARGIN_MS = 60_000;

export function expiresSoon(token: string | undefined, now = Date.now(), margin = EXPIRY_MARGIN_MS): boolean {
  const exp = token ? jwtExpiry(token) : undefined;
  return exp !== undefined && exp - margin <= now;
}
