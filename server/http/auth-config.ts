import { Router } from 'express';
import { OidcConfig, oidcClientId } from '../config';

/**
 * GET /auth/config: public (no token), so the add-in can decide before anyone signs in whether to offer
 * "Sign in with Microsoft" (Office single sign-on) next to the token field. Nothing secret is in it.
 */
export function authConfigRouter(oidc: OidcConfig | null): Router {
  const body = { oidc: oidc ? { issuer: oidc.issuer, audience: oidc.audience, clientId: oidcClientId(oidc) } : null };
  const router = Router();
  router.get('/auth/config', (_req, res) => {
    res.setHeader('cache-control', 'no-store');
    res.setHeader('access-control-allow-origin', '*');
    res.json(body);
  });
  return router;
}
