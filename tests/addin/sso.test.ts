/**
 * Sign-in with Microsoft (Office single sign-on) over the fake Office host: OfficeRuntime.auth.getAccessToken
 * is a stub the tests drive (addin/src/dev/fake-office.ts), the hub is the in-process fake.
 */
import { installFakeOffice } from '../../addin/src/dev/fake-office';
import { HubRequestError } from '../../addin/src/core/graphql';
import { authConfigUrl, expiresSoon, jwtExpiry, SSO_MESSAGES, SsoError, toSsoError } from '../../addin/src/core/sso';
import { ExcelGateway } from '../../addin/src/gateway/excel';
import { OfficeSignIn, SSO_OPTIONS } from '../../addin/src/gateway/office-auth';
import { AddinActions } from '../../addin/src/app/actions';
import { session } from '../../addin/src/shared/session';
import { FakeHub } from './helpers/fake-hub';

const OIDC = {
  issuer: 'https://login.microsoftonline.com/t/v2.0',
  audience: 'api://localhost:3000/abc',
  clientId: 'abc',
};

function setup() {
  const host = installFakeOffice(globalThis);
  const hub = new FakeHub();
  hub.authConfig = { oidc: OIDC };
  const actions = new AddinActions({
    port: new ExcelGateway(),
    signIn: new OfficeSignIn(),
    fetchImpl: hub.fetch,
    now: () => new Date('2025-06-01T09:00:00Z'),
  });
  return { host, hub, actions };
}

