import http from 'node:http';
import express from 'express';
import { authConfigRouter } from '../../server/http/auth-config';
import type { OidcConfig } from '../../server/config';

async function get(oidc: OidcConfig | null): Promise<{ status: number; body: any; headers: Headers }> {
  const app = express();
  app.use(authConfigRouter(oidc));
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/auth/config`);
    return { status: res.status, body: await res.json(), headers: res.headers };
  } finally {
    await new Promise((r) => server.close(r));
  }
}

describe('GET /auth/config', () => {
  const oidc: OidcConfig = {
    issuer: 'https://login.microsoftonline.com/t/v2.0',
    audience: 'api://localhost:3000/abc',
    jwksUrl: 'https://keys',
    roleClaim: 'roles',
    communityClaim: 'community',
  };

  it('says there is no sign-in when OIDC is not configured', async () => {
    expect(await get(null)).toMatchObject({ status: 200, body: { oidc: null } });
  });

  it('gives issuer, audience and client id (and nothing else) when it is', async () => {
    const r = await get({ ...oidc, clientId: 'abc' });
    expect(r.body).toEqual({ oidc: { issuer: oidc.issuer, audience: oidc.audience, clientId: 'abc' } });
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect((await get({ ...oidc, audience: 'api://def' })).body.oidc.clientId).toBe('def');
  });
});
