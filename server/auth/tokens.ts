import crypto from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { BadInput } from '../errors';
import { parseRole, Role, Viewer } from './roles';
import { TokenClient } from '../modules/auth/auth.entity';

const PREFIX = 'hnh_';

export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface CreatedToken {
  id: string;
  token: string;
  role: Role;
  name: string;
  communityCode: string | null;
  client: TokenClient;
}

/** Creates a random token; only its hash is stored. The secret is returned once. */
export async function createToken(
  db: EntityManager,
  input: { role: string; name: string; communityCode?: string | null; client?: string | null },
): Promise<CreatedToken> {
  const client = (input.client?.trim().toLowerCase() || TokenClient.API) as TokenClient;
  if (!Object.values(TokenClient).includes(client))
    throw new BadInput(`Unknown client "${input.client}". Use --client api (default) or --client addin.`, 'client');
  const role = parseRole(input.role);
  if (!role) throw new BadInput(`Unknown role "${input.role}". Use one of FINANCE, SUBGROUP, CHAIR, ANALYST.`, 'role');
  const name = input.name?.trim();
  if (!name) throw new BadInput('A token needs a --name label (who or what uses it).', 'name');
  const communityCode = input.communityCode?.trim() || null;
  if (role === Role.CHAIR && !communityCode) throw new BadInput('A CHAIR token needs --community CODE.', 'community');
  if (role !== Role.CHAIR && communityCode)
    throw new BadInput('Only CHAIR tokens are scoped to a community.', 'community');
  if (communityCode) {
    const [found] = await db.query('SELECT 1 FROM community WHERE code = $1', [communityCode]);
    if (!found) throw new BadInput(`Unknown community "${communityCode}".`, 'community');
  }
  const token = PREFIX + crypto.randomBytes(24).toString('base64url');
  const [row] = await db.query(
    `INSERT INTO api_token (name, role, community_code, token_hash, prefix, client) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [name, role, communityCode, hashToken(token), token.slice(0, 10), client],
  );
  return { id: row.id, token, role, name, communityCode, client };
}

export async function revokeToken(db: EntityManager, idOrPrefix: string): Promise<number> {
  const [row] = await db.query(
    `WITH revoked AS (UPDATE api_token SET revoked_at = now() WHERE revoked_at IS NULL AND (id::text = $1 OR prefix = $1) RETURNING id)
     SELECT count(*)::int AS n FROM revoked`,
    [idOrPrefix],
  );
  return row.n;
}

export async function viewerForToken(db: EntityManager, token: string): Promise<Viewer | null> {
  const [row] = await db.query(
    `SELECT id, name, role, community_code, client FROM api_token WHERE token_hash = $1 AND revoked_at IS NULL`,
    [hashToken(token)],
  );
  if (!row) return null;
  return {
    subject: `token:${row.id}`,
    name: row.name,
    role: row.role,
    communityCode: row.community_code,
    via: 'token',
    client: row.client === TokenClient.ADDIN ? 'ADDIN' : 'API',
  };
}

/** Time as the hub sees it; tests pass a clock they move by hand instead of sleeping. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/** How long one process trusts an authentication it has made: a revoked token stops working within this. */
export const TOKEN_CACHE_MS = 5000;

/**
 * Per-process cache of successful authentications by Authorization header, so a burst of requests costs one
 * token look-up. Failures are never cached: a token made a moment ago works at once.
 */
export function createViewerCache(opts: { ttlMs?: number; clock?: Clock; maxEntries?: number } = {}) {
  const ttlMs = opts.ttlMs ?? TOKEN_CACHE_MS;
  const clock = opts.clock ?? systemClock;
  const maxEntries = opts.maxEntries ?? 10000;
  const entries = new Map<string, { viewer: Viewer; until: number }>();
  return {
    /** The viewer this header authenticated as, while that is still trusted; else undefined (nothing is checked). */
    peek(header: string | undefined): Viewer | undefined {
      const hit = header === undefined ? undefined : entries.get(header);
      return hit && hit.until > clock.now() ? hit.viewer : undefined;
    },
    async get(header: string | undefined, authenticate: () => Promise<Viewer>): Promise<Viewer> {
      const hit = header === undefined ? undefined : entries.get(header);
      if (hit && hit.until > clock.now()) return hit.viewer;
      const viewer = await authenticate();
      if (header !== undefined && ttlMs > 0) {
        if (entries.size >= maxEntries) entries.clear();
        entries.set(header, { viewer, until: clock.now() + ttlMs });
      }
      return viewer;
    },
  };
}
