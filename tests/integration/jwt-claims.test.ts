import { exportJWK, generateKeyPair, SignJWT, createLocalJWKSet, JWK } from 'jose';
import { startTestHub, TestHub } from '../helpers/hub';

const ISSUER = 'https://login.microsoftonline.com/claims-tenant/v2.0';
const AUDIENCE = 'api://high-needs-hub';
let t: TestHub;
let key: CryptoKey;
const now = () => Math.floor(Date.now() / 1000);

/** Signs exactly the claims given (no defaults), as a hostile or broken issuer might. */
const sign = (claims: Record<string, unknown>) =>
  new SignJWT({ iss: ISSUER, aud: AUDIENCE, ...claims }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(key);

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  key = privateKey as CryptoKey;
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
  t = await startTestHub({
    oidc: { issuer: ISSUER, audience: AUDIENCE, jwksUrl: 'unused://', roleClaim: 'roles', communityClaim: 'community' },
    jwtKeys: createLocalJWKSet({ keys: [jwk] }),
  });
}, 180_000);
afterAll(() => t?.stop());

const ME = '{ me { name role communityCode } }';
const good = () => ({ sub: 'person-1', roles: ['Analyst'], iat: now(), exp: now() + 3600 });

describe('JWTs checked as Entra ID issues them', () => {
  it('accepts a well-formed Entra access token', async () => {
    const r = await t.gql(ME, {}, await sign(good()));
    expect(r.status).toBe(200);
    expect(r.body.data.me.role).toBe('ANALYST');
  });

  it.each([
    ['no exp', { exp: undefined }, /exp/],
    ['exp a century ahead', { exp: now() + 100 * 365 * 24 * 3600 }, /exp/],
    ['exp two days ahead', { exp: now() + 2 * 24 * 3600 }, /exp/],
    ['no iat', { iat: undefined }, /iat/],
    ['iat a day ahead', { iat: now() + 24 * 3600 }, /iat/],
    ['nbf an hour ahead', { nbf: now() + 3600 }, /nbf/],
    ['no sub or oid', { sub: undefined }, /subject/],
    ['an empty sub', { sub: '' }, /subject/],
    ['a Chair community that does not exist', { roles: ['Chair'], community: 'NOPE-99' }, /does not exist/],
  ])('refuses a token with %s (401)', async (_label, change, why) => {
    const claims: Record<string, unknown> = { ...good(), ...change };
    for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
    const r = await t.gql(ME, {}, await sign(claims));
    expect(r.status).toBe(401);
    expect(r.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(r.body.errors[0].message).toMatch(why);
  });

  it('uses oid when there is no sub, and keeps two people apart', async () => {
    const a = await sign({ ...good(), sub: undefined, oid: 'object-a', roles: ['SubGroup'] });
    const b = await sign({ ...good(), sub: undefined, oid: 'object-b', roles: ['SubGroup'] });
    const made = await t.gql('mutation { createScenario(name: "A private") { id } }', {}, a);
    expect(made.status).toBe(200);
    const seenByB = await t.gql('{ scenarios { id } }', {}, b);
    expect(seenByB.body.data.scenarios.map((s: { id: string }) => s.id)).not.toContain(
      made.body.data.createScenario.id,
    );
    const seenByA = await t.gql('{ scenarios { id } }', {}, a);
    expect(seenByA.body.data.scenarios.map((s: { id: string }) => s.id)).toContain(made.body.data.createScenario.id);
  });
});
