import type { DataSource } from 'typeorm';
import { Unauthenticated } from '../errors';
import type { Viewer } from '../auth/roles';
import { viewerForToken } from '../auth/tokens';
import { JwtVerifier, looksLikeJwt } from '../auth/jwt';

/** Resolves the Authorization header to a viewer, or throws UNAUTHENTICATED saying what is wrong. */
export async function authenticate(
  header: string | undefined,
  deps: { dataSource: DataSource; jwt: JwtVerifier | null },
): Promise<Viewer> {
  if (!header)
    throw unauthenticated(
      'No Authorization header: send "Authorization: Bearer <token>". Tokens come from `npm run token:create`.',
    );
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw unauthenticated('The Authorization header must be "Bearer <token>".');
  const token = m[1];
  if (looksLikeJwt(token)) {
    if (!deps.jwt)
      throw unauthenticated('This hub does not accept sign-in tokens (JWT): OIDC is not configured. Use a hub token.');
    try {
      return await deps.jwt(token);
    } catch (err) {
      throw unauthenticated(`The sign-in token was refused: ${(err as Error).message}. Sign in again.`);
    }
  }
  const viewer = await viewerForToken(deps.dataSource.manager, token);
  if (!viewer)
    throw unauthenticated('The token is unknown or revoked. Ask Finance for a new one (npm run token:create).');
  return viewer;
}

function unauthenticated(message: string) {
  const err = new Unauthenticated(message);
  (err.extensions as Record<string, unknown>).http = { status: 401 };
  return err;
}
