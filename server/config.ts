import path from 'node:path';
import { parseCorsOrigins } from './http/addin-static';
import { LA_CODE as DEMO_LA_CODE, LA_NAME as DEMO_LA_NAME } from './seed/kent';
import type { LocalAuthority } from './common/local-authority';

/** Raised for a configuration a person must fix; main.ts prints its message as one line and exits 1. */
export class ConfigError extends Error {}

export interface OidcConfig {
  issuer: string;
  audience: string;
  jwksUrl: string;
  roleClaim: string;
  communityClaim: string;
  /** The client id the add-in asks Office single sign-on for (OIDC_CLIENT_ID); see oidcClientId. */
  clientId?: string;
  /** A JWT whose azp (v2) or appid (v1) is this client id comes from the add-in: its writes are audited as ADDIN. */
  addinClientId?: string;
}

/** OIDC_CLIENT_ID, or the audience without an "api://" prefix (Entra's default application ID URI is api://<client id>). */
export function oidcClientId(cfg: Pick<OidcConfig, 'audience' | 'clientId'>): string {
  return cfg.clientId || cfg.audience.replace(/^api:\/\//, '');
}

export interface Config {
  /** Real PostgreSQL connection string, or null for the embedded PGlite database. */
  databaseUrl: string | null;
  dataDir: string;
  port: number;
  host: string;
  logLevel: string;
  statementTimeoutMs: number;
  bodyLimitBytes: number;
  poolSize: number;
  seedDemo: boolean;
  oidc: OidcConfig | null;
  /** Compile the school list into one SQL statement (HUB_COMPILED_READS=0 turns it off: every query through resolvers). */
  compiledReads: boolean;
  /**
   * Answer repeated compiled reads straight from Node's HTTP server, past Express and Apollo (http/fast-read.ts);
   * HUB_FAST_READS=0 sends every request through Apollo's pipeline.
   */
  fastReads: boolean;
  /** Prepare the compiled reads' statements on PostgreSQL (HUB_PREPARED_STATEMENTS=0: send the text every time). */
  preparedStatements: boolean;
  /** Bearer token for /metrics on the main port (METRICS_TOKEN); null: /metrics is only on the loopback METRICS_PORT. */
  metricsToken: string | null;
  /** Loopback-only port for /metrics without a token (METRICS_PORT; 0: none). */
  metricsPort: number;
  /** Requests per minute per token, and per client address (several people may share one office address). */
  rateLimitPerToken: number;
  rateLimitPerAddress: number;
  /** Failed authentications per address in 10 minutes before further token checks from it get 429. */
  authFailuresPerAddress: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnectionsPerAddress: number;
  /** Wall-clock budget of one GraphQL request's execution. */
  requestBudgetMs: number;
  /** Estimated query cost one caller may spend per window, and what counts as an expensive query (http/cost-budget.ts). */
  costBudgetPerToken: number;
  costBudgetWindowSeconds: number;
  expensiveQueryCost: number;
  maxConcurrentExpensivePerToken: number;
  /** The built Excel add-in served at /addin/ (ADDIN_DIR, default ./addin/dist). */
  addinDir: string;
  /** Browser origins allowed to call the hub (CORS_ORIGINS); the hub's own /addin/ needs none. */
  corsOrigins: string[];
  /** The authority this hub serves (HUB_LA, HUB_LA_NAME); the demo's by default. */
  localAuthority: LocalAuthority;
  /** Disclosure patterns computed ahead at start and every so many ms (DISCLOSURE_PRECOMPUTE_MS; 0: on first read). */
  disclosurePrecomputeMs: number;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}; got "${raw}".`);
  }
  return Number(raw);
}

function metricsToken(env: NodeJS.ProcessEnv): string | null {
  const raw = env.METRICS_TOKEN?.trim();
  if (!raw) return null;
  if (raw.length < 16)
    throw new ConfigError(
      'METRICS_TOKEN must be at least 16 characters (it guards /metrics); e.g. `openssl rand -hex 24`.',
    );
  return raw;
}

/** The only reader of process.env. Fails fast with a message that says how to fix it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.DATABASE_URL?.trim() || null;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(
      `DATABASE_URL must be a PostgreSQL URL such as postgres://user:password@host:5432/dbname; got "${databaseUrl.replace(/:[^:@/]*@/, ':***@')}". Unset it to use the embedded database.`,
    );
  }
  const issuer = env.OIDC_ISSUER?.trim();
  let oidc: OidcConfig | null = null;
  if (issuer) {
    const audience = env.OIDC_AUDIENCE?.trim();
    if (!audience)
      throw new ConfigError(
        "OIDC_ISSUER is set but OIDC_AUDIENCE is not: set it to the API's application ID URI or client id.",
      );
    oidc = {
      issuer,
      audience,
      // Entra ID's v2.0 issuer is https://login.microsoftonline.com/<tenant>/v2.0; its keys sit beside it.
      jwksUrl: env.OIDC_JWKS_URL?.trim() || issuer.replace(/\/$/, '').replace(/\/v2\.0$/, '') + '/discovery/v2.0/keys',
      roleClaim: env.OIDC_ROLE_CLAIM?.trim() || 'roles',
      communityClaim: env.OIDC_COMMUNITY_CLAIM?.trim() || 'community',
      clientId: env.OIDC_CLIENT_ID?.trim() || oidcClientId({ audience }),
    };
    oidc.addinClientId = env.OIDC_ADDIN_CLIENT_ID?.trim() || oidc.clientId;
  }
  return {
    databaseUrl,
    dataDir: path.resolve(env.HUB_DATA_DIR?.trim() || './.hub-data'),
    port: int(env, 'PORT', 4000, 0, 65535),
    // Loopback unless the operator opens it: a hub on a laptop is not on the office network by accident.
    host: env.HOST?.trim() || '127.0.0.1',
    logLevel: env.LOG_LEVEL?.trim() || 'info',
    statementTimeoutMs: int(env, 'STATEMENT_TIMEOUT_MS', 15000, 100, 600000),
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 5 * 1024 * 1024, 1024, 100 * 1024 * 1024),
    poolSize: int(env, 'DB_POOL_SIZE', 10, 1, 100),
    seedDemo: env.HUB_DEMO !== '0',
    compiledReads: env.HUB_COMPILED_READS !== '0',
    fastReads: env.HUB_FAST_READS !== '0',
    preparedStatements: env.HUB_PREPARED_STATEMENTS !== '0',
    oidc,
    metricsToken: metricsToken(env),
    metricsPort: int(env, 'METRICS_PORT', 9464, 0, 65535),
    // 53 Chairs and 20 finance staff refreshing at once from one office address stay well under these.
    rateLimitPerToken: int(env, 'RATE_LIMIT_PER_TOKEN', 1200, 1, 1_000_000),
    rateLimitPerAddress: int(env, 'RATE_LIMIT_PER_ADDRESS', 6000, 1, 10_000_000),
    authFailuresPerAddress: int(env, 'AUTH_FAILURES_PER_ADDRESS', 50, 1, 1_000_000),
    headersTimeoutMs: int(env, 'HEADERS_TIMEOUT_MS', 10_000, 1000, 600_000),
    requestTimeoutMs: int(env, 'REQUEST_TIMEOUT_MS', 120_000, 1000, 3_600_000),
    maxConnectionsPerAddress: int(env, 'MAX_CONNECTIONS_PER_ADDRESS', 512, 1, 100_000),
    requestBudgetMs: int(env, 'REQUEST_BUDGET_MS', 30_000, 100, 600_000),
    // A finance officer's heaviest minute (every add-in table refreshed, scenarios compared) stays well inside these.
    costBudgetPerToken: int(env, 'COST_BUDGET_PER_TOKEN', 3_000_000, 0, 1_000_000_000),
    costBudgetWindowSeconds: int(env, 'COST_BUDGET_WINDOW_S', 60, 1, 3600),
    expensiveQueryCost: int(env, 'EXPENSIVE_QUERY_COST', 50_000, 1, 1_000_000_000),
    maxConcurrentExpensivePerToken: int(env, 'MAX_CONCURRENT_EXPENSIVE_PER_TOKEN', 2, 1, 1000),
    addinDir: path.resolve(env.ADDIN_DIR?.trim() || './addin/dist'),
    corsOrigins: corsOrigins(env.CORS_ORIGINS),
    localAuthority: localAuthorityOf(env),
    disclosurePrecomputeMs: int(env, 'DISCLOSURE_PRECOMPUTE_MS', 30_000, 0, 86_400_000),
  };
}

function corsOrigins(raw: string | undefined): string[] {
  try {
    return parseCorsOrigins(raw);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
}

function localAuthorityOf(env: NodeJS.ProcessEnv): LocalAuthority {
  const code = int(env, 'HUB_LA', DEMO_LA_CODE, 201, 999);
  const name = env.HUB_LA_NAME?.trim() || (code === DEMO_LA_CODE ? DEMO_LA_NAME : `LA ${code}`);
  return { code, name };
}
