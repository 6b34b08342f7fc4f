import { exportJWK, generateKeyPair, SignJWT, createLocalJWKSet, JWK } from 'jose';
import { manualClock, startTestHub, TestHub } from '../helpers/hub';
import { createToken, revokeToken, TOKEN_CACHE_MS } from '../../server/auth/tokens';

const ISSUER = 'https://login.microsoftonline.com/test-tenant/v2.0';
const AUDIENCE = 'api://high-needs-hub';
let t: TestHub;
let sign: (
  claims: Record<string, unknown>,
  opts?: { issuer?: string; audience?: string; expiresIn?: string; key?: CryptoKey },
) => Promise<string>;
let otherKey: CryptoKey;
const clock = manualClock();

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  otherKey = (await generateKeyPair('RS256')).privateKey as CryptoKey;
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
  const keys = createLocalJWKSet({ keys: [jwk] });
  sign = (claims, o = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(o.issuer ?? ISSUER)
      .setAudience(o.audience ?? AUDIENCE)
      .setSubject('user-123')
      .setIssuedAt()
      .setExpirationTime(o.expiresIn ?? '10m')
      .sign(o.key ?? (privateKey as CryptoKey));
  t = await startTestHub({
    oidc: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: 'unused://', roleClaim: 'roles', communityClaim: 'community' },
    jwtKeys: keys,
    clock,
  });
});
afterAll(() => t?.stop());

const ME = '{ me { name role communityCode via } }';

describe('hub tokens', () => {
  it('refuses a request with no token as UNAUTHENTICATED with status 401', async () => {
    const r = await t.gql(ME, {}, null);
    expect(r.status).toBe(401);
    expect(r.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(r.body.errors[0].message).toMatch(/Authorization: Bearer/);
  });

  it('refuses an unknown token', async () => {
    const r = await t.gql(ME, {}, 'hnh_not-a-real-token');
    expect(r.status).toBe(401);
    expect(r.body.errors[0].message).toMatch(/unknown or revoked/);
  });

  it('identifies each demo role, scoping the Chair to a community', async () => {
    for (const role of ['FINANCE', 'SUBGROUP', 'ANALYST'] as const) {
      const r = await t.gql(ME, {}, t.tokens[role]);
      expect(r.body.data.me).toMatchObject({ role, communityCode: null, via: 'token' });
    }
    const chair = await t.gql(ME, {}, t.tokens.CHAIR);
    expect(chair.body.data.me).toMatchObject({ role: 'CHAIR', communityCode: t.tokens.chairCommunity });
  });

  it('stores only a hash of the token', async () => {
    const rows = await t.db.dataSource.query('SELECT token_hash, prefix FROM api_token');
    for (const r of rows) {
      expect(r.token_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(Object.values(t.tokens)).not.toContain(r.token_hash);
    }
  });

  it('stops accepting a revoked token once the authentication cache has expired, and not before', async () => {
    const made = await createToken(t.db.dataSource.manager, { role: 'ANALYST', name: 'short-lived' });
    expect((await t.gql(ME, {}, made.token)).status).toBe(200);
    expect(await revokeToken(t.db.dataSource.manager, made.id)).toBe(1);
    clock.advance(TOKEN_CACHE_MS - 1);
    expect((await t.gql(ME, {}, made.token)).status).toBe(200);
    clock.advance(1);
    const refused = await t.gql(ME, {}, made.token);
    expect(refused.status).toBe(401);
    expect(refused.body.errors[0].message).toMatch(/unknown or revoked/);
  });

  it('accepts a token made after a refused attempt at once: failures are never cached', async () => {
    const made = await createToken(t.db.dataSource.manager, { role: 'SUBGROUP', name: 'new' });
    await revokeToken(t.db.dataSource.manager, made.id);
    expect((await t.gql(ME, {}, made.token)).status).toBe(401);
    await t.db.dataSource.query('UPDATE api_token SET revoked_at = NULL WHERE id = $1', [made.id]);
    expect((await t.gql(ME, {}, made.token)).body.data.me).toMatchObject({ role: 'SUBGROUP', name: 'new' });
  });

  it('refuses to create a Chair token without a community, or for an unknown role', async () => {
    await expect(createToken(t.db.dataSource.manager, { role: 'CHAIR', name: 'x' })).rejects.toThrow(/--community/);
    await expect(createToken(t.db.dataSource.manager, { role: 'ADMIN', name: 'x' })).rejects.toThrow(
      /Unknown role "ADMIN"/,
    );
    await expect(
      createToken(t.db.dataSource.manager, { role: 'CHAIR', name: 'x', communityCode: 'ZZZ-99' }),
    ).rejects.toThrow(/Unknown community/);
  });
});

describe('OpenID Connect tokens', () => {
  it('accepts a JWT from the configured issuer and takes the role from the roles claim', async () => {
    const jwt = await sign({ roles: ['Finance'], name: 'Pat Finance' });
    const r = await t.gql(ME, {}, jwt);
    expect(r.body.data.me).toEqual({ name: 'Pat Finance', role: 'FINANCE', communityCode: null, via: 'jwt' });
  });

  it('scopes a Chair JWT to the community claim', async () => {
    const jwt = await sign({ roles: ['CHAIR'], community: t.tokens.chairCommunity, name: 'A Chair' });
    const r = await t.gql(ME, {}, jwt);
    expect(r.body.data.me).toMatchObject({ role: 'CHAIR', communityCode: t.tokens.chairCommunity });
  });

  it.each([
    ['a wrong audience', { audience: 'api://other' }, /aud/],
    ['a wrong issuer', { issuer: 'https://evil.example/v2.0' }, /iss/],
    ['an expired token', { expiresIn: '-1m' }, /exp/],
  ])('refuses %s', async (_label, opts, why) => {
    const jwt = await sign({ roles: ['FINANCE'] }, opts as any);
    const r = await t.gql(ME, {}, jwt);
    expect(r.status).toBe(401);
    expect(r.body.errors[0].message).toMatch(why);
  });

  it('refuses a JWT signed by another key', async () => {
    const jwt = await sign({ roles: ['FINANCE'] }, { key: otherKey });
    expect((await t.gql(ME, {}, jwt)).status).toBe(401);
  });

  it('refuses a JWT with no hub role', async () => {
    const r = await t.gql(ME, {}, await sign({ roles: ['Reader'] }));
    expect(r.status).toBe(401);
    expect(r.body.errors[0].message).toMatch(/no hub role/);
  });

  it('publishes the sign-in settings at /auth/config without a token', async () => {
    const res = await fetch(`${t.url}/auth/config`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ oidc: { issuer: ISSUER, audience: AUDIENCE, clientId: 'high-needs-hub' } });
  });
});
