/**
 * The only module that talks to Office's sign-in. As Microsoft recommends, nested app authentication
 * (NAA) through MSAL.js first: createNestablePublicClientApplication lets the add-in ask Entra ID for a token
 * for the hub through the Office host's own signed-in account (silently, or with a popup when consent is
 * needed). Where NAA is not available (the NestedAppAuth requirement set is missing, or MSAL cannot broker
 * here) it falls back to the legacy Office single sign-on (OfficeRuntime.auth.getAccessToken); when that
 * fails too, the person uses a hub token. The token is the hub's bearer and is never written to the workbook.
 * Errors go up untouched: core/sso.ts turns Office's codes into words.
 */
import type { SignInPort } from '../core/ports';
import type { AuthConfig } from '../core/sso';
import { has } from './excel';

export const SSO_OPTIONS = { allowSignInPrompt: true, allowConsentPrompt: true, forMSGraphAccess: false } as const;

/** The part of MSAL's nestable client the add-in uses (so tests can hand in their own). */
export interface NestableClient {
  acquireTokenSilent(req: { scopes: string[] }): Promise<{ accessToken: string }>;
  acquireTokenPopup(req: { scopes: string[] }): Promise<{ accessToken: string }>;
}

export interface OfficeSignInOptions {
  /** What the hub said about sign-in (GET /auth/config): client id and audience of its Entra app. */
  config: () => AuthConfig['oidc'] | undefined;
  /** Makes the MSAL nestable client; by default @azure/msal-browser's createNestablePublicClientApplication. */
  createClient?: (clientId: string, authority: string) => Promise<NestableClient>;
}

/** The hub's delegated scope: the API's application ID URI with access_as_user (README, Entra steps). */
export function hubScopes(oidc: NonNullable<AuthConfig['oidc']>): string[] {
  const base = oidc.audience.startsWith('api://') ? oidc.audience : `api://${oidc.audience}`;
  return [`${base.replace(/\/+$/, '')}/access_as_user`];
}

/** Entra's tenant from an issuer like https://login.microsoftonline.com/<tenant>/v2.0; "organizations" otherwise. */
export function authorityOf(issuer: string): string {
  const m = /^https:\/\/login\.microsoftonline\.com\/([^/]+)\//.exec(`${issuer.replace(/\/+$/, '')}/`);
  return `https://login.microsoftonline.com/${m ? m[1] : 'organizations'}`;
}

async function defaultClient(clientId: string, authority: string): Promise<NestableClient> {
  const msal = await import('@azure/msal-browser');
  return msal.createNestablePublicClientApplication({ auth: { clientId, authority } });
}

export class OfficeSignIn implements SignInPort {
  /** Which way the last token came: 'naa' (MSAL) or 'legacy' (OfficeRuntime.auth). */
  lastMethod: 'naa' | 'legacy' | null = null;
  /** Why NAA was not used, for the pane's message when the legacy sign-in fails as well. */
  naaProblem: string | null = null;
  private client: Promise<NestableClient> | null = null;
  private clientFor = '';

  constructor(private readonly opts: OfficeSignInOptions = { config: () => undefined }) {}

  async getAccessToken(): Promise<string> {
    const oidc = this.opts.config();
    if (oidc && has('NestedAppAuth', '1.1')) {
      try {
        const token = await this.naa(oidc);
        this.lastMethod = 'naa';
        this.naaProblem = null;
        return token;
      } catch (e) {
        // A cancelled popup is the person's answer: do not ask again through another route.
        if ((e as { errorCode?: string })?.errorCode === 'user_cancelled')
          throw Object.assign(new Error('Sign-in was cancelled'), { code: 13002 });
        this.naaProblem = (e as Error)?.message ?? String(e);
      }
    } else {
      this.naaProblem = oidc
        ? 'nested app authentication is not available in this version of Office'
        : 'the hub has no Microsoft sign-in';
    }
    if (typeof OfficeRuntime === 'undefined' || !OfficeRuntime.auth?.getAccessToken) {
      // What Office itself answers in a host without the IdentityAPI requirement set.
      throw Object.assign(new Error('OfficeRuntime.auth is not available in this host'), { code: 13012 });
    }
    const token = await OfficeRuntime.auth.getAccessToken({ ...SSO_OPTIONS });
    this.lastMethod = 'legacy';
    return token;
  }

  private async naa(oidc: NonNullable<AuthConfig['oidc']>): Promise<string> {
    const key = `${oidc.clientId}|${oidc.issuer}`;
    if (!this.client || this.clientFor !== key) {
      this.clientFor = key;
      this.client = (this.opts.createClient ?? defaultClient)(oidc.clientId, authorityOf(oidc.issuer));
    }
    const pca = await this.client;
    const scopes = hubScopes(oidc);
    try {
      return (await pca.acquireTokenSilent({ scopes })).accessToken;
    } catch (e) {
      // Consent or a fresh sign-in is needed: MSAL shows Office's own popup.
      const code = (e as { errorCode?: string; name?: string })?.name ?? '';
      if (
        code !== 'InteractionRequiredAuthError' &&
        !/interaction_required|consent_required|login_required/.test(String((e as { errorCode?: string })?.errorCode))
      )
        throw e;
      return (await pca.acquireTokenPopup({ scopes })).accessToken;
    }
  }
}
