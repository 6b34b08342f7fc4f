import { exportJWK, generateKeyPair, SignJWT, createLocalJWKSet, JWK } from 'jose';
import { startTestHub, TestHub } from '../helpers/hub';
import { createToken } from '../../server/auth/tokens';

/*
 * Issue 11, item 6: the audit log's source comes from authentication (the token's client kind, or the OIDC
 * azp/appid), never from what the request says about itself.
 */
const ISSUER = 'https://login.microsoftonline.com/test-tenant/v2.0';
const AUDIENCE = 'api://hnh-client-id';
const ADDIN_CLIENT = 'hnh-client-id';
let t: TestHub;
let sign: (claims: Record<string, unknown>) => Promise<string>;

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
  sign = (claims) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('user-1')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey as CryptoKey);
  t = await startTestHub({
    // No addinClientId: it defaults to the OIDC client id, as OIDC_ADDIN_CLIENT_ID does.
    oidc: {
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUrl: 'unused://',
      roleClaim: 'roles',
      communityClaim: 'community',
      clientId: ADDIN_CLIENT,
    },
    jwtKeys: createLocalJWKSet({ keys: [jwk] }),
  });
});
afterAll(() => t?.stop());

/** Creates a scenario with these credentials and headers; returns the source its audit row records. */
async function auditedSource(token: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify({ query: 'mutation { createScenario(name: "Audit source") { id } }' }),
  });
  const body = await res.json();
  expect(body.errors).toBeUndefined();
  const [row] = await t.db.dataSource.query(
    `SELECT source FROM audit_log WHERE entity = 'SCENARIO' AND entity_id = $1`,
    [body.data.createScenario.id],
  );
  return row.source;
}

describe('the audit source', () => {
  it('ignores an x-hub-source header: an API token claiming to be the add-in is still audited as API', async () => {
    expect(await auditedSource(t.tokens.FINANCE, { 'x-hub-source': 'addin' })).toBe('API');
    expect(await auditedSource(t.tokens.SUBGROUP, { 'x-hub-source': 'ADDIN' })).toBe('API');
  });

  it('records ADDIN for a hub token made for the add-in (token:create --client addin), whatever the headers say', async () => {
    const addin = await createToken(t.db.dataSource.manager, {
      role: 'FINANCE',
      name: 'Excel add-in, Jo Bloggs',
      client: 'addin',
    });
    expect(addin.client).toBe('addin');
    expect(await auditedSource(addin.token)).toBe('ADDIN');
    expect(await auditedSource(addin.token, { 'x-hub-source': 'api' })).toBe('ADDIN');
    await expect(createToken(t.db.dataSource.manager, { role: 'FINANCE', name: 'x', client: 'excel' })).rejects.toThrow(
      /Unknown client "excel"/,
    );
  });

  it('records ADDIN for an OIDC token whose azp (v2) or appid (v1) is the add-in client id, API for any other client', async () => {
    expect(await auditedSource(await sign({ roles: ['Finance'], azp: ADDIN_CLIENT, name: 'Jo' }))).toBe('ADDIN');
    expect(await auditedSource(await sign({ roles: ['Finance'], appid: ADDIN_CLIENT, name: 'Jo' }))).toBe('ADDIN');
    expect(
      await auditedSource(await sign({ roles: ['Finance'], azp: 'some-script', name: 'Jo' }), {
        'x-hub-source': 'ADDIN',
      }),
    ).toBe('API');
    expect(await auditedSource(await sign({ roles: ['Finance'], name: 'Jo' }))).toBe('API');
  });
});
