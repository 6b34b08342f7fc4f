/**
 * The only module that calls OfficeRuntime.auth. Office asks Entra ID for an access token for the add-in's
 * own API (the manifest's <WebApplicationInfo>), prompting for sign-in or consent only when it must; the
 * token is the hub's bearer and is never written to the workbook. Errors go up untouched: core/sso.ts
 * turns Office's codes into words.
 */
import type { SignInPort } from '../core/ports';

export const SSO_OPTIONS = { allowSignInPrompt: true, allowConsentPrompt: true, forMSGraphAccess: false } as const;

export class OfficeSignIn implements SignInPort {
  async getAccessToken(): Promise<string> {
    if (typeof OfficeRuntime === 'undefined' || !OfficeRuntime.auth?.getAccessToken) {
      // What Office itself answers in a host without the IdentityAPI requirement set.
      throw Object.assign(new Error('OfficeRuntime.auth is not available in this host'), { code: 13012 });
    }
    return OfficeRuntime.auth.getAccessToken({ ...SSO_OPTIONS });
  }
}
