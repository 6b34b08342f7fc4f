import type { Viewer } from './roles';

/**
 * The audit log's source for a request, decided by authentication alone: a hub token issued for the add-in
 * (`token:create --client addin`) or an OIDC token whose azp/appid is the add-in's client id is ADDIN; any other
 * credential is API. No request header can change it.
 */
export function auditSourceOf(viewer: Viewer): 'ADDIN' | 'API' {
  return viewer.client === 'ADDIN' ? 'ADDIN' : 'API';
}
