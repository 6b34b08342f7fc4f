import { createRemoteJWKSet, jwtVerify, JWTVerifyGetKey } from 'jose';
import { oidcClientId, type OidcConfig } from '../config';
import { parseRole, Role, Viewer } from './roles';

export type JwtVerifier = (token: string) => Promise<Viewer>;

/**
 * Verifies OpenID Connect access tokens (Microsoft Entra ID in production) against the configured issuer,
 * audience and JWKS. The role comes from a claim (Entra app roles arrive as the `roles` array).
 */
export function createJwtVerifier(cfg: OidcConfig, keys?: JWTVerifyGetKey): JwtVerifier {
  const jwks = keys ?? createRemoteJWKSet(new URL(cfg.jwksUrl), { cooldownDuration: 30_000, timeoutDuration: 5_000 });
  return async (token) => {
    const { payload } = await jwtVerify(token, jwks, { issuer: cfg.issuer, audience: cfg.audience, clockTolerance: 30 });
    const claim = payload[cfg.roleClaim];
    const candidates = Array.isArray(claim) ? claim : [claim];
    // A person with several app roles acts with the most powerful one.
    const order = [Role.FINANCE, Role.SUBGROUP, Role.CHAIR, Role.ANALYST];
    const roles = candidates.map(parseRole).filter((r): r is Role => r !== null);
    const role = order.find((r) => roles.includes(r));
    if (!role) throw new Error(`token has no hub role in claim "${cfg.roleClaim}"`);
    const community = payload[cfg.communityClaim];
    if (role === Role.CHAIR && typeof community !== 'string') {
      throw new Error(`CHAIR token has no community in claim "${cfg.communityClaim}"`);
    }
    const name = (payload.name as string) || (payload.preferred_username as string) || String(payload.sub);
    // The client that obtained the token (v2 azp, v1 appid), signed by the issuer: the add-in cannot be imitated.
    const addinId = cfg.addinClientId ?? oidcClientId(cfg);
    const azp = typeof payload.azp === 'string' ? payload.azp : typeof payload.appid === 'string' ? payload.appid : null;
    return {
      client: azp !== null && azp === addinId ? 'ADDIN' : 'API',
      subject: `jwt:${payload.sub}`,
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
