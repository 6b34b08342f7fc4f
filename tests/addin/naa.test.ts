/**
 * Sign-in as Microsoft recommends: nested app authentication through MSAL.js first, the legacy Office SSO
 * when NAA is not available or fails, and the hub token field when both fail.
 */
import { installFakeOffice } from '../../addin/src/dev/fake-office';
import { authorityOf, hubScopes, OfficeSignIn, type NestableClient } from '../../addin/src/gateway/office-auth';

const oidc = {
  issuer: 'https://login.microsoftonline.com/kcc-tenant/v2.0',
  audience: 'api://hub.kent.example/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  clientId: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
};

function client(behaviour: { silent?: () => Promise<string>; popup?: () => Promise<string> }) {
  const calls: string[] = [];
  const made: { clientId: string; authority: string }[] = [];
  const c: NestableClient = {
    acquireTokenSilent: async (r) => {
      calls.push(`silent ${r.scopes.join(' ')}`);
      return { accessToken: await (behaviour.silent ?? (async () => 'naa-token'))() };
    },
    acquireTokenPopup: async (r) => {
      calls.push(`popup ${r.scopes.join(' ')}`);
      return { accessToken: await (behaviour.popup ?? (async () => 'popup-token'))() };
    },
  };
  return {
    calls,
    made,
    create: async (clientId: string, authority: string) => {
      made.push({ clientId, authority });
      return c;
    },
  };
}

describe('sign-in: nested app authentication first', () => {
  it("asks MSAL's nestable client for the hub's access_as_user scope on the tenant, silently, and never the legacy API", async () => {
    const host = installFakeOffice(globalThis);
    host.workbook.requirementSets.NestedAppAuth = '1.1';
    const c = client({});
    const s = new OfficeSignIn({ config: () => oidc, createClient: c.create });
    expect(await s.getAccessToken()).toBe('naa-token');
    expect(s.lastMethod).toBe('naa');
    expect(c.made).toEqual([{ clientId: oidc.clientId, authority: 'https://login.microsoftonline.com/kcc-tenant' }]);
    expect(c.calls).toEqual([`silent ${oidc.audience}/access_as_user`]);
    expect(host.auth.calls).toEqual([]);
    // The client is made once and reused.
    await s.getAccessToken();
    expect(c.made).toHaveLength(1);
  });

  it("shows Office's popup when consent is needed", async () => {
    const host = installFakeOffice(globalThis);
    host.workbook.requirementSets.NestedAppAuth = '1.1';
    const c = client({
      silent: () =>
        Promise.reject(
          Object.assign(new Error('AADSTS65001: consent required'), {
            name: 'InteractionRequiredAuthError',
            errorCode: 'consent_required',
          }),
        ),
    });
    const s = new OfficeSignIn({ config: () => oidc, createClient: c.create });
    expect(await s.getAccessToken()).toBe('popup-token');
    expect(c.calls.map((x) => x.split(' ')[0])).toEqual(['silent', 'popup']);
  });

  it('falls back to the legacy Office SSO where NAA fails or is not available, and says why when both fail', async () => {
    const host = installFakeOffice(globalThis);
    host.workbook.requirementSets.NestedAppAuth = '1.1';
    host.auth.respond = () => 'legacy-token';
    const broken = client({ silent: () => Promise.reject(new Error('no broker in this host')) });
    const s = new OfficeSignIn({ config: () => oidc, createClient: broken.create });
    expect(await s.getAccessToken()).toBe('legacy-token');
    expect(s).toMatchObject({ lastMethod: 'legacy', naaProblem: 'no broker in this host' });

    delete host.workbook.requirementSets.NestedAppAuth;
    const unused = client({});
    const old = new OfficeSignIn({ config: () => oidc, createClient: unused.create });
    expect(await old.getAccessToken()).toBe('legacy-token');
    expect(unused.made).toEqual([]);

    host.auth.respond = () => Promise.reject({ code: 13003, message: 'personal account' });
    await expect(old.getAccessToken()).rejects.toMatchObject({ code: 13003 });
  });

  it('stops at a cancelled popup rather than asking again another way', async () => {
    const host = installFakeOffice(globalThis);
    host.workbook.requirementSets.NestedAppAuth = '1.1';
    host.auth.respond = () => 'legacy-token';
    const c = client({
      silent: () => Promise.reject(Object.assign(new Error('x'), { name: 'InteractionRequiredAuthError' })),
      popup: () => Promise.reject(Object.assign(new Error('user cancelled'), { errorCode: 'user_cancelled' })),
    });
    await expect(
      new OfficeSignIn({ config: () => oidc, createClient: c.create }).getAccessToken(),
    ).rejects.toMatchObject({ code: 13002 });
    expect(host.auth.calls).toEqual([]);
  });

  it('derives scope and authority from what the hub publishes', () => {
    expect(hubScopes({ ...oidc, audience: oidc.clientId })).toEqual([`api://${oidc.clientId}/access_as_user`]);
    expect(authorityOf('https://sts.windows.net/x/')).toBe('https://login.microsoftonline.com/organizations');
  });
});
