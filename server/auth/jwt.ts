import { createRemoteJWKSet, jwtVerify, JWTVerifyGetKey } from 'jose';
import { oidcClientId, type OidcConfig } from '../config';
import { parseRole, Role, Viewer } from './roles';

export type JwtVerifier = (token: string) => Promise<Viewer>;

/** Entra ID's access tokens live 60-90 minutes; anything claiming to live longer than a day is refused. */
export const MAX_JWT_LIFETIME_S = 24 * 3600;
/** Clock skew allowed on exp, nbf and iat. */
export const JWT_CLOCK_SKEW_S = 60;

export interface JwtChecks {
  /** Does this community exist? A Chair token for one that does not is refused. */
  communityExists(code: string): Promise<boolean>;
  now?: () => number;
}

/**
 * Verifies OpenID Connect access tokens (Microsoft Entra ID in production) against the configured issuer,
 * audience and JWKS, with the claims Entra always issues: `exp` (required, at most a day ahead), `iat` and
 * `nbf` (not in the future beyond a minute's skew), and `sub` (or `oid`) as the person's identity: tokens
 * without one would all be one person. The role comes from a claim (Entra app roles arrive as `roles`).
 */
export function createJwtVerifier(cfg: OidcConfig, keys?: JWTVerifyGetKey, checks?: JwtChecks): JwtVerifier {
  const jwks = keys ?? createRemoteJWKSet(new URL(cfg.jwksUrl), { cooldownDuration: 30_000, timeoutDuration: 5_000 });
  return async (token) => {
    const nowS = Math.floor((checks?.now?.() ?? Date.now()) / 1000);
    const { payload } = await jwtVerify(token, jwks, {
      issuer: cfg.issuer,
      audience: cfg.audience,
      clockTolerance: JWT_CLOCK_SKEW_S,
      requiredClaims: ['exp', 'iat'],
      currentDate: new Date(nowS * 1000),
    });
    if (typeof payload.exp !== 'number' || payload.exp - nowS > MAX_JWT_LIFETIME_S) {
      throw new Error(`token expiry (exp) is more than ${MAX_JWT_LIFETIME_S / 3600} hours ahead`);
    }
    if (typeof payload.iat !== 'number' || payload.iat - nowS > JWT_CLOCK_SKEW_S)
      throw new Error('token issued in the future (iat)');
    if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf - nowS > JWT_CLOCK_SKEW_S))
      throw new Error('token not valid yet (nbf)');
    const id =
      typeof payload.sub === 'string' && payload.sub
        ? payload.sub
        : typeof payload.oid === 'string' && payload.oid
          ? payload.oid
          : null;
    if (!id) throw new Error('token has no subject (sub or oid)');
    const claim = payload[cfg.roleClaim];
    const candidates = Array.isArray(claim) ? claim : [claim];
    // A person with several app roles acts with the most powerful one.
    const order = [Role.FINANCE, Role.SUBGROUP, Role.CHAIR, Role.ANALYST];
    const roles = candidates.map(parseRole).filter((r): r is Role => r !== null);
    const role = order.find((r) => roles.includes(r));
    if (!role) throw new Error(`token has no hub role in claim "${cfg.roleClaim}"`);
    const community = payload[cfg.communityClaim];
    if (role === Role.CHAIR) {
      if (typeof community !== 'string' || community === '' || community.length > 16)
        throw new Error(`CHAIR token has no community in claim "${cfg.communityClaim}"`);
      if (checks && !(await checks.communityExists(community)))
        throw new Error(`CHAIR token names community "${community}", which does not exist`);
    }
    const str = (v: unknown) => (typeof v === 'string' && v ? v.slice(0, 160) : null);
    const name = str(payload.name) ?? str(payload.preferred_username) ?? id.slice(0, 160);
    // The client that obtained the token (v2 azp, v1 appid), signed by the issuer: the add-in cannot be imitated.
    const addinId = cfg.addinClientId ?? oidcClientId(cfg);
    const azp =
      typeof payload.azp === 'string' ? payload.azp : typeof payload.appid === 'string' ? payload.appid : null;
    return {
      client: azp !== null && azp === addinId ? 'ADDIN' : 'API',
      subject: `jwt:${id}`,
      name,
      role,
      communityCode: role === Role.CHAIR ? (community as string) : null,
      via: 'jwt',
    };
  };
}

/** JWTs have three base64url segments; hub tokens start with hnh_. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}