/** An unsigned JWT-shaped token (the fake hub only looks it up by value) with the given exp. */
function jwtLike(sub: string, expSeconds: number): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'RS256' })}.${b64({ sub, exp: expSeconds })}.sig`;
}

afterEach(() => {
  const s = session();
  s.client = undefined;
  s.me = undefined;
  s.token = undefined;
  s.via = undefined;
});

describe('sign-in with Microsoft (Office single sign-on)', () => {
  it("reads the hub's sign-in settings from /auth/config beside /graphql, and treats an older hub as tokens only", async () => {
    const { actions, hub } = setup();
    expect(authConfigUrl('https://hub.example/graphql/')).toBe('https://hub.example/auth/config');
    expect(authConfigUrl('', 'https://localhost:3000')).toBe('https://localhost:3000/auth/config');
    expect(await actions.authConfig('http://hub.test')).toEqual({ oidc: OIDC });
    hub.authConfig = { oidc: null };
    expect(await actions.authConfig('http://hub.test')).toEqual({ oidc: null });
    const old = new AddinActions({
      port: new ExcelGateway(),
      fetchImpl: (async () => new Response('not found', { status: 404 })) as typeof fetch,
    });
    expect(await old.authConfig('http://hub.test')).toEqual({ oidc: null });
    const down = new AddinActions({
      port: new ExcelGateway(),
      fetchImpl: (async () => Promise.reject(new TypeError('ECONNREFUSED'))) as typeof fetch,
    });
    expect(await down.authConfig('http://hub.test')).toEqual({ oidc: null });
  });

  it('asks Office for a token with the prompts allowed, uses it as the bearer and knows who you are', async () => {
    const { actions, host, hub } = setup();
    hub.data.tokens['entra-token-1'] = { name: 'Pat Finance', role: 'FINANCE', communityCode: null };
    host.auth.respond = () => 'entra-token-1';
    const me = await actions.signInWithMicrosoft('http://hub.test');
    expect(me).toEqual({ name: 'Pat Finance', role: 'FINANCE', communityCode: null });
    expect(host.auth.calls).toEqual([{ allowSignInPrompt: true, allowConsentPrompt: true, forMSGraphAccess: false }]);
    expect(SSO_OPTIONS).toEqual({ allowSignInPrompt: true, allowConsentPrompt: true, forMSGraphAccess: false });
    expect(session()).toMatchObject({ via: 'microsoft', token: 'entra-token-1', me });
    await actions.insert('schools', {});
    const everything = JSON.stringify(host.workbook.sheets.map((s) => s.grid()));
    expect(everything).not.toContain('entra-token-1');
    expect(everything).toContain('by Pat Finance (FINANCE)');
    expect([...host.storage.values()].join()).not.toContain('entra-token-1');
  });

  it('after a 401 gets a fresh token from Office silently and sends the request again', async () => {
    const { actions, host, hub } = setup();
    hub.data.tokens['entra-token-1'] = { name: 'Chris Chair', role: 'CHAIR', communityCode: 'ASH-01' };
    let n = 0;
    host.auth.respond = () => `entra-token-${++n}`;
    await actions.signInWithMicrosoft('http://hub.test');
    // The hub stops accepting the first token (it expired there); Office has a new one.
    delete hub.data.tokens['entra-token-1'];
    hub.data.tokens['entra-token-2'] = { name: 'Chris Chair', role: 'CHAIR', communityCode: 'ASH-01' };
    const before = hub.requests;
    const r = await actions.insert('schools', {});
    expect(r.rows).toBeGreaterThan(0);
    expect(host.auth.calls).toHaveLength(2);
    expect(session().token).toBe('entra-token-2');
    expect(hub.requests - before).toBe(2); // the refused request and its retry
  });

  it('asks the person only when the fresh token is refused too, saying so', async () => {
    const { actions, host, hub } = setup();
    hub.data.tokens['entra-token-1'] = { name: 'Pat Finance', role: 'FINANCE', communityCode: null };
    let n = 0;
    host.auth.respond = () => `entra-token-${++n}`;
    await actions.signInWithMicrosoft('http://hub.test');
    delete hub.data.tokens['entra-token-1'];
    await expect(actions.insert('schools', {})).rejects.toMatchObject({ kind: 'UNAUTHENTICATED' });
    expect(host.auth.calls).toHaveLength(2);
    // Office failing to renew is an UNAUTHENTICATED too (the pane then shows the connect form), with Office's reason.
    host.auth.respond = () => Promise.reject({ code: 13001, message: 'not signed in' });
    const err = await actions.insert('schools', {}).catch((e) => e);
    expect(err).toBeInstanceOf(HubRequestError);
    expect(err.kind).toBe('UNAUTHENTICATED');
    expect(err.message).toContain(SSO_MESSAGES[13001]);
  });

  it('swaps a token about to expire before sending, one getAccessToken for concurrent requests', async () => {
    const { actions, host, hub } = setup();
    const soon = jwtLike('u1', Math.floor(Date.now() / 1000) + 30);
    const later = jwtLike('u1', Math.floor(Date.now() / 1000) + 3600);
    expect(jwtExpiry(later)).toBe((Math.floor(Date.now() / 1000) + 3600) * 1000);
    expect([expiresSoon(soon), expiresSoon(later), expiresSoon('hnh_plain-token')]).toEqual([true, false, false]);
    hub.data.tokens[soon] = { name: 'Pat Finance', role: 'FINANCE', communityCode: null };
    hub.data.tokens[later] = { name: 'Pat Finance', role: 'FINANCE', communityCode: null };
    const queue = [soon, later];
    host.auth.respond = () => queue.shift() ?? later;
    // The first token is within the margin already: the Me request itself goes out with the fresh one.
    await actions.signInWithMicrosoft('http://hub.test');
    expect(session().token).toBe(later);
    expect(host.auth.calls).toHaveLength(2);
    session().token = soon;
    await Promise.all([
      actions.listTables(),
      session().client!.request('{ me { name } }'),
      session().client!.request('{ me { role } }'),
    ]);
    expect(host.auth.calls).toHaveLength(3);
    expect(session().token).toBe(later);
  });

  it.each([
    [13001, /not signed in to Office/],
    [13002, /cancelled/],
    [13003, /work .*account/],
    [13006, /client error/],
    [13008, /still busy/],
    [13012, /does not support single sign-on/],
  ])('maps Office error %i to words and stays disconnected, pointing at the token field', async (code, words) => {
    const { actions, host, hub } = setup();
    host.auth.respond = () => {
      throw { code, name: 'SSO error', message: `Office says ${code}` };
    };
    const err = await actions.signInWithMicrosoft('http://hub.test').catch((e) => e);
    expect(err).toBeInstanceOf(SsoError);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(words);
    expect(err.message).toMatch(/token/);
    expect(session().client).toBeUndefined();
    expect(session().via).toBeUndefined();
    expect(hub.requests).toBe(0);
  });

  it('names an unexpected Office error by its code, and treats a host without OfficeRuntime.auth as 13012', async () => {
    expect(toSsoError({ code: 13007, message: 'boom' }).message).toBe(
      'Sign-in with Microsoft failed (Office error 13007): boom. Use a hub token instead.',
    );
    expect(toSsoError(new Error('weird')).message).toMatch(/failed: weird/);
    const { actions } = setup();
    delete (globalThis as any).OfficeRuntime.auth;
    await expect(actions.signInWithMicrosoft('http://hub.test')).rejects.toMatchObject({
      code: 13012,
      message: SSO_MESSAGES[13012],
    });
    const noGateway = new AddinActions({ port: new ExcelGateway() });
    await expect(noGateway.signInWithMicrosoft('http://hub.test')).rejects.toBeInstanceOf(SsoError);
  });

  it('a token connection after a Microsoft one no longer refreshes through Office', async () => {
    const { actions, host, hub } = setup();
    hub.data.tokens['entra-token-1'] = { name: 'Pat Finance', role: 'FINANCE', communityCode: null };
    host.auth.respond = () => 'entra-token-1';
    await actions.signInWithMicrosoft('http://hub.test');
    await actions.connect('http://hub.test', 'analyst-token');
    expect(session()).toMatchObject({ via: 'token', token: 'analyst-token', me: { role: 'ANALYST' } });
    hub.data.tokens['analyst-token'] = undefined as never;
    await expect(actions.listTables().then(() => actions.insert('schools', {}))).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
    });
    expect(host.auth.calls).toHaveLength(1);
  });
});
