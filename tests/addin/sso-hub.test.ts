/**
 * Sign-in with Microsoft against the REAL hub (tests/helpers/hub.ts) started with OIDC configured and keys made
 * here: the fake Office host's getAccessToken hands out JWTs signed with jose, as Entra ID would.
 */
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { installFakeOffice, type FakeHost } from '../../addin/src/dev/fake-office';
import { ExcelGateway } from '../../addin/src/gateway/excel';
import { OfficeSignIn } from '../../addin/src/gateway/office-auth';
import { AddinActions } from '../../addin/src/app/actions';
import { session } from '../../addin/src/shared/session';
import { startTestHub, type TestHub } from '../helpers/hub';

const ISSUER = 'https://login.microsoftonline.com/kcc-test/v2.0';
const CLIENT_ID = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const AUDIENCE = `api://localhost:3000/${CLIENT_ID}`;

let hub: TestHub;
let sign: (claims: Record<string, unknown>, expiresIn?: string) => Promise<string>;
let host: FakeHost;

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'entra-test', alg: 'RS256' };
  sign = (claims, expiresIn = '1h') =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'entra-test' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(String(claims.oid ?? 'user'))
      .setIssuedAt()
      .setExpirationTime(expiresIn)
      .sign(privateKey);
  hub = await startTestHub({
    oidc: {
      issuer: ISSUER,
      audience: AUDIENCE,
      clientId: CLIENT_ID,
      jwksUrl: 'unused://',
      roleClaim: 'roles',
      communityClaim: 'community',
    },
    jwtKeys: createLocalJWKSet({ keys: [jwk] }),
  });
}, 180_000);

afterAll(() => hub?.stop());

beforeEach(() => {
  host = installFakeOffice(globalThis);
  Object.assign(session(), { client: undefined, me: undefined, token: undefined, via: undefined });
});

const actions = () => new AddinActions({ port: new ExcelGateway(), signIn: new OfficeSignIn() });

describe('sign-in with Microsoft against the real hub', () => {
  it('the hub offers it at /auth/config, and the pane is connected as the person with their role', async () => {
    const a = actions();
    expect(await a.authConfig(hub.url)).toEqual({ oidc: { issuer: ISSUER, audience: AUDIENCE, clientId: CLIENT_ID } });
    const jwt = await sign({
      oid: 'u-chair',
      name: 'Alex Chair',
      roles: ['Chair'],
      community: hub.tokens.chairCommunity,
    });
    host.auth.respond = () => jwt;
    const me = await a.signInWithMicrosoft(hub.url);
    expect(me).toEqual({ name: 'Alex Chair', role: 'CHAIR', communityCode: hub.tokens.chairCommunity });
    const r = await a.insert('pots', {
      term: (await hub.gql('{ periods { fundingTerms { code } } }')).body.data.periods.fundingTerms[0].code,
    });
    expect(r.rows).toBeGreaterThan(0);
    const stamp = String(host.workbook.sheet(r.sheet)!.cell(0, 0)!.value);
    expect(stamp).toContain('by Alex Chair (CHAIR)');
    expect(JSON.stringify(host.workbook.sheets.map((s) => s.grid()))).not.toContain(jwt);
  });

  it("an expired sign-in is renewed from Office silently; a token without a hub role is refused with the hub's reason", async () => {
    const a = actions();
    const expired = await sign({ oid: 'u-fin', name: 'Pat Finance', roles: ['Finance'] }, '-5m');
    const fresh = await sign({ oid: 'u-fin', name: 'Pat Finance', roles: ['Finance'] });
    const queue = [expired, fresh];
    host.auth.respond = () => queue.shift() ?? fresh;
    // Office handing out a token that has already expired: the pane asks Office again before sending it.
    expect(await a.signInWithMicrosoft(hub.url)).toMatchObject({ name: 'Pat Finance', role: 'FINANCE' });
    expect(session().token).toBe(fresh);
    expect(host.auth.calls).toHaveLength(2);
    // The hub refusing a token the pane thought good (401) also gets one silent renewal and a retry.
    session().token = await sign({ oid: 'u-fin', name: 'Pat Finance', roles: ['Finance'] }, '1h').then(
      (t) => t.slice(0, -4) + 'AAAA',
    );
    host.auth.respond = () => fresh;
    expect((await a.insert('schools', { communityCode: hub.tokens.chairCommunity })).rows).toBeGreaterThan(0);
    expect(host.auth.calls).toHaveLength(3);
    expect(session().token).toBe(fresh);

    const reader = await sign({ oid: 'u-reader', name: 'No Role', roles: ['Reader'] });
    host.auth.respond = () => reader;
    await expect(actions().signInWithMicrosoft(hub.url)).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
      message: expect.stringMatching(/no hub role/),
    });
    // The failed attempt left the earlier session as it was.
    expect(session().me).toMatchObject({ name: 'Pat Finance' });
  });
});
